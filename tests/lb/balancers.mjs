// balancers.mjs: deploy/haproxy.cfg and deploy/nginx.conf run as they ship, in front of govhall
// nodes on the test's PostgreSQL. The files are used verbatim except for what a test machine
// must change: addresses, ports and file paths (each replacement must match the file exactly
// once, so the files cannot drift away from what is tested). HAProxy and nginx run as root, as
// their Debian units start them, with TLS on a throwaway self-signed certificate.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

import { freePort, root, waitFor } from '../api/helpers.mjs';

export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 8 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A self-signed certificate for 127.0.0.1: {cert, key, pem (both, for HAProxy)} paths. */
export async function certificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=hall.example.gov.cn', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:hall.example.gov.cn',
    '-days', '2', '-keyout', key, '-out', cert]);
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
  const pem = path.join(dir, 'hall.pem');
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  return { cert, key, pem, ca: readFileSync(cert) };
}

/**
 * The hard limit on open files of this process (and of the balancers it starts): a test
 * machine may allow fewer descriptors than the shipped limits ask for.
 */
export function hardFileLimit() {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** text with each [from, to] replaced; from must occur exactly once. */
export function rewrite(text, pairs, file) {
  for (const [from, to] of pairs) {
    const n = text.split(from).length - 1;
    if (n !== 1) throw new Error(`${file}: "${from}" occurs ${n} times (the test replaces it once)`);
    text = text.replace(from, () => to);
  }
  return text;
}

function child(cmd, args) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => out.push(d));
  proc.stderr.on('data', (d) => out.push(d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
  return { proc, exited, output: () => out.join('') };
}

async function listening(port, lb) {
  await waitFor(() => new Promise((resolve) => {
    if (lb.proc.exitCode !== null) throw new Error(`exited at start:\n${lb.output()}`);
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  }), { what: `port ${port} to accept connections`, timeout: 30_000 });
}

/**
 * deploy/haproxy.cfg with its two servers on nodes [port1, port2]. Returns {port (TLS),
 * port80, stop(), info(), servers(), output()}.
 */
export async function haproxy(dir, nodes, cert) {
  const file = 'deploy/haproxy.cfg';
  const shipped = readFileSync(path.join(root, file), 'utf8');
  // HAProxy needs about 2 x maxconn + 40 descriptors; strict-limits refuses to start without
  // them. Where this machine allows fewer, the test runs with the maxconn that fits (and checks
  // the refusal of the shipped value in lb.test.mjs).
  const maxconn = Number(/^\s*maxconn (\d+)$/m.exec(shipped)[1]);
  const fits = Math.min(maxconn, Math.floor((hardFileLimit() - 100) / 2));
  const port = await freePort();
  const port80 = await freePort();
  const sock = path.join(dir, `haproxy-${port}.sock`);
  const cfg = rewrite(shipped, [
    [`    maxconn ${maxconn}\n`, `    maxconn ${fits}\n`],
    ['log /dev/log local0 notice', 'log stderr format raw local0 notice'],
    ['stats socket /run/haproxy/admin.sock', `stats socket ${sock}`],
    ['bind :443 ssl crt /etc/haproxy/certs/govhall.pem', `bind 127.0.0.1:${port} ssl crt ${cert.pem}`],
    ['bind :80\n', `bind 127.0.0.1:${port80}\n`],
    ['server n1 10.0.0.11:8080', `server n1 127.0.0.1:${nodes[0]}`],
    ['server n2 10.0.0.12:8080', `server n2 127.0.0.1:${nodes[1]}`],
  ], file);
  const cfgPath = path.join(dir, `haproxy-${port}.cfg`);
  writeFileSync(cfgPath, cfg);
  const check = await run('haproxy', ['-c', '-f', cfgPath]);
  if (check.code !== 0) throw new Error(`haproxy -c: ${check.stdout}${check.stderr}`);
  const lb = child('haproxy', ['-db', '-f', cfgPath]);
  await listening(port, lb);
  const command = (c) => new Promise((resolve, reject) => {
    const s = net.connect(sock);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => { buf += d; });
    s.on('end', () => resolve(buf));
    s.on('error', reject);
    s.write(`${c}\n`);
  });
  return {
    kind: 'haproxy', port, port80, cfg, maxconn: fits, shippedCfg: shipped, output: lb.output,
    /** `show info` as an object (Maxconn, Ulimit-n, Maxsock, ...). */
    async info() {
      return Object.fromEntries((await command('show info')).split('\n').filter((l) => l.includes(': '))
        .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
    },
    /** {n1: 'UP' | 'DOWN' | ..., n2: ...} from `show stat`. */
    async servers() {
      const lines = (await command('show stat')).split('\n');
      const head = lines[0].replace(/^# /, '').split(',');
      const out = {};
      for (const l of lines.slice(1)) {
        const v = l.split(',');
        if (v[0] === 'nodes' && v[1] !== 'BACKEND') out[v[1]] = v[head.indexOf('status')];
      }
      return out;
    },
    async stop() {
      lb.proc.kill('SIGTERM');
      await lb.exited;
    },
  };
}

/**
 * deploy/nginx.conf with its two servers on nodes [port1, port2]. Returns {port (TLS), port80,
 * stop(), workers() (pids), output()}.
 */
export async function nginx(dir, nodes, cert) {
  const file = 'deploy/nginx.conf';
  const shipped = readFileSync(path.join(root, file), 'utf8');
  // Where this machine allows fewer descriptors than worker_rlimit_nofile, the test lowers it
  // to the hard limit and worker_connections in the shipped proportion.
  const rlimit = Number(/^worker_rlimit_nofile (\d+);$/m.exec(shipped)[1]);
  const wc = Number(/^\s*worker_connections (\d+);$/m.exec(shipped)[1]);
  const rlimitHere = Math.min(rlimit, hardFileLimit());
  const wcHere = Math.floor(wc * (rlimitHere / rlimit));
  const port = await freePort();
  const port80 = await freePort();
  const d = path.join(dir, `nginx-${port}`);
  const cfg = rewrite(shipped, [
    [`worker_rlimit_nofile ${rlimit};`, `worker_rlimit_nofile ${rlimitHere};`],
    [`worker_connections ${wc};`, `worker_connections ${wcHere};`],
    ['pid /run/nginx.pid;', `pid ${d}.pid;`],
    ['error_log /var/log/nginx/error.log warn;', `error_log ${d}-error.log warn;`],
    ['access_log /var/log/nginx/access.log;', `access_log ${d}-access.log;`],
    ['server 10.0.0.11:8080 ', `server 127.0.0.1:${nodes[0]} `],
    ['server 10.0.0.12:8080 ', `server 127.0.0.1:${nodes[1]} `],
    ['listen 80;', `listen 127.0.0.1:${port80};`],
    ['listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`],
    ['ssl_certificate /etc/ssl/govhall/fullchain.pem;', `ssl_certificate ${cert.cert};`],
    ['ssl_certificate_key /etc/ssl/govhall/privkey.pem;', `ssl_certificate_key ${cert.key};`],
    ['alias /usr/share/govhall/static/;', `alias ${path.join(root, 'static')}/;`],
  ], file);
  const cfgPath = `${d}.conf`;
  writeFileSync(cfgPath, cfg);
  const check = await run('nginx', ['-t', '-c', cfgPath]);
  if (check.code !== 0) throw new Error(`nginx -t: ${check.stdout}${check.stderr}`);
  const lb = child('nginx', ['-c', cfgPath, '-g', 'daemon off;']);
  await listening(port, lb);
  return {
    kind: 'nginx', port, port80, cfg, shippedCfg: shipped, output: () => lb.output() + readFileSafe(`${d}-error.log`),
    async workers() {
      const r = await run('pgrep', ['-P', String(lb.proc.pid)]);
      return r.stdout.split('\n').filter(Boolean).map(Number);
    },
    async stop() {
      lb.proc.kill('SIGQUIT');
      await lb.exited;
    },
  };
}

function readFileSafe(p) {
  try { return readFileSync(p, 'utf8'); } catch { return ''; }
}

/**
 * A client at a loopback address of its own (Linux routes all of 127.0.0.0/8 to lo), speaking
 * HTTPS to the balancer (or HTTP to a node) over kept-alive connections.
 */
export class Client {
  constructor(from, { port, ca, tls = true }) {
    this.from = from;
    this.port = port;
    this.tls = tls;
    this.agent = tls ? new https.Agent({ keepAlive: true, ca, localAddress: from })
      : new http.Agent({ keepAlive: true, localAddress: from });
  }

  /** Resolves {status, headers, body, json} or rejects on a network error. */
  request(method, p, { headers = {}, json, timeout = 30_000 } = {}) {
    const body = json === undefined ? null : Buffer.from(JSON.stringify(json));
    const h = { ...headers };
    if (body) {
      h['content-type'] = 'application/json';
      h['content-length'] = body.length;
    }
    const mod = this.tls ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request({
        host: '127.0.0.1', port: this.port, method, path: p, headers: h, agent: this.agent,
        localAddress: this.from, servername: 'hall.example.gov.cn', timeout,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json: parsed });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * A stand-in node that answers its health checks (/readyz: 200) and takes every other request
 * in and then closes the connection without an answer, as a node that dies while working on
 * it; it records what it was sent. Skips a PROXY v1/v2 header.
 */
export async function dyingNode() {
  const seen = [];
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      // A PROXY v2 header (12-byte signature, 4 bytes, then its length) or a v1 line.
      const V2 = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
      let start = 0;
      if (buf.length >= 16 && buf.subarray(0, 12).equals(V2)) start = 16 + buf.readUInt16BE(14);
      else if (buf.subarray(0, 6).toString('latin1') === 'PROXY ') {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        start = nl + 2;
      } else if (buf.length < 16 && V2.subarray(0, buf.length).equals(buf)) return;
      if (buf.length < start) return;
      const text = buf.subarray(start).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (/^(GET|HEAD) \/readyz /.test(text)) {
        s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nready\n');
        return;
      }
      const m = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) HTTP/.exec(text);
      const len = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length < end + 4 + len) return;
      seen.push({ method: m?.[1], path: m?.[2], body: text.slice(end + 4) });
      s.removeAllListeners('data');
      // What the kernel does for a process that dies having read the request: a FIN.
      s.end();
    });
    s.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, seen, close: () => new Promise((r) => server.close(r)) };
}
