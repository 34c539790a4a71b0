// Due days are promises: fixed when an application is accepted, they do not move when
// administrators change the calendar afterwards (docs/operations.md, "Working-day calendar"),
// neither in what applicants and staff are shown nor in what is stored when the application
// moves on; applications accepted after the change count on the new calendar.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, DEMO_PASSWORD, DEMO_TOTP_SECRET, actOn, apiLogin, applyOnline, bearer, demoCatalog, freshTotp, sql, startServer, waitFor,
} from './helpers.mjs';

let srv;
const tok = {};
before(async () => {
  srv = await startServer({ name: 'deadlines' });
  tok.citizen = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  tok.psb = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
  tok.admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO_TOTP_SECRET) })).token;
});
after(async () => { await srv?.stop(); });

const ITEM = demoCatalog().services.find((s) => s.department === 'psb' && s.online_depth >= 3 && s.promised_limit_days >= 10);
const dayStr = (ms) => new Date(ms).toISOString().slice(0, 10);
const today = () => dayStr(Date.now() + 8 * 3600_000); // China Standard Time

async function accepted() {
  const r = await applyOnline(srv.url, tok.citizen, ITEM);
  assert.equal(r.status, 201, r.body);
  const a = await actOn(srv.url, tok.psb, r.json.number, 'accept');
  assert.equal(a.status, 200, a.body);
  return a.json;
}

const detail = async (number) => (await bearer(`${srv.url}/api/v1/applications/${number}`, tok.psb)).json;

describe('a calendar change after acceptance', () => {
  test('does not move the due days given, shown or stored; later acceptances count on it', async () => {
    const first = await accepted();
    const due = first.due_day;
    assert.match(due ?? '', /^\d{4}-\d\d-\d\d$/);
    const stored = await sql(srv.db, `SELECT due_day, legal_due_day, yellow_day FROM applications WHERE number = '${first.number}'`);

    // Holidays on the first three working days after today: inside the promised limit.
    const t0 = Date.parse(`${today()}T00:00:00Z`);
    const years = new Set();
    const candidates = [];
    for (let i = 1; candidates.length < 12; i++) {
      const d = new Date(t0 + i * 86400_000);
      if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) candidates.push(dayStr(d.getTime()));
      years.add(d.getUTCFullYear());
    }
    const listed = new Set();
    for (const y of years) {
      const l = await bearer(`${srv.url}/api/v1/admin/calendar?year=${y}`, tok.admin);
      for (const d of l.json.days) listed.add(d.day);
    }
    const added = candidates.filter((d) => !listed.has(d)).slice(0, 3);
    assert.equal(added.length, 3);
    assert.ok(added.every((d) => d < due), `${added} before ${due}`);
    let generation = 0;
    for (const day of added) {
      const r = await bearer(`${srv.url}/api/v1/admin/calendar`, tok.admin, { method: 'POST', json: { day, kind: 'holiday', note: '临时调整' } });
      assert.equal(r.status, 201, r.body);
      generation = r.json.generation;
    }
    // The node takes the change in (its duties thread reloads the calendar).
    const reloaded = () => srv.logs().some((l) => {
      const m = /^calendar: reloaded \(generation (\d+)\)$/.exec(l.msg ?? '');
      return m && Number(m[1]) >= generation;
    });
    await waitFor(reloaded, { what: 'the node to reload the calendar', timeout: 20_000 });

    // Shown: the same due days.
    const shown = await detail(first.number);
    assert.equal(shown.due_day, due);
    assert.equal(shown.legal_due_day, first.legal_due_day);
    assert.equal(shown.light, first.light);
    // Stored, also after the application moves on.
    const next = await actOn(srv.url, tok.psb, first.number, 'start_review');
    assert.equal(next.status, 200, next.body);
    assert.equal(next.json.due_day, due);
    assert.equal(await sql(srv.db, `SELECT due_day, legal_due_day, yellow_day FROM applications WHERE number = '${first.number}'`), stored);

    // Accepted now: the new holidays count.
    const second = await accepted();
    assert.ok(second.due_day > due, `${second.due_day} should be later than ${due}`);
  });
});
