// helpers.mjs: start the real govhall binary on a fresh database for black-box tests.
//
// Environment (set by scripts/test.sh):
//   GOVHALL_BIN           the binary (default: build/test/govhall, then build-tests/govhall)
//   GOVHALL_TEST_BACKEND  sqlite (default) or postgres
//   GOVHALL_TEST_PG       postgresql://postgres@127.0.0.1:PORT/govhall_test (postgres only);
//                         each test file gets its own database created from this URL.
//
// Every process and temporary folder made here is tracked and removed when the test process
// exits, even when a test fails or a hook throws.
//
// Key files: every command gets `--key-file` inside a temporary folder (the one of its
// database when it has one), so tests never write govhall.key into the project root.
//
// Every answer of the API a test receives is checked against docs/openapi.yaml
// (openapi-check.mjs). Waiting: waitFor(check) for a condition, deadline(promise, ms) to bound
// a wait, server.waitForLog(pred) for a log line; never a fixed sleep (tests/lint/no-sleep).
//
// Identity helpers (below startServer): a cookie jar, a page client that keeps cookies and
// reads _csrf from forms, log-in through the pages and the API, RFC 6238 TOTP, direct SQL on
// the test database, `govhall routes --json`, and generators of valid ID numbers, credit codes
// and phone numbers.
import { createHmac } from 'node:crypto';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { install as checkAnswersAgainstOpenApi } from './openapi-check.mjs';

// Every answer of the API that a test receives is checked against docs/openapi.yaml.
checkAnswersAgainstOpenApi();

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const backend = process.env.GOVHALL_TEST_BACKEND || 'sqlite';

export const bin = (() => {
  if (process.env.GOVHALL_BIN) return process.env.GOVHALL_BIN;
  for (const p of ['build/test/govhall', 'build-tests/govhall', 'build/release/govhall']) {
    if (existsSync(path.join(root, p))) return path.join(root, p);
  }
  return path.join(root, 'build/test/govhall');
})();

// Children and folders still alive; cleaned up on exit whatever happened.
const liveProcs = new Set();
const liveDirs = new Set();
process.on('exit', () => {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const d of liveDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

// The child's environment: ours without GOVHALL_* settings, which the server would read as
// configuration (GOVHALL_DB, GOVHALL_LISTEN, ...).
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GOVHALL_')) env[k] = v;
  }
  // Keep sanitizer reports readable and fatal; scripts/test.sh sets these too.
  env.ASAN_OPTIONS ??= 'detect_leaks=1:abort_on_error=0:halt_on_error=1';
  env.UBSAN_OPTIONS ??= 'print_stacktrace=1:halt_on_error=1';
  const supp = path.join(root, 'tests/lsan.supp');
  if (!env.LSAN_OPTIONS && existsSync(supp)) env.LSAN_OPTIONS = `suppressions=${supp}:print_suppressions=0`;
  return { ...env, ...extra };
}

export async function tempDir(prefix = 'govhall-test-') {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix));
  liveDirs.add(d);
  return {
    path: d,
    async remove() {
      liveDirs.delete(d);
      await rm(d, { recursive: true, force: true });
    },
  };
}

function execP(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, signal: err?.signal ?? null,
        stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function psql(url, sql) {
  const r = await execP('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
  if (r.code !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
}

// Key file per database URL (freshDb registers it); commands on other databases share one
// key file in a per-process temporary folder.
const keyFiles = new Map();
let defaultKeyDir = null;
async function keyFileFor(dbUrl) {
  if (dbUrl && keyFiles.has(dbUrl)) return keyFiles.get(dbUrl);
  defaultKeyDir ??= tempDir('govhall-key-');
  return path.join((await defaultKeyDir).path, 'govhall.key');
}
async function withKeyFile(args, keyFile) {
  if (args.some((a) => a === '--key-file' || a.startsWith('--key-file='))) return args;
  const i = args.indexOf('--db');
  const kf = keyFile ?? await keyFileFor(i >= 0 ? args[i + 1] : null);
  return [...args, '--key-file', kf];
}

/** A fresh, empty database. Returns {url, keyFile, drop()}. */
export async function freshDb(name = 'api') {
  if (backend === 'postgres') {
    const base = process.env.GOVHALL_TEST_PG;
    if (!base) throw new Error('GOVHALL_TEST_BACKEND=postgres needs GOVHALL_TEST_PG');
    const dbname = `gh_${name.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
    await psql(base, `CREATE DATABASE ${dbname}`);
    const u = new URL(base);
    u.pathname = `/${dbname}`;
    const keyDir = await tempDir(`govhall-${name}-key-`);
    const url = u.toString();
    const keyFile = path.join(keyDir.path, 'govhall.key');
    keyFiles.set(url, keyFile);
    return {
      url,
      keyFile,
      async drop() {
        keyFiles.delete(url);
        await psql(base, `DROP DATABASE IF EXISTS ${dbname} WITH (FORCE)`);
        await keyDir.remove();
      },
    };
  }
  if (backend !== 'sqlite') throw new Error(`unknown GOVHALL_TEST_BACKEND ${backend}`);
  const dir = await tempDir(`govhall-${name}-`);
  const url = path.join(dir.path, 'govhall.db');
  const keyFile = path.join(dir.path, 'govhall.key');
  keyFiles.set(url, keyFile);
  return { url, keyFile, drop: () => { keyFiles.delete(url); return dir.remove(); } };
}

/**
 * Runs the binary to completion with cwd = project root. Resolves {code, signal, stdout, stderr}.
 * Adds `--key-file` (the database's, see freshDb) unless args has one or opts.keyFile is
 * false; commands that take no settings (version, help) get none.
 */
export async function govhall(args, opts = {}) {
  const plain = args.length === 0 || ['version', '--version', 'help', '--help', '-h'].includes(args[0]);
  const full = plain || opts.keyFile === false ? args : await withKeyFile(args, opts.keyFile);
  return execP(bin, full, { cwd: root, env: childEnv(opts.env), timeout: opts.timeout ?? 120_000 });
}

/**
 * `govhall init [--demo --history N] --db URL --key-file K`; throws with its output when it
 * fails. Tests start from an empty demo hall (history 0) unless they ask for history (days).
 */
export async function initDb(url, { demo = true, history = 0, keyFile, args = [] } = {}) {
  const hist = demo && !args.some((a) => a.startsWith('--history')) ? ['--history', String(history)] : [];
  // The bound on a hung init: playing days of history is minutes of work for a loaded machine.
  const timeout = history > 0 || args.some((a) => a.startsWith('--history')) ? 900_000 : undefined;
  const r = await govhall(['init', ...(demo ? ['--demo'] : []), ...hist, '--db', url, ...args], { keyFile, timeout });
  if (r.code !== 0) {
    throw new Error(`govhall init failed (exit ${r.code}${r.signal ? `, ${r.signal}: stopped after ${timeout ?? 120_000} ms` : ''}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/**
 * Spawns `govhall serve` on db (a URL) with cwd = project root, waits for "listening on".
 * Returns {url, port, proc, stderr (array of lines, growing), logs() (parsed JSON lines),
 * stop()}. stop() sends SIGTERM and resolves the exit code; it rejects unless the server
 * exits 0 (so sanitizer reports and unclean shutdowns fail the test file).
 */
export async function serve(db, { threads = 2, extraArgs = [], readyTimeout = 60_000, keyFile } = {}) {
  let args = await withKeyFile(['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', String(threads), ...extraArgs], keyFile);
  // Uploads go to a folder of the test's own, never into the project.
  if (!args.includes('--upload-dir')) args = [...args, '--upload-dir', path.join((await tempDir('govhall-uploads-')).path, 'uploads')];
  const proc = spawn(bin, args, {
    cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveProcs.add(proc);
  const stderr = [];
  const stdout = [];
  const logWaiters = new Set(); // called on every new line of stderr (waitForLog)
  let errBuf = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    errBuf += d;
    let i;
    while ((i = errBuf.indexOf('\n')) >= 0) {
      stderr.push(errBuf.slice(0, i));
      errBuf = errBuf.slice(i + 1);
    }
    for (const w of [...logWaiters]) w();
  });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      liveProcs.delete(proc);
      resolve({ code, signal });
    });
  });
  let exitInfo = null;
  exited.then((e) => { exitInfo = e; if (errBuf) stderr.push(errBuf); });

  const url = await new Promise((resolve, reject) => {
    let outBuf = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`govhall serve did not print "listening on" within ${readyTimeout} ms\n${stderr.join('\n')}`));
    }, readyTimeout);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      outBuf += d;
      let i;
      while ((i = outBuf.indexOf('\n')) >= 0) {
        const line = outBuf.slice(0, i);
        outBuf = outBuf.slice(i + 1);
        stdout.push(line);
        const m = /listening on (http:\/\/\S+?)\/?$/.exec(line.trim());
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`govhall serve exited (code ${code}, signal ${signal}) before listening\n${stdout.join('\n')}\n${stderr.join('\n')}${errBuf}`));
    });
  });

  let stopping = null;
  const server = {
    url,
    port: Number(new URL(url).port),
    proc,
    stdout,
    stderr,
    exited,
    get running() { return exitInfo === null; },
    /** Parsed JSON log lines (non-JSON lines are skipped). */
    logs() {
      return stderr.flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
    },
    /**
     * The first parsed log line for which pred holds, as soon as it is written (the server
     * logs a request after answering it); rejects after timeout ms.
     */
    waitForLog(pred, { timeout = 60_000, what = 'a matching log line' } = {}) {
      let w;
      return deadline(new Promise((resolve) => {
        w = () => { const l = this.logs().find(pred); if (l) resolve(l); };
        logWaiters.add(w);
        w();
      }), timeout, `${what} in the server's log`).finally(() => logWaiters.delete(w));
    },
    stop({ timeout = 30_000 } = {}) {
      stopping ??= (async () => {
        if (exitInfo === null) proc.kill('SIGTERM');
        let res;
        try {
          res = await deadline(exited, timeout, 'govhall to stop after SIGTERM');
        } catch (e) {
          proc.kill('SIGKILL');
          await exited;
          throw new Error(`${e.message}\n${stderr.slice(-30).join('\n')}`);
        }
        if (res.code !== 0) {
          throw new Error(`govhall exited with code ${res.code} signal ${res.signal} after SIGTERM\n${stderr.slice(-60).join('\n')}`);
        }
        return res.code;
      })();
      return stopping;
    },
  };
  return server;
}

/**
 * The usual fixture: fresh database, `init --demo` (with initArgs), `serve`. Returns the server object of
 * serve() plus db (the URL) and stop() that also drops the database and always cleans up.
 */
export async function startServer({ name = 'api', demo = true, initArgs = [], ...opts } = {}) {
  const db = await freshDb(name);
  let srv;
  try {
    srv = { init: await initDb(db.url, { demo, keyFile: db.keyFile, args: initArgs }) };
    srv = Object.assign(await serve(db.url, { keyFile: db.keyFile, ...opts }), srv);
  } catch (e) {
    await db.drop().catch(() => {});
    throw e;
  }
  const stopServer = srv.stop;
  let done = null;
  srv.db = db.url;
  srv.keyFile = db.keyFile;
  srv.stop = () => {
    done ??= (async () => {
      try {
        return await stopServer();
      } finally {
        await db.drop().catch(() => {});
      }
    })();
    return done;
  };
  return srv;
}

// Ports a test names before a server binds them (a hall whose public address names its own
// port). A port found free and released at once could be taken by any other process before the
// server binds it (test files run several at once), so freePort() takes ports below the kernel's
// ephemeral range, which no bind to port 0 and no outgoing connection is given, and reserves
// each for this process by a file made with O_EXCL in a folder every test process shares;
// the files go when the process exits.
const portLocks = path.join(os.tmpdir(), 'govhall-test-ports');
const heldPorts = new Set();
process.on('exit', () => { for (const f of heldPorts) rmSync(f, { force: true }); });

function bindable(port) {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port of 127.0.0.1 that nothing listens on and no other test process will take. */
export async function freePort() {
  let ephemeral = 32768;
  try {
    ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeral;
  } catch { /* not Linux: the usual range */ }
  const low = 10000;
  const high = Math.max(low + 1000, ephemeral);
  mkdirSync(portLocks, { recursive: true });
  for (let i = 0; i < 500; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    const lock = path.join(portLocks, String(port));
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    } catch (e) {
      if (e.code === 'EEXIST') continue; // another test process holds it
      throw e;
    }
    heldPorts.add(lock);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high} (reservations in ${portLocks})`);
}

/** The demo catalog the server loads, as parsed JSON arrays, or null when not found. */
export function demoCatalog() {
  const d = path.join(root, 'data/catalog');
  const read = (n) => JSON.parse(readFileSync(path.join(d, n), 'utf8'));
  return { dir: d, services: read('services.json'), departments: read('departments.json'), bundles: read('bundles.json') };
}

/** Runs fn over items with at most n at a time; resolves results in order. */
export async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/**
 * promise, or a rejection naming what when it has not settled within ms: the bound on a wait
 * for a condition (never a wait for a time).
 */
export function deadline(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Waits for a condition: calls check() (sync or async) until it returns a truthy value, which
 * it resolves. A check that throws (an assertion, say) counts as not yet. Checks at once, then
 * after pauses growing from 10 to 250 ms; after timeout ms rejects with what and the last value
 * or error. Tests wait for a state (of the server, a message, the clock), never for a time:
 * this is the one place test code pauses (tests/lint/no-sleep.test.mjs).
 */
export async function waitFor(check, { what = 'the condition', timeout = 60_000 } = {}) {
  const end = Date.now() + timeout;
  let pause = 10;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`gave up waiting for ${what} after ${timeout} ms; last: ${why}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, pause)); // sleep-lint: allow -- the pause between two checks of a condition
    pause = Math.min(pause * 2, 250);
  }
}

/** fetch + body text. Never follows redirects. */
export async function get(url, init = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const body = init.method === 'HEAD' ? '' : await res.text();
  return { status: res.status, headers: res.headers, body, res };
}

/** fetch + JSON body (throws with the text when the body is not JSON). */
export async function getJson(url, init = {}) {
  const r = await get(url, init);
  try {
    r.json = JSON.parse(r.body);
  } catch {
    throw new Error(`${url}: expected JSON, got ${r.status} ${r.headers.get('content-type')}: ${r.body.slice(0, 300)}`);
  }
  return r;
}

/** Decodes the HTML entities a template engine produces, for text comparisons. */
export function htmlText(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

/**
 * Sends raw bytes over TCP (for requests fetch refuses to send) and collects the answer until
 * the server closes the connection or timeout ms pass. Resolves {status, headers (lower-case
 * names), body, raw, closed}; status is null when nothing parseable came back.
 */
export function rawRequest(url, data, { timeout = 10_000 } = {}) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const chunks = [];
    let closed = false;
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    const timer = setTimeout(() => { sock.destroy(); finish(); }, timeout);
    let finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks), closed));
    }
    sock.on('connect', () => {
      // A server may answer and close before the whole request is written: ignore EPIPE.
      sock.write(data, () => {});
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; finish(); });
  });
}

function parseResponse(buf, closed) {
  const raw = buf.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (!m || end < 0) return { status: null, headers: {}, body: '', raw, closed };
  const headers = {};
  for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] ? `${headers[k]}, ${line.slice(i + 1).trim()}` : line.slice(i + 1).trim();
    }
  }
  let body = buf.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status: Number(m[1]), headers, body: body.toString('utf8'), raw, closed };
}

/** A request line + headers for rawRequest, with Connection: close. */
export function rawGet(target, { host = '127.0.0.1', method = 'GET', headers = [] } = {}) {
  return `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
}

export async function writeJsonFile(dir, name, value) {
  const f = path.join(dir, name);
  await writeFile(f, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return f;
}

// ---- identity helpers --------------------------------------------------------------------

/** The demo accounts `init --demo` creates (log in with the phone). */
export const DEMO_PASSWORD = 'Qinghe-demo-2026';
export const DEMO_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const DEMO = {
  citizen: { phone: '13800000001', name: '张三', id_number: '11010519491231002X' },
  agent: { phone: '13800000002', name: '李四', id_number: '440524188001010014' },
  enterprise: { phone: '13800000003', name: '清河示范科技有限公司', uscc: '91310110666007217T' },
  staffA: { phone: '13800000004', department: 'psb' },
  staffB: { phone: '13800000005', department: 'civ' },
  admin: { phone: '13800000006', totp: DEMO_TOTP_SECRET },
};

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/[=\s]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret at time t (ms). */
export function totp(secret, t = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

/**
 * A TOTP code that the server has not seen yet: the server accepts the previous, current and
 * next 30-second step, each once per account. Steps are handed out in increasing order per
 * secret (each test file has its own server and database); when all three are used this
 * waits for the next step.
 */
const lastStep = new Map();
export async function freshTotp(secret) {
  const step = await waitFor(() => {
    // The server takes the step before its own, its own and the next. The step before is
    // used only early in a step, so that a slow answer does not reach the server after the
    // step has moved on (then the code would be two steps old).
    // The next step counts as begun only two seconds into it: the server reads a coarse,
    // truncated clock (time()), which can still be in the step before when this one has
    // just moved on, and then a code two steps ahead of it would be refused.
    const t = Date.now() / 1000;
    const now = Math.floor(t / 30);
    const oldest = t - now * 30 < 15 ? now - 1 : now;
    const next = Math.max(oldest, (lastStep.get(secret) ?? -Infinity) + 1);
    return next <= Math.floor((t - 2) / 30) + 1 ? next : null;
  }, { what: 'a TOTP step the server has not seen', timeout: 120_000 });
  lastStep.set(secret, step);
  return totp(secret, step * 30_000 + 1000);
}

/** A distinct client address per caller (servers run with --trust-proxy true in these tests). */
let ipSeq = 0;
export function freshIp() {
  ipSeq++;
  return `10.${(process.pid >> 8) & 0xff}.${(ipSeq >> 8) & 0xff}.${ipSeq & 0xff}`;
}

/** A minimal cookie jar: name -> value, fed by Set-Cookie (Max-Age=0 deletes). */
export class CookieJar {
  constructor() { this.cookies = new Map(); this.raw = []; }
  update(headers) {
    const list = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
    for (const sc of list) {
      this.raw.push(sc);
      const [pair, ...attrs] = sc.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
      if (value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name) { return this.cookies.get(name); }
  set(name, value) { this.cookies.set(name, value); }
  delete(name) { this.cookies.delete(name); }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  clone() { const j = new CookieJar(); j.cookies = new Map(this.cookies); return j; }
}

/** The _csrf value of the first form on a page (or of the form whose action is `action`). */
export function csrfOf(html, action) {
  let scope = html;
  if (action) {
    const m = new RegExp(`<form[^>]*action="${action.replace(/[.?*+^$()[\]{}|\\/]/g, '\\$&')}"[\\s\\S]*?</form>`).exec(html);
    if (m) scope = m[0];
  }
  for (const m of scope.matchAll(/<input\b[^>]*>/g)) {
    if (/\bname="_csrf"/.test(m[0])) {
      const v = /\bvalue="([^"]*)"/.exec(m[0]);
      if (v) return htmlText(v[1]);
    }
  }
  return null;
}

/**
 * A browser-like client: keeps cookies, sends one X-Forwarded-For address, never follows
 * redirects. get/post resolve {status, headers, body, location}.
 */
export class Client {
  constructor(baseUrl, { ip = freshIp(), lang } = {}) {
    this.base = baseUrl;
    this.ip = ip;
    this.jar = new CookieJar();
    if (lang) this.jar.set('lang', lang);
    this.csrf = null;
  }
  async request(method, p, { form, json, headers = {}, cookies = true } = {}) {
    const h = { 'x-forwarded-for': this.ip, ...headers };
    if (cookies && this.jar.cookies.size) h.cookie = this.jar.header();
    let body;
    if (form) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    } else if (json !== undefined) {
      h['content-type'] = 'application/json';
      body = JSON.stringify(json);
    }
    const res = await fetch(this.base + p, { method, headers: h, body, redirect: 'manual' });
    const text = method === 'HEAD' ? '' : await res.text();
    if (cookies) this.jar.update(res.headers);
    const r = { status: res.status, headers: res.headers, body: text, location: res.headers.get('location') };
    const c = csrfOf(text);
    if (c) this.csrf = c;
    return r;
  }
  get(p, opts) { return this.request('GET', p, opts); }
  /** Posts a form; _csrf defaults to the last one seen on a page of this client. */
  post(p, form = {}, opts = {}) {
    const f = { ...form };
    if (!('_csrf' in f) && this.csrf) f._csrf = this.csrf;
    return this.request('POST', p, { form: f, ...opts });
  }
  get sid() { return this.jar.get('gh_sid'); }
}

/**
 * Logs in through the pages (GET /login, POST /login, and the TOTP step when asked) and
 * returns the Client holding the session. Throws with the answer when it fails.
 */
export async function pageLogin(baseUrl, login, password = DEMO_PASSWORD, { totpSecret, ip, lang } = {}) {
  const c = new Client(baseUrl, { ip, lang });
  const form = await c.get('/login');
  if (form.status !== 200) throw new Error(`GET /login: ${form.status} ${form.body.slice(0, 200)}`);
  const csrf = csrfOf(form.body);
  if (!csrf) throw new Error('GET /login: no _csrf in the form');
  let r = await c.post('/login', { login, password, next: '', _csrf: csrf });
  if (r.status !== 303) throw new Error(`POST /login ${login}: ${r.status} ${r.body.slice(0, 300)}`);
  if (/^\/login\/totp/.test(r.location ?? '')) {
    if (!totpSecret) throw new Error(`POST /login ${login}: asks for a second factor`);
    const t = await c.get(r.location);
    if (t.status !== 200) throw new Error(`GET ${r.location}: ${t.status} ${t.body.slice(0, 200)}`);
    r = await c.post('/login/totp', { totp: await freshTotp(totpSecret), _csrf: csrfOf(t.body) ?? '' });
    if (r.status !== 303) throw new Error(`POST /login/totp: ${r.status} ${r.body.slice(0, 300)}`);
  }
  c.landing = r.location;
  // The CSRF token of the logged-in session (the log-out form in every page's header).
  const home = await c.get('/');
  c.csrf = csrfOf(home.body);
  return c;
}

/** POST /api/v1/auth/token; resolves the full answer {status, headers, json, body}. */
export async function apiToken(baseUrl, body, { ip = freshIp(), headers = {} } = {}) {
  const res = await fetch(`${baseUrl}/api/v1/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, ...headers },
    body: JSON.stringify(body), redirect: 'manual',
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: text, json };
}

/** Logs in through the API and returns the 201 answer's JSON; throws otherwise. */
export async function apiLogin(baseUrl, login, password = DEMO_PASSWORD, extra = {}) {
  const { ip, ...rest } = extra;
  const r = await apiToken(baseUrl, { login, password, ...rest }, { ip });
  if (r.status !== 201) throw new Error(`POST /api/v1/auth/token ${login}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.json;
}

/** fetch with a bearer token; resolves {status, headers, body, json}. */
export async function bearer(url, token, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (!headers['x-forwarded-for']) headers['x-forwarded-for'] = freshIp();
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: text, json };
}

/** Runs one SQL statement on a test database (sqlite3 CLI or psql); resolves its stdout. */
export async function sql(dbUrl, statement) {
  const r = backend === 'postgres'
    ? await execP('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', dbUrl, '-c', statement])
    : await execP('sqlite3', ['-cmd', '.timeout 5000', dbUrl, statement]);
  if (r.code !== 0) throw new Error(`sql ${statement}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `govhall routes --json`, parsed. */
export async function routes() {
  const r = await govhall(['routes', '--json']);
  if (r.code !== 0) throw new Error(`govhall routes --json: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A valid resident ID number (GB 11643) born in Beijing's Chaoyang district; n picks it. */
export function newIdNumber(n) {
  const year = 1950 + (n % 50);
  const month = String(1 + (Math.floor(n / 50) % 12)).padStart(2, '0');
  const day = String(1 + (Math.floor(n / 600) % 28)).padStart(2, '0');
  const seq = String(Math.floor(n / 16800) % 1000).padStart(3, '0');
  const body = `110105${year}${month}${day}${seq}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** A valid unified social credit code (GB 32100 with its GB 11714 organisation code). */
export function newUscc(n) {
  const org = String(10000000 + (n % 89999999)).slice(-8);
  const ow = [3, 7, 9, 10, 5, 8, 4, 2];
  const c9 = 11 - ([...org].reduce((s, c, i) => s + Number(c) * ow[i], 0) % 11);
  const orgCode = org + (c9 === 10 ? 'X' : c9 === 11 ? '0' : String(c9));
  const body = `91310110${orgCode}`;
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let sum = 0;
  let w = 1;
  for (const c of body) {
    sum += alphabet.indexOf(c) * w;
    w = (w * 3) % 31;
  }
  return body + alphabet[(31 - (sum % 31)) % 31];
}

/**
 * A stand-in SMS gateway (the test double of notify-sms-url): an HTTP server on 127.0.0.1
 * that answers 200 to every SMS the hall hands it. next(phone) resolves with the next SMS to
 * phone ({id, phone, text, timestamp}); others are kept for later calls. count(phone) is how
 * many wait for phone; all() every SMS received so far.
 */
export async function smsGateway() {
  const queue = [];
  const seen = [];
  const waiting = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      let msg;
      try { msg = JSON.parse(body); } catch { return; }
      seen.push(msg);
      queue.push(msg);
      for (const w of waiting.splice(0)) w();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/sms`,
    async next(phone) {
      for (;;) {
        const i = queue.findIndex((m) => m.phone === phone);
        if (i >= 0) return queue.splice(i, 1)[0];
        await new Promise((r) => waiting.push(r));
      }
    },
    /** The 6-digit code of the next SMS to phone. */
    async code(phone) {
      const m = await this.next(phone);
      const c = /\b(\d{6})\b/.exec(m.text)?.[1];
      if (!c) throw new Error(`no code in the SMS to ${phone}: ${m.text}`);
      return c;
    },
    count(phone) { return queue.filter((m) => m.phone === phone).length; },
    all() { return [...seen]; },
    close() { return new Promise((r) => server.close(r)); },
  };
}

/** A mobile number unlikely to collide with other tests' numbers. */
let phoneSeq = 0;
export function newPhone() {
  phoneSeq++;
  return `139${String((process.pid * 97 + phoneSeq) % 100_000_000).padStart(8, '0')}`;
}

// ---- applications ------------------------------------------------------------------------

/** A valid value for one form field of a demo item, for the demo citizen (undefined: a file). */
export function demoFieldValue(f) {
  switch (f.type) {
    case 'id_number': return DEMO.citizen.id_number;
    case 'phone': return DEMO.citizen.phone;
    case 'uscc': return DEMO.enterprise.uscc;
    case 'select': return f.options[0].value;
    case 'date': return '2026-01-05';
    case 'number': return '3';
    case 'email': return 'zhang@example.com';
    case 'address': return '清河市和平路 1 号';
    case 'textarea': return '情况说明';
    case 'file': return undefined;
    default: return '张三';
  }
}

/** Valid values for every field of an item's form definition. */
export function demoForm(item) {
  const v = {};
  for (const f of item.form) {
    const x = demoFieldValue(f);
    if (x !== undefined) v[f.key] = x;
  }
  return v;
}

const sameField = (a, b) => a.type === b.type
  && JSON.stringify((a.options ?? []).map((o) => o.value)) === JSON.stringify((b.options ?? []).map((o) => o.value));

/** The fields of a bundle's one form over its online items: the union by key (first
 * definition wins); a key another item defines differently is asked again as
 * "<item code>__<key>". */
export function bundleFields(items) {
  const seen = new Map();
  const out = [];
  for (const it of items) {
    for (const f of it.form) {
      const had = seen.get(f.key);
      if (had && sameField(had, f)) continue;
      const g = had ? { ...f, key: `${it.code}__${f.key}` } : f;
      if (!had) seen.set(f.key, f);
      out.push(g);
    }
  }
  return out;
}

/** Valid values for every field of a bundle's form over items. */
export function demoBundleForm(items) {
  return demoForm({ form: bundleFields(items) });
}

/** A small valid PDF (padded to at least `size` bytes; a random tag makes each one new). */
export function samplePdf(size = 0, tag = Math.random().toString(36).slice(2)) {
  const head = `%PDF-1.4\n% ${tag}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n`;
  const pad = size > head.length + 6 ? `%${'x'.repeat(size - head.length - 8)}\n` : '';
  return Buffer.from(`${head}${pad}%%EOF\n`);
}

/** POST /api/v1/attachments; resolves {status, json, body}. */
export async function uploadAttachment(baseUrl, token, buf = samplePdf(), { name = 'scan.pdf', type = 'application/pdf' } = {}) {
  const fd = new FormData();
  fd.append('file', new Blob([buf], { type }), name);
  const res = await fetch(`${baseUrl}/api/v1/attachments`, {
    method: 'POST', body: fd, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() },
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, body: text };
}

/** One fresh PDF for each required material of item: [{slot, attachments}]; throws on failure. */
export async function demoMaterials(baseUrl, token, item) {
  const out = [];
  for (const [i, m] of item.materials.entries()) {
    if (!m.required) continue;
    const up = await uploadAttachment(baseUrl, token);
    if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body}`);
    out.push({ slot: i, attachments: [up.json.id] });
  }
  return out;
}

/** Applies for item through the API (valid form and materials unless given); the answer. */
export async function applyOnline(baseUrl, token, item, { submit = true, key = `k-${process.pid}-${Math.random()}`, form, materials } = {}) {
  const body = {
    form: form ?? demoForm(item), materials: materials ?? await demoMaterials(baseUrl, token, item), submit,
    idempotency_key: key,
  };
  return bearer(`${baseUrl}/api/v1/services/${item.code}/applications`, token, { method: 'POST', json: body });
}

/** Takes a workflow action through the API; resolves the answer. */
export function actOn(baseUrl, token, number, action, body = {}) {
  return bearer(`${baseUrl}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });
}
