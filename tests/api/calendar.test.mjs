// The working-day calendar as administrators edit it, black-box: the API (list a year, add a
// holiday and see it in the next list, refuse bad dates and weekday "working days", remove),
// the page (list, add and remove through forms with CSRF), the seeding by `govhall init`, and
// refusal to anyone but administrators. Runs on SQLite, or PostgreSQL with
// GOVHALL_TEST_BACKEND=postgres.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, bearer, Client, csrfOf, DEMO, DEMO_PASSWORD, DEMO_TOTP_SECRET, freshIp, freshTotp, pageLogin, sql,
  startServer,
} from './helpers.mjs';

let srv;
let base;
let admin; // bearer token with the admin scope
let citizen;
let staff;

before(async () => {
  srv = await startServer({ name: 'calendar', extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
  const a = await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO_TOTP_SECRET) });
  admin = a.token;
  citizen = (await apiLogin(base, DEMO.citizen.phone)).token;
  staff = (await apiLogin(base, DEMO.staffA.phone)).token;
});
after(async () => { await srv?.stop(); });

const api = (p, token, init = {}) => bearer(`${base}/api/v1/admin/calendar${p}`, token, init);

describe('calendar API', () => {
  test('init seeded the calendar from holidays.json', async () => {
    const r = await api('?year=2026', admin);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.year, 2026);
    assert.ok(r.json.generation >= 1);
    const days = r.json.days.map((d) => d.day);
    assert.ok(days.includes('2026-10-01'), 'National Day is listed');
    assert.equal(r.json.days.find((d) => d.day === '2026-10-01').kind, 'holiday');
    assert.ok(r.json.days.some((d) => d.kind === 'workday'), 'an adjusted working day is listed');
    assert.equal(Number(await sql(srv.db, "SELECT value FROM catalog_meta WHERE key = 'calendar_generation'")), r.json.generation);
  });

  test('add a holiday; the next list shows it; remove it again', async () => {
    const before = await api('?year=2027', admin);
    assert.equal(before.status, 200, before.body);
    assert.ok(!before.json.days.some((d) => d.day === '2027-03-09'));
    const add = await api('', admin, { method: 'POST', json: { day: '2027-03-09', kind: 'holiday', note: '测试假日' } });
    assert.equal(add.status, 201, add.body);
    assert.equal(add.json.day.day, '2027-03-09');
    assert.equal(add.json.day.kind, 'holiday');
    assert.ok(add.json.generation > before.json.generation);
    const list = await api('?year=2027', admin);
    const e = list.json.days.find((d) => d.day === '2027-03-09');
    assert.ok(e, 'the new holiday is listed');
    assert.equal(e.note, '测试假日');
    assert.equal(e.weekday, 'tue');
    // Listed twice: refused.
    const again = await api('', admin, { method: 'POST', json: { day: '2027-03-09', kind: 'holiday' } });
    assert.equal(again.status, 409, again.body);
    // A Saturday working day is fine; removed by path and by query.
    const sat = await api('', admin, { method: 'POST', json: { day: '2027-03-13', kind: 'workday' } });
    assert.equal(sat.status, 201, sat.body);
    const del = await api('/2027-03-09', admin, { method: 'DELETE' });
    assert.equal(del.status, 200, del.body);
    assert.equal(del.json.removed, '2027-03-09');
    const del2 = await api('?day=2027-03-13', admin, { method: 'DELETE' });
    assert.equal(del2.status, 200, del2.body);
    const gone = await api('/2027-03-09', admin, { method: 'DELETE' });
    assert.equal(gone.status, 404, gone.body);
    const last = await api('?year=2027', admin);
    assert.ok(!last.json.days.some((d) => d.day === '2027-03-09' || d.day === '2027-03-13'));
    // Every change is a security event.
    const ev = await bearer(`${base}/api/v1/admin/events?kind=calendar.`, admin);
    assert.equal(ev.status, 200, ev.body);
    assert.ok(ev.json.events.length >= 4, JSON.stringify(ev.json.events));
    assert.ok(ev.json.events.every((x) => x.kind === 'calendar.change'));
  });

  test('bad dates and kinds are refused', async () => {
    for (const day of ['2027-02-30', '2027-13-01', '27-03-01', '2027/03/01', '', '2027-03-01T00:00']) {
      const r = await api('', admin, { method: 'POST', json: { day, kind: 'holiday' } });
      assert.equal(r.status, 422, `${day}: ${r.body}`);
      assert.ok(r.json.error.fields.day, r.body);
    }
    // A working day that is not a Saturday or Sunday (2027-03-10 is a Wednesday).
    const wd = await api('', admin, { method: 'POST', json: { day: '2027-03-10', kind: 'workday' } });
    assert.equal(wd.status, 422, wd.body);
    assert.ok(wd.json.error.fields.day);
    const kind = await api('', admin, { method: 'POST', json: { day: '2027-03-10', kind: 'festival' } });
    assert.equal(kind.status, 422, kind.body);
    assert.ok(kind.json.error.fields.kind);
    const extra = await api('', admin, { method: 'POST', json: { day: '2027-03-10', kind: 'holiday', colour: 'red' } });
    assert.equal(extra.status, 422, extra.body);
    const notJson = await api('', admin, { method: 'POST', body: 'day=2027-03-10', headers: { 'content-type': 'text/plain' } });
    assert.equal(notJson.status, 415, notJson.body);
    assert.equal((await api('?year=abc', admin)).status, 400);
    assert.equal((await api('/2027-02-30', admin, { method: 'DELETE' })).status, 400);
    assert.equal((await api('?day=nope', admin, { method: 'DELETE' })).status, 400);
  });

  test('only administrators', async () => {
    for (const t of [citizen, staff]) {
      assert.equal((await api('?year=2026', t)).status, 403);
      assert.equal((await api('', t, { method: 'POST', json: { day: '2027-03-09', kind: 'holiday' } })).status, 403);
      assert.equal((await api('/2026-10-01', t, { method: 'DELETE' })).status, 403);
    }
    assert.equal((await api('?year=2026', null)).status, 401);
    const c = new Client(base);
    const page = await c.get('/admin/calendar');
    assert.equal(page.status, 303);
  });
});

describe('calendar page', () => {
  let c;
  before(async () => {
    c = await pageLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO_TOTP_SECRET, ip: freshIp() });
  });

  test('lists a year, adds and removes a day with CSRF', async () => {
    const page = await c.get('/admin/calendar?year=2026');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /2026-10-01/);
    assert.match(page.body, /name="year"/);
    const csrf = csrfOf(page.body);
    assert.ok(csrf);
    // Without the token: refused.
    const noCsrf = await c.post('/admin/calendar', { action: 'add', day: '2027-04-20', kind: 'holiday', _csrf: '' });
    assert.equal(noCsrf.status, 403);
    const add = await c.post('/admin/calendar', { action: 'add', day: '2027-04-20', kind: 'holiday', note: 'page', _csrf: csrf });
    assert.equal(add.status, 303, add.body.slice(0, 300));
    assert.match(add.location, /year=2027/);
    const shown = await c.get(add.location);
    assert.match(shown.body, /2027-04-20/);
    // A weekday working day: the form again with the message, 422.
    const bad = await c.post('/admin/calendar', { action: 'add', day: '2027-04-21', kind: 'workday', _csrf: csrf });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /aria-invalid="true"/);
    const rm = await c.post('/admin/calendar', { action: 'remove', day: '2027-04-20', _csrf: csrf });
    assert.equal(rm.status, 303);
    const after2 = await c.get('/admin/calendar?year=2027');
    assert.doesNotMatch(after2.body, /2027-04-20/);
  });
});
