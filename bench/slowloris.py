#!/usr/bin/env python3
"""Holds many slow-header connections against a server for a while, then lets them go.

    bench/slowloris.py URL CONNECTIONS ADDRESSES SECONDS

Opens CONNECTIONS connections to URL from ADDRESSES local addresses (127.0.0.10, .11, ...:
Linux routes all of 127/8 to the loopback), each sending a request head one byte per second
that never ends, as a slowloris client does. A connection the server closes (a deadline, a
per-address cap, a 503) is opened again, so CONNECTIONS are attempted all the time. Stops by
itself after SECONDS and prints one line of counts:

    slow: opened N, refused N (503), closed by the server N, connect errors N, held at the end N
"""
import asyncio
import resource
import sys
import urllib.parse

HEAD = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: "


async def main():
    url, conns, addrs, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    u = urllib.parse.urlsplit(url)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stats = {"opened": 0, "refused": 0, "closed": 0, "errors": 0, "open": 0, "held": 0}
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def one(i):
        local = (f"127.0.0.{10 + i % addrs}", 0)
        while loop.time() < end:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(u.hostname, u.port, local_addr=local), timeout=max(0.1, end - loop.time()))
            except (OSError, asyncio.TimeoutError):
                stats["errors"] += 1
                await asyncio.sleep(min(1.0, max(0.0, end - loop.time())))
                continue
            stats["opened"] += 1
            stats["open"] += 1
            try:
                writer.write(HEAD)
                n = 0
                while loop.time() < end:
                    try:
                        data = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                    except asyncio.TimeoutError:
                        writer.write(b"a")  # one more byte, never the end of the head
                        n += 1
                        continue
                    if b" 503 " in data[:16]:
                        stats["refused"] += 1
                    stats["closed"] += 1
                    break
            except OSError:
                stats["closed"] += 1
            finally:
                stats["open"] -= 1
                writer.close()

    async def sample():
        await asyncio.sleep(max(0.0, seconds - 0.5))
        stats["held"] = stats["open"]

    await asyncio.gather(sample(), *(one(i) for i in range(conns)))
    print(f"slow: opened {stats['opened']}, refused {stats['refused']} (503), closed by the server "
          f"{stats['closed']}, connect errors {stats['errors']}, held at the end {stats['held']}")


if __name__ == "__main__":
    asyncio.run(main())
