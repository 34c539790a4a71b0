// Operations: /healthz, /readyz, /metrics, JSON logs, graceful shutdown on SIGTERM/SIGINT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, freshDb, get, govhall, initDb, mapLimit, serve, startServer } from './helpers.mjs';

let srv;
before(async () => { srv = await startServer({ name: 'ops' }); });
after(async () => { await srv?.stop(); });

/** Parses Prometheus text into [{name, labels, value}]. */
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad metrics line: ${line}`);
    const labels = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}
const sum = (ms, name, pred = () => true) => ms.filter((m) => m.name === name && pred(m.labels)).reduce((a, m) => a + m.value, 0);

describe('probes', () => {
  test('/healthz answers ok', async () => {
    const r = await get(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), 'ok');
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  });

  test('/readyz answers 200 with a working database', async () => {
    const r = await get(`${srv.url}/readyz`);
    assert.equal(r.status, 200);
  });
});

describe('metrics', () => {
  test('count requests by route and status, with a consistent histogram', async () => {
    const before = parseMetrics((await get(`${srv.url}/metrics`)).body);
    for (let i = 0; i < 3; i++) assert.equal((await get(`${srv.url}/healthz`)).status, 200);
    assert.equal((await get(`${srv.url}/api/v1/services/nope-0000`)).status, 404);
    assert.equal((await get(`${srv.url}/api/v1/services?per_page=5`)).status, 200);
    const r = await get(`${srv.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; ?version=0\.0\.4/);
    const ms = parseMetrics(r.body);
    for (const name of ['govhall_http_requests_total', 'govhall_http_request_duration_seconds_bucket',
      'govhall_http_request_duration_seconds_sum', 'govhall_http_request_duration_seconds_count',
      'govhall_db_queries_total', 'govhall_jobs_queued']) {
      assert.ok(ms.some((m) => m.name === name), `${name} missing`);
      assert.match(r.body, new RegExp(`^# TYPE ${name.replace(/_(bucket|sum|count)$/, '')} `, 'm'), `${name}: no TYPE line`);
    }
    const healthz = (ls) => ls.route === 'ops.healthz' && ls.status === '200';
    assert.equal(sum(ms, 'govhall_http_requests_total', healthz) - sum(before, 'govhall_http_requests_total', healthz), 3,
      'healthz counted three times');
    assert.ok(sum(ms, 'govhall_http_requests_total', (ls) => ls.status === '404') >= 1, 'the 404 is not counted');
    assert.ok(sum(ms, 'govhall_db_queries_total') > sum(before, 'govhall_db_queries_total'), 'API requests ran no counted query');
    // Histogram: buckets cumulative, +Inf equals _count, per route.
    const routes = new Set(ms.filter((m) => m.name === 'govhall_http_request_duration_seconds_count').map((m) => m.labels.route));
    assert.ok(routes.has('ops.healthz'));
    for (const route of routes) {
      const buckets = ms.filter((m) => m.name === 'govhall_http_request_duration_seconds_bucket' && m.labels.route === route);
      assert.ok(buckets.length >= 2, `${route}: no buckets`);
      const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
      assert.deepEqual([...les].sort((a, b) => a - b), les, `${route}: buckets out of order`);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, `${route}: not cumulative`);
      const count = sum(ms, 'govhall_http_request_duration_seconds_count', (ls) => ls.route === route);
      assert.equal(buckets.at(-1).labels.le, '+Inf');
      assert.equal(buckets.at(-1).value, count, `${route}: +Inf != _count`);
    }
    assert.ok(sum(ms, 'govhall_http_request_duration_seconds_count', (ls) => ls.route === 'ops.healthz') >= 3);
  });
});

describe('logs', () => {
  test('stderr carries JSON lines with a level', async () => {
    const r = await get(`${srv.url}/no/such/page`);
    assert.equal(r.status, 404);
    const id = r.headers.get('x-request-id');
    await srv.waitForLog((l) => l.req === id, { what: 'the log line of the 404' });
    const lines = srv.stderr.filter((l) => l.trim() !== '');
    assert.ok(lines.length > 0, 'no log lines');
    for (const l of lines) {
      let j;
      assert.doesNotThrow(() => { j = JSON.parse(l); }, `not JSON: ${l}`);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(j.level), `level in ${l}`);
      assert.ok(j.ts, `ts in ${l}`);
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM finishes requests in flight and exits 0', async () => {
    const db = await freshDb('ops_stop');
    let s;
    try {
      await initDb(db.url);
      s = await serve(db.url);
      const url = s.url;
      const results = [];
      let firstAnswer;
      const answered = new Promise((res) => { firstAnswer = res; });
      const inflight = mapLimit(Array.from({ length: 40 }, (_, i) => i), 20, async (i) => {
        let r;
        try {
          r = await fetch(`${url}/api/v1/services?per_page=100&page=${(i % 2) + 1}`);
        } catch (e) {
          results.push({ error: e.cause?.code ?? e.message }); // not accepted: fine
          return;
        }
        let body = null;
        try { body = await r.text(); } catch (e) { /* cut short: a failure */ }
        let ok = false;
        try { ok = r.status === 200 && JSON.parse(body).items.length > 0; } catch { /* cut short */ }
        results.push({ status: r.status, ok, len: body?.length ?? null });
        firstAnswer();
      });
      // SIGTERM once the server is answering: the other requests are in flight or queued.
      await answered;
      const code = await s.stop();
      assert.equal(code, 0);
      await inflight;
      // Each request either got a complete answer or was never accepted; never a 5xx or a cut body.
      const summary = JSON.stringify(results);
      assert.equal(results.length, 40);
      for (const r of results) {
        if (r.error) assert.match(r.error, /ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|other side closed|fetch failed/, summary);
        else assert.ok(r.ok, `status ${r.status} in ${summary}\n${s.stderr.slice(-20).join('\n')}`);
      }
      assert.ok(s.logs().some((l) => /stop/i.test(l.msg ?? l.message ?? JSON.stringify(l))), 'no log line about stopping');
    } finally {
      await s?.stop().catch(() => {});
      await db.drop();
    }
  });

  test('SIGINT stops it cleanly too', async () => {
    const db = await freshDb('ops_int');
    let s;
    try {
      await initDb(db.url, { demo: false });
      s = await serve(db.url);
      assert.equal((await get(`${s.url}/healthz`)).status, 200);
      s.proc.kill('SIGINT');
      const { code, signal } = await s.exited;
      assert.equal(signal, null);
      assert.equal(code, 0, s.stderr.slice(-20).join('\n'));
    } finally {
      await s?.stop().catch(() => {});
      await db.drop();
    }
  });

  test('a wrong setting stops serve with its message before anything is loaded', async () => {
    const db = await freshDb('ops_badset');
    try {
      await initDb(db.url, { demo: false });
      for (const [args, message] of [
        [['--role', 'bogus'], /role must be hall or hub, not \\"bogus\\"/],
        [['--fed-hub-url', 'ftp://hub.example'], /fed-hub-url must be the hub's http\(s\) address/],
      ]) {
        const r = await govhall(['serve', '--db', db.url, '--listen', '127.0.0.1:0', ...args]);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        // Whatever was loaded is freed on the way out (the test build's LeakSanitizer).
        assert.doesNotMatch(r.stderr, /LeakSanitizer|leaked in/);
        // Refused before the templates, the keys, the calendar and the search index.
        assert.doesNotMatch(r.stderr, /search: index/);
      }
    } finally {
      await db.drop();
    }
  });

  test('an empty database (init without --demo) serves empty lists', async () => {
    const db = await freshDb('ops_empty');
    let s;
    try {
      await initDb(db.url, { demo: false });
      s = await serve(db.url);
      const r = await get(`${s.url}/api/v1/services`);
      assert.equal(r.status, 200);
      const j = JSON.parse(r.body);
      assert.equal(j.total, 0);
      assert.deepEqual(j.items, []);
      assert.equal((await get(`${s.url}/`)).status, 200);
      assert.equal((await get(`${s.url}/services/psb-0001`)).status, 404);
      assert.equal(await s.stop(), 0);
    } finally {
      await s?.stop().catch(() => {});
      await db.drop();
    }
  });

  test('/readyz turns 503 when the database goes away; /healthz stays 200', { skip: backend !== 'postgres' && 'needs PostgreSQL (SQLite cannot be taken away from an open connection)' }, async () => {
    const db = await freshDb('ops_ready');
    let s;
    try {
      await initDb(db.url, { demo: false });
      s = await serve(db.url);
      assert.equal((await get(`${s.url}/readyz`)).status, 200);
      await db.drop(); // DROP DATABASE ... WITH (FORCE) ends the server's connections
      let ready;
      for (let i = 0; i < 4; i++) ready = await get(`${s.url}/readyz`); // one per worker at least
      assert.equal(ready.status, 503);
      assert.equal((await get(`${s.url}/healthz`)).status, 200);
      const api = await get(`${s.url}/api/v1/services`);
      assert.ok(api.status >= 500, `API without a database -> ${api.status}`);
      assert.equal(JSON.parse(api.body).error.code !== undefined, true);
      assert.equal(await s.stop(), 0);
    } finally {
      await s?.stop().catch(() => {});
      await db.drop();
    }
  });
});
