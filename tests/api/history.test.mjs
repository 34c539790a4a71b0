// The demo hall's year of history (`govhall init --demo --history DAYS`): played through the
// domains' own request functions, so the transparency log's audit passes and every public page
// has figures: statistics over the year for several departments, applications in every state
// of the workflow, evaluations with rectifications, answered consultations, published documents
// and certificates that verify. Also: the option's errors, a hall with applications left alone,
// and the same history from the same seed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { apiLogin, bearer, DEMO, freshDb, getJson, govhall, initDb, serve, sql } from './helpers.mjs';

const DAYS = 365;
let db, srv, init;

before(async () => {
  db = await freshDb('history');
  init = await initDb(db.url, { keyFile: db.keyFile, history: DAYS });
  srv = await serve(db.url, { keyFile: db.keyFile });
});

after(async () => {
  await srv?.stop();
  await db?.drop();
});

const count = async (where) => Number(await sql(db.url, `SELECT COUNT(*) FROM applications WHERE ${where}`));

describe('init --demo --history', () => {
  test('reports what it played, and nothing was refused', () => {
    const m = /history: (\d+) days: (\d+) applications, (\d+) steps taken by people, (\d+) ratings \((\d+) bad, (\d+) rectification steps\), (\d+) consultations and complaints \((\d+) answered\), (\d+) documents published/.exec(init.stdout);
    assert.ok(m, init.stdout);
    const [, days, apps, steps, ratings, bad, rect, asked, answered, docs] = m.slice(0).map(Number);
    assert.equal(days, DAYS);
    assert.ok(apps > 300, `${apps} applications`);
    assert.ok(steps > 3 * apps, `${steps} steps`);
    assert.ok(ratings > 100 && bad > 5 && rect > 3 * bad, init.stdout);
    assert.ok(asked > 50 && answered > 40, init.stdout);
    assert.ok(docs >= 5, init.stdout);
    assert.doesNotMatch(init.stderr, /refused|failed/, init.stderr);
  });

  test('govhall audit passes on the result', async () => {
    const r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, / 0 problem\(s\)/);
  });

  test('applications in every state of the workflow but payment (no gateway here)', async () => {
    const states = (await sql(db.url, 'SELECT DISTINCT state FROM applications ORDER BY state')).split('\n');
    for (const s of ['draft', 'submitted', 'supplement', 'accepted', 'under_review', 'special', 'approved',
      'completed', 'not_accepted', 'denied', 'withdrawn']) assert.ok(states.includes(s), `no application ${s}: ${states}`);
    // Dated over the year, in time order of their numbers' days.
    const now = Math.floor(Date.now() / 1000);
    assert.ok(await count(`submitted_at < ${now - 300 * 86400}`) > 0, 'nothing filed ten months ago');
    assert.ok(await count(`submitted_at > ${now - 30 * 86400}`) > 0, 'nothing filed this month');
    // Some still open past their due day: overdue today; some decided after it.
    const today = Math.floor((now + 8 * 3600) / 86400);
    assert.ok(await count(`due_day < ${today} AND state IN ('accepted', 'under_review')`) > 0, 'none overdue');
  });

  test('the statistics of the year are not zero, for several departments', async () => {
    const to = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
    const from = new Date(Date.now() + 8 * 3600e3 - DAYS * 86400e3).toISOString().slice(0, 10);
    const { json: s } = await getJson(`${srv.url}/api/v1/stats?from=${from}&to=${to}&period=month`);
    assert.ok(s.totals.submitted > 300, JSON.stringify(s.totals));
    assert.ok(s.totals.concluded > 200 && s.totals.on_time > 0, JSON.stringify(s.totals));
    assert.ok(s.totals.evaluations > 100 && s.totals.bad_reviews > 0 && s.totals.rectifications_closed > 0,
      JSON.stringify(s.totals));
    assert.ok(s.totals.satisfaction_rate > 0.5 && s.totals.satisfaction_rate < 1, JSON.stringify(s.totals));
    // Most decided within the promised limit and most bad reviews put right, as a hall that
    // works would show; a few of each are not.
    assert.ok(s.totals.on_time_rate > 0.75 && s.totals.on_time_rate < 1, JSON.stringify(s.totals));
    assert.ok(s.totals.rectification_rate > 0.6, JSON.stringify(s.totals));
    assert.ok(s.totals.registrations.individual > 10, JSON.stringify(s.totals.registrations));
    const busy = s.by_department.filter((d) => d.submitted > 10);
    assert.ok(busy.length >= 5, JSON.stringify(s.by_department.map((d) => [d.code, d.submitted])));
    // Every month of the year has applications (the series spans it).
    const months = s.series.filter((p) => p.submitted > 0);
    assert.ok(months.length >= 11, JSON.stringify(s.series.map((p) => [p.label, p.submitted])));
  });

  test('published documents are listed, and public consultations answered as FAQ', async () => {
    const { json: p } = await getJson(`${srv.url}/api/v1/publish`);
    assert.ok(p.total >= 5, JSON.stringify(p));
    assert.ok(new Set(p.items.map((d) => d.department)).size >= 5, JSON.stringify(p.items.map((d) => d.department)));
    const { json: faq } = await getJson(`${srv.url}/api/v1/services/psb-0005/faq`);
    assert.ok(faq.items.length >= 1, JSON.stringify(faq));
  });

  test('the demo citizen holds certificates that verify', async () => {
    const { token } = await apiLogin(srv.url, DEMO.citizen.phone);
    const w = await bearer(`${srv.url}/api/v1/wallet`, token);
    assert.equal(w.status, 200, w.body);
    assert.ok(w.json.items.length >= 1, w.body);
    for (const c of w.json.items.slice(0, 3)) {
      const { json: v } = await getJson(`${srv.url}/api/v1/verify/certificates/${encodeURIComponent(c.number)}?h=${encodeURIComponent(c.hash)}`);
      assert.equal(v.status, 'valid', JSON.stringify(v));
    }
    // Their applications span the year and several states.
    const mine = await bearer(`${srv.url}/api/v1/applications?per_page=100`, token);
    assert.equal(mine.status, 200, mine.body);
    assert.ok(new Set(mine.json.items.map((a) => a.state)).size >= 3, mine.body);
  });
});

describe('the option', () => {
  test('wrong values and --history without --demo are refused with the fix', async () => {
    const d = await freshDb('history-bad');
    try {
      for (const [args, re] of [[['--demo', '--history', 'many'], /number of days/],
        [['--demo', '--history', '-3'], /number of days/], [['--history', '30'], /give --demo too/],
        [['--demo', '--years', '2'], /--history DAYS/]]) {
        const r = await govhall(['init', ...args, '--db', d.url], { keyFile: d.keyFile });
        assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, re);
      }
    } finally {
      await d.drop();
    }
  });

  test('a hall holding applications gets none added; the same seed plays the same history', async () => {
    const again = await govhall(['init', '--demo', '--history', '30', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /holds applications already; none added/);
    const a = await freshDb('history-a');
    const b = await freshDb('history-b');
    try {
      await initDb(a.url, { keyFile: a.keyFile, history: 40 });
      await initDb(b.url, { keyFile: b.keyFile, history: 40 });
      const today = Math.floor((Date.now() / 1000 + 8 * 3600) / 86400) * 86400 - 8 * 3600;
      const q = `SELECT number, item_code, channel FROM applications WHERE submitted_at < ${today} ORDER BY number`;
      const [ra, rb] = [await sql(a.url, q), await sql(b.url, q)];
      assert.ok(ra.split('\n').length > 40, ra);
      assert.equal(ra, rb);
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});
