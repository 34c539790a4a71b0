// Logs stay JSON in every failure path: while a node's PostgreSQL database is away (its
// connections cut, new ones refused) and when it comes back, every line the node writes to
// stderr is a JSON object with ts, level and msg: libpq's messages, the failed queries and
// reconnects, the duties' back-off. The node answers /readyz with 503 meanwhile, serves again
// once the database is back (it reconnects by itself), and stops cleanly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, freshDb, get, initDb, serve, sql, waitFor } from './helpers.mjs';

const pg = backend === 'postgres';
let db;
let node;
before(async () => {
  if (!pg) return;
  db = await freshDb('outage');
  await initDb(db.url, { keyFile: db.keyFile });
  node = await serve(db.url, { keyFile: db.keyFile, threads: 2 });
});
after(async () => {
  if (db) await sql(process.env.GOVHALL_TEST_PG, `ALTER DATABASE ${dbName()} ALLOW_CONNECTIONS true`).catch(() => {});
  await node?.stop().catch(() => {});
  await db?.drop();
});

const dbName = () => new URL(db.url).pathname.slice(1);
const until = (cond, what) => waitFor(cond, { what, timeout: 60_000 });

describe('a PostgreSQL outage', { skip: !pg && 'PostgreSQL only' }, () => {
  test('every line on stderr is JSON, during the outage and after it', async () => {
    assert.equal((await get(`${node.url}/readyz`)).status, 200);
    assert.equal((await get(`${node.url}/services/psb-0001`)).status, 200);
    const admin = process.env.GOVHALL_TEST_PG;
    await sql(admin, `ALTER DATABASE ${dbName()} ALLOW_CONNECTIONS false`);
    await sql(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName()}'`);

    await until(async () => (await get(`${node.url}/readyz`)).status === 503, '/readyz to fail');
    for (const p of ['/', '/services', '/api/v1/services', '/services/psb-0002']) {
      const r = await get(`${node.url}${p}`);
      assert.ok(r.status < 600, p);
    }
    // The database failures are logged, and a duty backs off.
    await until(() => node.logs().some((l) => l.level === 'error' && /^db: postgres /.test(l.msg)), 'a database error in the log');
    await until(() => node.logs().some((l) => /a pass failed; retrying with back-off/.test(l.msg)), 'a duty to back off');

    await sql(admin, `ALTER DATABASE ${dbName()} ALLOW_CONNECTIONS true`);
    await until(async () => (await get(`${node.url}/readyz`)).status === 200, '/readyz to recover');
    assert.equal((await get(`${node.url}/services/psb-0001`)).status, 200);
    await until(() => node.logs().some((l) => /passes work again/.test(l.msg)), 'the duties to recover');
    await node.stop();

    const bad = node.stderr.filter((line) => {
      if (!line.trim()) return false;
      try {
        const j = JSON.parse(line);
        return typeof j.ts !== 'string' || typeof j.level !== 'string' || typeof j.msg !== 'string' && typeof j.req !== 'string';
      } catch {
        return true;
      }
    });
    assert.deepEqual(bad, [], 'lines on stderr that are not JSON log lines');
  });
});
