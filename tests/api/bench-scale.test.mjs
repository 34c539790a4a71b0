// bench-scale.test.mjs: `govhall bench-scale generate` at a tiny --scale (PostgreSQL only): the
// generated hall is one the hall itself could have written — `govhall audit` passes on it (every
// generated application, event and account committed to the transparency log), a generated row
// changed afterwards is caught, the bench accounts log in, a second run resumes and adds nothing,
// a department's queue and overdue list over the generated history are what the database holds,
// and a run with other parameters is refused. On SQLite the command says it needs PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { apiLogin, backend, bearer, freshDb, govhall, initDb, serve, sql } from './helpers.mjs';

const SCALE = 120;
const DAYS = 20;

describe('bench-scale generate', { skip: backend !== 'postgres' && 'needs PostgreSQL', concurrency: 1 }, () => {
  let db;
  let first;
  let node; // one hall over the generated database, for the log-in and the lists
  before(async () => {
    db = await freshDb('scale');
    await initDb(db.url, { keyFile: db.keyFile });
    first = await govhall(['bench-scale', 'generate', '--scale', String(SCALE), '--days', String(DAYS), '--db', db.url],
      { keyFile: db.keyFile, timeout: 300_000 });
  });
  after(async () => {
    await node?.stop();
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
    node = await serve(db.url, { keyFile: db.keyFile });
    const { token } = await apiLogin(node.url, accounts.citizens[0], accounts.password);
    assert.ok(token);
    const mine = await fetch(`${node.url}/api/v1/applications`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(mine.status, 200);
  });

  test("a department's queue is its running applications and its overdue list those past their due day, as the database holds them", async () => {
    // Two years of a department hold mostly concluded applications: the queue without a state
    // lists the running ones (the concluded are found by their state), the overdue list the
    // running ones past their due day, both in due-day order, every page and count agreeing.
    const accounts = JSON.parse((await govhall(['bench-scale', 'accounts'], { keyFile: false })).stdout);
    assert.ok(node, 'the hall of the log-in test');
    try {
      const { token } = await apiLogin(node.url, accounts.staff, accounts.password, { scopes: 'profile apply' });
      const all = async (path) => {
        const items = [];
        let total = -1;
        for (let page = 1; total < 0 || items.length < total; page++) {
          const r = await bearer(`${node.url}${path}${path.includes('?') ? '&' : '?'}per_page=7&page=${page}`, token);
          assert.equal(r.status, 200, r.body);
          if (total >= 0) assert.equal(r.json.total, total, 'the same count on every page');
          total = r.json.total;
          if (r.json.items.length === 0) break;
          items.push(...r.json.items);
        }
        assert.equal(items.length, total, `${path}: the pages hold the count`);
        return items;
      };
      const concluded = await all('/api/v1/staff/queue?state=completed');
      const running = await all('/api/v1/staff/queue');
      const dept = (running[0] ?? concluded[0])?.department;
      assert.ok(dept, 'the bench staff member has applications');
      const today = Number(await sql(db.url, 'SELECT CAST(FLOOR((EXTRACT(EPOCH FROM now()) + 28800) / 86400) AS INTEGER)'));
      const numbers = async (where) => (await sql(db.url, `SELECT number FROM applications WHERE department = '${dept}'
        AND state <> 'draft' AND ${where} ORDER BY COALESCE(due_day, 2147483647), id`)).split('\n').filter(Boolean);
      const wantRunning = await numbers('completed_at IS NULL');
      assert.ok(wantRunning.length > 0 && concluded.length > wantRunning.length,
        `running ${wantRunning.length}, concluded ${concluded.length}: a history mostly concluded`);
      assert.deepEqual(running.map((x) => x.number), wantRunning, 'the queue: the running ones, in due-day order');
      assert.deepEqual(concluded.map((x) => x.number), await numbers("state = 'completed'"), 'by their state: the concluded');
      for (const state of new Set(running.map((x) => x.state))) {
        assert.deepEqual((await all(`/api/v1/staff/queue?state=${state}`)).map((x) => x.number), await numbers(`state = '${state}'`),
          `a running state (${state}): all of them`);
      }
      // The overdue: one more made late (a tiny history may have none): a running application
      // with its clock running (one submitted is accepted first), its due day moved back as days
      // passing would, and put back after.
      const lateOf = (where) => sql(db.url, `SELECT number FROM applications WHERE department = '${dept}'
        AND completed_at IS NULL AND ${where} ORDER BY id LIMIT 1`);
      let lateNo = await lateOf('accepted_day IS NOT NULL AND paused_since IS NULL');
      if (!lateNo) {
        lateNo = await lateOf("state = 'submitted'");
        assert.ok(lateNo, 'the department has a running application');
        const r = await bearer(`${node.url}/api/v1/applications/${lateNo}/actions/accept`, token, { method: 'POST', json: {} });
        assert.equal(r.status, 200, r.body);
      }
      const late = (await sql(db.url, `SELECT id || '|' || due_day FROM applications WHERE number = '${lateNo}'`)).split('|');
      await sql(db.url, `UPDATE applications SET due_day = ${today - 3} WHERE id = ${late[0]}`);
      try {
        const wantOverdue = await numbers(`completed_at IS NULL AND due_day < ${today}`);
        assert.ok(wantOverdue.length > 0, 'some applications are overdue');
        const overdue = await all('/api/v1/overdue');
        assert.deepEqual(overdue.map((x) => x.number), wantOverdue, 'the overdue list, in due-day order');
        assert.ok(overdue.every((x) => x.light === 'red'));
      } finally {
        await sql(db.url, `UPDATE applications SET due_day = ${late[1]} WHERE id = ${late[0]}`);
      }
    } finally {
      await node.stop();
      node = undefined;
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
