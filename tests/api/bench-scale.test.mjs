// bench-scale.test.mjs: `govhall bench-scale generate` at a tiny --scale (PostgreSQL only): the
// generated hall is one the hall itself could have written — `govhall audit` passes on it (every
// generated application, event and account committed to the transparency log), a generated row
// changed afterwards is caught, the bench accounts log in, a second run resumes and adds nothing,
// and a run with other parameters is refused. On SQLite the command says it needs PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { apiLogin, backend, freshDb, govhall, initDb, serve, sql } from './helpers.mjs';

const SCALE = 120;
const DAYS = 20;

describe('bench-scale generate', { skip: backend !== 'postgres' && 'needs PostgreSQL', concurrency: 1 }, () => {
  let db;
  let first;
  before(async () => {
    db = await freshDb('scale');
    await initDb(db.url, { keyFile: db.keyFile });
    first = await govhall(['bench-scale', 'generate', '--scale', String(SCALE), '--days', String(DAYS), '--db', db.url],
      { keyFile: db.keyFile, timeout: 300_000 });
  });
  after(async () => {
    if (db) await db.drop();
  });

  test('writes the applications, their steps, accounts, rollups and log leaves', async () => {
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[#+\] 100\.0%/, 'a progress bar to the end');
    const [apps, minEvents, citizens, enterprises] = (await sql(db.url,
      `SELECT (SELECT COUNT(*) FROM applications),
              (SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM application_events GROUP BY application_id) e),
              (SELECT COUNT(*) FROM accounts WHERE kind = 'individual'),
              (SELECT COUNT(*) FROM accounts WHERE kind = 'enterprise')`)).split('|').map(Number);
    assert.ok(apps >= SCALE, `${apps} applications`);
    assert.ok(minEvents >= 1, 'every application has its events');
    assert.ok(citizens >= SCALE, `${citizens} citizens`);
    assert.ok(enterprises >= 1, `${enterprises} enterprises`);
    // Statistics rollups of the generated days, and the log grew past the demo's leaves.
    assert.ok(Number(await sql(db.url, 'SELECT COUNT(*) FROM stats_daily')) > 0, 'statistics rollups');
    assert.ok(Number(await sql(db.url, 'SELECT size FROM ledger_head')) > SCALE, 'one leaf per logged step at least');
    // Personal data sealed and blind-indexed, as account_create stores it.
    assert.equal(await sql(db.url, `SELECT COUNT(*) FROM accounts WHERE kind = 'individual'
      AND (id_enc IS NULL OR id_index IS NULL OR phone_enc IS NULL OR id_mask NOT LIKE '%*%')`), '0');
  });

  test('govhall audit passes on the generated hall, and catches a generated row changed', async () => {
    const ok = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile, timeout: 300_000 });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout + ok.stderr, / 0 problem\(s\)/);
    await sql(db.url, 'UPDATE applications SET limit_days = limit_days + 1 WHERE id = (SELECT MAX(id) FROM applications)');
    const bad = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile, timeout: 300_000 });
    assert.notEqual(bad.code, 0, 'the audit fails');
    assert.doesNotMatch(bad.stdout + bad.stderr, / 0 problem\(s\)/);
    await sql(db.url, 'UPDATE applications SET limit_days = limit_days - 1 WHERE id = (SELECT MAX(id) FROM applications)');
  });

  test('the bench accounts log in with the published password', async () => {
    const accounts = JSON.parse((await govhall(['bench-scale', 'accounts'], { keyFile: false })).stdout);
    const node = await serve(db.url, { keyFile: db.keyFile });
    try {
      const { token } = await apiLogin(node.url, accounts.citizens[0], accounts.password);
      assert.ok(token);
      const mine = await fetch(`${node.url}/api/v1/applications`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(mine.status, 200);
    } finally {
      await node.stop();
    }
  });

  test('a second run resumes and adds nothing; other parameters are refused', async () => {
    const count = () => sql(db.url, 'SELECT (SELECT COUNT(*) FROM applications) || \'/\' || (SELECT size FROM ledger_head)');
    const before = await count();
    const again = await govhall(['bench-scale', 'generate', '--scale', String(SCALE), '--days', String(DAYS), '--db', db.url],
      { keyFile: db.keyFile });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /complete .*nothing to do/);
    assert.equal(await count(), before);
    const other = await govhall(['bench-scale', 'generate', '--scale', String(SCALE * 2), '--db', db.url], { keyFile: db.keyFile });
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /resume it with those, or generate into a fresh database/);
  });
});

describe('bench-scale on SQLite', { skip: backend !== 'sqlite' && 'SQLite only' }, () => {
  test('says it needs PostgreSQL', async () => {
    const db = await freshDb('scale');
    try {
      await initDb(db.url, { keyFile: db.keyFile });
      const r = await govhall(['bench-scale', 'generate', '--scale', '10', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /PostgreSQL only/);
    } finally {
      await db.drop();
    }
  });
});
