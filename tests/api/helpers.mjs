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
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** A fresh, empty database. Returns {url, drop()}. */
export async function freshDb(name = 'api') {
  if (backend === 'postgres') {
    const base = process.env.GOVHALL_TEST_PG;
    if (!base) throw new Error('GOVHALL_TEST_BACKEND=postgres needs GOVHALL_TEST_PG');
    const dbname = `gh_${name.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
    await psql(base, `CREATE DATABASE ${dbname}`);
    const u = new URL(base);
    u.pathname = `/${dbname}`;
    return {
      url: u.toString(),
      async drop() {
        await psql(base, `DROP DATABASE IF EXISTS ${dbname} WITH (FORCE)`);
      },
    };
  }
  if (backend !== 'sqlite') throw new Error(`unknown GOVHALL_TEST_BACKEND ${backend}`);
  const dir = await tempDir(`govhall-${name}-`);
  return { url: path.join(dir.path, 'govhall.db'), drop: () => dir.remove() };
}

/** Runs the binary to completion with cwd = project root. Resolves {code, signal, stdout, stderr}. */
export function govhall(args, opts = {}) {
  return execP(bin, args, { cwd: root, env: childEnv(opts.env), timeout: opts.timeout ?? 120_000 });
}

/** `govhall init [--demo] --db URL`; throws with its output when it fails. */
export async function initDb(url, { demo = true } = {}) {
  const r = await govhall(['init', ...(demo ? ['--demo'] : []), '--db', url]);
  if (r.code !== 0) throw new Error(`govhall init failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Spawns `govhall serve` on db (a URL) with cwd = project root, waits for "listening on".
 * Returns {url, port, proc, stderr (array of lines, growing), logs() (parsed JSON lines),
 * stop()}. stop() sends SIGTERM and resolves the exit code; it rejects unless the server
 * exits 0 (so sanitizer reports and unclean shutdowns fail the test file).
 */
export async function serve(db, { threads = 2, extraArgs = [], readyTimeout = 60_000 } = {}) {
  const proc = spawn(bin, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', String(threads), ...extraArgs], {
    cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveProcs.add(proc);
  const stderr = [];
  const stdout = [];
  let errBuf = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    errBuf += d;
    let i;
    while ((i = errBuf.indexOf('\n')) >= 0) {
      stderr.push(errBuf.slice(0, i));
      errBuf = errBuf.slice(i + 1);
    }
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
    stop({ timeout = 30_000 } = {}) {
      stopping ??= (async () => {
        if (exitInfo === null) proc.kill('SIGTERM');
        let timer;
        const res = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r(null), timeout); })]);
        clearTimeout(timer);
        if (res === null) {
          proc.kill('SIGKILL');
          await exited;
          throw new Error(`govhall did not stop within ${timeout} ms of SIGTERM\n${stderr.slice(-30).join('\n')}`);
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
 * The usual fixture: fresh database, `init --demo`, `serve`. Returns the server object of
 * serve() plus db (the URL) and stop() that also drops the database and always cleans up.
 */
export async function startServer({ name = 'api', demo = true, ...opts } = {}) {
  const db = await freshDb(name);
  let srv;
  try {
    await initDb(db.url, { demo });
    srv = await serve(db.url, opts);
  } catch (e) {
    await db.drop().catch(() => {});
    throw e;
  }
  const stopServer = srv.stop;
  let done = null;
  srv.db = db.url;
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

/** The demo catalog the server loads, as parsed JSON arrays, or null when not found. */
export function demoCatalog() {
  const dirs = [path.resolve(root, '../shared/catalog'), path.join(root, 'data/catalog')];
  for (const d of dirs) {
    const f = path.join(d, 'services.json');
    if (existsSync(f)) {
      const read = (n) => (existsSync(path.join(d, n)) ? JSON.parse(readFileSync(path.join(d, n), 'utf8')) : null);
      return { dir: d, services: read('services.json'), departments: read('departments.json'), bundles: read('bundles.json') };
    }
  }
  return null;
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
