#!/usr/bin/env python3
"""bench/login_flood.py: correct log-ins from addresses outside a flood of wrong ones.

    login_flood.py URL SECONDS [--flood-conns 300] [--flood-first 2] [--flood-addrs 30]
                               [--probe-first 40] [--probe-addrs 5]

The flood: --flood-conns connections spread over --flood-addrs loopback source addresses
(127.0.0.<flood-first> on), each posting wrong log-ins (random unknown mobile numbers) to
URL/api/v1/auth/token as fast as the answers come, whatever the answer (503, 429 and 401 alike:
an attacker does not wait). The probes: one connection per address from --probe-addrs other
loopback addresses (127.0.0.<probe-first> on), each logging the demo citizen in again and
again (returning users: each address logged in once before the flood starts); after a 503
or 429 a probe waits what Retry-After says (at most 5 s), as an app does. Linux routes all of 127.0.0.0/8 to the loopback interface, so binding the source address
is all it takes; the server must not trust X-Forwarded-For. Prints one JSON line:
{"probe": {"n", "ok", "miss", "p50_ms", "p99_ms", "max_ms", "by_status"},
 "flood": {"n", "by_status"}, "seconds"}. A probe answered other than 201 is a miss.
"""
import asyncio
import json
import random
import sys
import time
from urllib.parse import urlsplit

LOGIN = "13800000001"
PASSWORD = "Qinghe-demo-2026"


def request(host, login, password):
    body = json.dumps({"login": login, "password": password, "channel": "other", "scopes": "profile"}).encode()
    head = (f"POST /api/v1/auth/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def exchange(reader, writer, data):
    """Sends one request; returns (status, Retry-After seconds); status 0 when the connection
    broke, negative when the server closes it after this answer."""
    writer.write(data)
    await writer.drain()
    line = await reader.readline()
    if not line:
        return 0, 0
    status = int(line.split()[1])
    length, close, retry = 0, False, 0
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.lower() == "close":
            close = True
        elif name == "retry-after" and value.isdigit():
            retry = int(value)
    if length:
        await reader.readexactly(length)
    return (-status if close else status), retry


class Conn:
    def __init__(self, host, port, source):
        self.host, self.port, self.source = host, port, source
        self.reader = self.writer = None

    async def send(self, data):
        """(status, Retry-After)."""
        for _ in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port, local_addr=(self.source, 0))
            try:
                st, retry = await exchange(self.reader, self.writer, data)
            except (ConnectionError, asyncio.IncompleteReadError):
                st, retry = 0, 0
            if st <= 0:
                self.writer.close()
                self.writer = None
            if st != 0:
                return abs(st), retry
        return 0, 0


async def flood(host, port, source, stop, counts):
    c = Conn(host, port, source)
    while not stop.is_set():
        phone = "13" + "".join(random.choice("0123456789") for _ in range(9))
        try:
            st, _ = await c.send(request(f"{host}:{port}", phone, "wrong password %d" % random.randrange(10**9)))
        except OSError:
            st = 0
        counts[st] = counts.get(st, 0) + 1


async def probe(host, port, source, stop, lat, counts):
    c = Conn(host, port, source)
    data = request(f"{host}:{port}", LOGIN, PASSWORD)
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            st, retry = await c.send(data)
        except OSError:
            st, retry = 0, 0
        lat.append((time.monotonic() - t0, st))
        counts[st] = counts.get(st, 0) + 1
        if st in (429, 503) and retry:
            # As an app does: a refused log-in waits as long as the hall asks (at most 5 s).
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(retry, 5))
            except asyncio.TimeoutError:
                pass


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    url, seconds = args[0], float(args[1])
    opts = {"--flood-conns": 300, "--flood-first": 2, "--flood-addrs": 30, "--probe-first": 40, "--probe-addrs": 5}
    rest = args[2:]
    while rest:
        k, v, rest = rest[0], rest[1], rest[2:]
        opts[k] = int(v)
    u = urlsplit(url)
    host, port = u.hostname, u.port
    stop = asyncio.Event()
    fcounts, pcounts, lat = {}, {}, []
    # The probes are returning users: each address logged in once before the flood.
    for i in range(opts["--probe-addrs"]):
        c = Conn(host, port, "127.0.0.%d" % (opts["--probe-first"] + i))
        st, _ = await c.send(request(f"{host}:{port}", LOGIN, PASSWORD))
        if st != 201:
            sys.exit(f"a log-in before the flood answered {st}")
        c.writer.close()
    tasks = []
    for i in range(opts["--flood-conns"]):
        src = "127.0.0.%d" % (opts["--flood-first"] + i % opts["--flood-addrs"])
        tasks.append(asyncio.create_task(flood(host, port, src, stop, fcounts)))
    await asyncio.sleep(0.5)  # the flood fills the queue before the probes start
    for i in range(opts["--probe-addrs"]):
        src = "127.0.0.%d" % (opts["--probe-first"] + i)
        tasks.append(asyncio.create_task(probe(host, port, src, stop, lat, pcounts)))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait(tasks, timeout=30)
    for t in tasks:
        t.cancel()
    ok = [d for d, st in lat if st == 201]
    out = {
        "seconds": seconds,
        "probe": {"n": len(lat), "ok": len(ok), "miss": len(lat) - len(ok),
                  "p50_ms": round(pct([d for d, _ in lat], 50) * 1000, 1),
                  "p99_ms": round(pct([d for d, _ in lat], 99) * 1000, 1),
                  "max_ms": round(max([d for d, _ in lat], default=0) * 1000, 1),
                  "by_status": {str(k): v for k, v in sorted(pcounts.items())}},
        "flood": {"n": sum(fcounts.values()), "by_status": {str(k): v for k, v in sorted(fcounts.items())}},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
