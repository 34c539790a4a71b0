// Applications (办件) through the JSON API and the pages: apply with attachments, idempotent
// submission, the staff workflow (accept, review, approve, complete; supplement with the clock
// paused; refuse, deny, withdraw), who may see and act on what, concurrent actions, upload
// limits, the public progress query, the staff queue's filters; and the apply page with a
// multipart form followed to the detail page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, Client, apiLogin, bearer, csrfOf, demoCatalog, demoForm, demoMaterials, freshIp, htmlText, pageLogin,
  backend, samplePdf, sql, startServer, uploadAttachment,
} from './helpers.mjs';

const MAX_UPLOAD = 4096;
let srv;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'cases', extraArgs: ['--trust-proxy', 'true', '--max-upload', String(MAX_UPLOAD)] });
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

const catalog = demoCatalog();
// A psb item citizens can apply for online, with a long promised limit (green on acceptance).
const ITEM = catalog.services.find((s) => s.code === 'psb-0001')
  ?? catalog.services.find((s) => s.department === 'psb' && s.online_depth >= 3 && s.promised_limit_days >= 10);

const formFor = demoForm;
const pdf = samplePdf;
const upload = (token, buf, opts) => uploadAttachment(srv.url, token, buf, opts);
const materialsFor = (token, item) => demoMaterials(srv.url, token, item);

let keySeq = 0;
async function apply(token = tok.a, { item = ITEM, submit = true, key = `k-${process.pid}-${++keySeq}`, materials, form } = {}) {
  const body = { form: form ?? formFor(item), materials: materials ?? await materialsFor(token, item), submit, idempotency_key: key };
  return bearer(`${srv.url}/api/v1/services/${item.code}/applications`, token, { method: 'POST', json: body });
}

async function applied(token = tok.a, opts = {}) {
  const r = await apply(token, opts);
  assert.equal(r.status, 201, `apply: ${r.body}`);
  assert.match(r.json.number ?? '', /^\S+$/);
  return r.json;
}

const act = (token, number, action, body = {}) =>
  bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });
const show = (token, number) => bearer(`${srv.url}/api/v1/applications/${number}`, token);

async function ok(token, number, action, body) {
  const r = await act(token, number, action, body);
  assert.equal(r.status, 200, `${action}: ${r.status} ${r.body}`);
  return r.json;
}

describe('applying', () => {
  test('the chosen item is online-capable', () => {
    assert.ok(ITEM, 'no psb item with online depth >= 3 in the demo catalog');
    assert.ok(ITEM.online_depth >= 3);
  });

  test('a submission gets a number and a query code; the same idempotency key gives one application', async () => {
    const before = await bearer(`${srv.url}/api/v1/applications?per_page=100`, tok.a);
    assert.equal(before.status, 200);
    const key = `twice-${process.pid}`;
    const materials = await materialsFor(tok.a, ITEM);
    const [r1, r2] = [await apply(tok.a, { key, materials }), await apply(tok.a, { key, materials })];
    assert.equal(r1.status, 201, r1.body);
    assert.ok([200, 201].includes(r2.status), r2.body);
    assert.equal(r2.json.number, r1.json.number);
    assert.equal(r1.json.state, 'submitted');
    assert.match(r1.json.query_code ?? '', /^[A-Z0-9]{6,16}$/);
    const afterList = await bearer(`${srv.url}/api/v1/applications?per_page=100`, tok.a);
    assert.equal(afterList.json.total, before.json.total + 1);
    assert.equal(afterList.json.items.filter((x) => x.number === r1.json.number).length, 1);
  });

  test('missing required material or bad form values: 422 with the fields', async () => {
    const r = await apply(tok.a, { materials: [] });
    assert.equal(r.status, 422, r.body);
    const req = ITEM.materials.findIndex((m) => m.required);
    assert.ok(r.json.error.fields[`material_${req}`], JSON.stringify(r.json));
    const idField = ITEM.form.find((f) => f.type === 'id_number');
    if (idField) {
      const bad = await apply(tok.a, { form: { ...formFor(ITEM), [idField.key]: '110105194912310021' } });
      assert.equal(bad.status, 422);
      assert.ok(bad.json.error.fields[idField.key]);
    }
  });

  test("someone else's attachment cannot be used", async () => {
    const up = await upload(tok.b, pdf());
    assert.equal(up.status, 201);
    const req = ITEM.materials.findIndex((m) => m.required);
    const r = await apply(tok.a, { materials: [{ slot: req, attachments: [up.json.id] }] });
    assert.equal(r.status, 422, r.body);
  });

  test('a draft has no number until submitted', async () => {
    const r = await apply(tok.a, { submit: false });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'draft');
    assert.equal(r.json.number, null);
  });
});

describe('workflow', () => {
  test('accept, review, approve, complete; the applicant sees each state and the timeline', async () => {
    const app = await applied();
    let j = await ok(tok.psb, app.number, 'accept');
    assert.equal(j.state, 'accepted');
    assert.equal((await show(tok.a, app.number)).json.state, 'accepted');
    assert.equal(j.light, 'green', 'a fresh acceptance with a long limit is green');
    assert.equal(j.working_days_left, ITEM.promised_limit_days);
    j = await ok(tok.psb, app.number, 'start_review');
    assert.equal((await show(tok.a, app.number)).json.state, 'under_review');
    j = await ok(tok.psb, app.number, 'approve');
    assert.equal((await show(tok.a, app.number)).json.state, 'approved');
    j = await ok(tok.psb, app.number, 'complete', { detail: { delivery: 'window' } });
    assert.equal(j.state, 'completed');
    const seen = await show(tok.a, app.number);
    assert.equal(seen.json.state, 'completed');
    assert.deepEqual(seen.json.events.map((e) => e.action), ['submit', 'accept', 'start_review', 'approve', 'complete']);
    assert.equal(seen.json.events.at(-1).detail.delivery, 'window');
    assert.deepEqual(seen.json.actions, []);
  });

  test('request_supplement pauses the clock (light frozen) and resubmit resumes', async () => {
    const app = await applied();
    await ok(tok.psb, app.number, 'accept');
    await ok(tok.psb, app.number, 'start_review');
    const noReason = await act(tok.psb, app.number, 'request_supplement', { detail: { missing: [0] } });
    assert.equal(noReason.status, 422, noReason.body);
    const before = (await show(tok.a, app.number)).json;
    const j = await ok(tok.psb, app.number, 'request_supplement', { reason: '户口簿扫描件不清晰', detail: { missing: [0] } });
    assert.equal(j.state, 'supplement');
    assert.equal(j.paused, true);
    assert.equal(j.working_days_left, before.working_days_left, 'the light is frozen while paused');
    const seen = (await show(tok.a, app.number)).json;
    assert.ok(seen.actions.includes('resubmit'));
    assert.deepEqual(seen.events.at(-1).detail.missing, [0]);
    assert.equal(seen.events.at(-1).reason, '户口簿扫描件不清晰');
    const back = await ok(tok.a, app.number, 'resubmit');
    assert.equal(back.state, 'under_review', 'resubmission goes back to where the case was');
    assert.equal(back.paused, false);
  });

  test('refuse needs a reason', async () => {
    const app = await applied();
    const r = await act(tok.psb, app.number, 'refuse', {});
    assert.equal(r.status, 422, r.body);
    const j = await ok(tok.psb, app.number, 'refuse', { reason: '不属于本部门职权范围' });
    assert.equal(j.state, 'not_accepted');
  });

  test('deny with a reason and a legal basis', async () => {
    const app = await applied();
    await ok(tok.psb, app.number, 'accept');
    await ok(tok.psb, app.number, 'start_review');
    assert.equal((await act(tok.psb, app.number, 'deny', { detail: { legal_basis: 'x' } })).status, 422);
    const j = await ok(tok.psb, app.number, 'deny', { reason: '不符合申领条件', detail: { legal_basis: '《居民身份证法》第八条' } });
    assert.equal(j.state, 'denied');
    const ev = (await show(tok.a, app.number)).json.events.at(-1);
    assert.equal(ev.detail.legal_basis, '《居民身份证法》第八条');
  });

  test('the applicant withdraws; staff may not', async () => {
    const app = await applied();
    assert.equal((await act(tok.psb, app.number, 'withdraw')).status, 403);
    const j = await ok(tok.a, app.number, 'withdraw');
    assert.equal(j.state, 'withdrawn');
  });

  test('an action that does not apply to the state is a conflict', async () => {
    const app = await applied();
    const r = await act(tok.psb, app.number, 'approve');
    assert.equal(r.status, 409, r.body);
    assert.equal((await act(tok.a, app.number, 'accept')).status, 403, 'the applicant cannot accept');
    assert.equal((await act(tok.psb, app.number, 'no_such_action')).status, 404);
  });

  test('two concurrent accepts: exactly one succeeds, the other gets 409', async () => {
    for (let round = 0; round < 3; round++) {
      const app = await applied();
      const rs = await Promise.all([act(tok.psb, app.number, 'accept'), act(tok.psb, app.number, 'accept')]);
      const codes = rs.map((r) => r.status).sort();
      assert.deepEqual(codes, [200, 409], rs.map((r) => r.body).join('\n'));
      const events = (await show(tok.psb, app.number)).json.events.filter((e) => e.action === 'accept');
      assert.equal(events.length, 1);
    }
  });
});

describe('work allocation', () => {
  test('staff claim an application; the queue filters by who has it; only a head assigns', async () => {
    const app = await applied();
    let seen = await show(tok.psb, app.number);
    assert.equal(seen.json.assigned_to, null);
    assert.ok(seen.json.actions.includes('claim'));
    assert.ok(!seen.json.actions.includes('assign'), 'a clerk who is not the head was offered assign');
    const unassigned = await bearer(`${srv.url}/api/v1/staff/queue?assigned=none&per_page=100`, tok.psb);
    assert.ok(unassigned.json.items.some((x) => x.number === app.number));
    const claimed = await ok(tok.psb, app.number, 'claim');
    assert.ok(claimed.assigned_to > 0);
    seen = await show(tok.psb, app.number);
    assert.ok(seen.json.assigned_name, 'the detail names who has it');
    assert.ok(!seen.json.actions.includes('claim'), 'claim offered to the one who has it');
    assert.equal(seen.json.events.at(-1).action, 'claim');
    const mine = await bearer(`${srv.url}/api/v1/staff/queue?assigned=me&per_page=100`, tok.psb);
    assert.ok(mine.json.items.some((x) => x.number === app.number));
    const none = await bearer(`${srv.url}/api/v1/staff/queue?assigned=none&per_page=100`, tok.psb);
    assert.ok(!none.json.items.some((x) => x.number === app.number));
    assert.equal((await bearer(`${srv.url}/api/v1/staff/queue?assigned=someone`, tok.psb)).status, 400);
    // A clerk is not a head: assigning is refused; the applicant may not claim.
    assert.equal((await act(tok.psb, app.number, 'assign', { detail: { assignee: claimed.assigned_to } })).status, 403);
    assert.equal((await act(tok.a, app.number, 'claim')).status, 403);
  });
});

describe('who sees what', () => {
  let app;
  let attId;
  before(async () => {
    app = await applied();
    const att = (await show(tok.a, app.number)).json.materials.flatMap((m) => m.attachments ?? [])[0];
    attId = att?.id;
  });

  test("citizen B cannot see A's application or its attachment", async () => {
    assert.ok(attId, 'the application lists its attachment');
    assert.equal((await show(tok.a, app.number)).status, 200);
    const a = await bearer(`${srv.url}/api/v1/applications/${app.number}/attachments/${attId}`, tok.a);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-disposition') ?? '', /attachment/);
    assert.equal((await show(tok.b, app.number)).status, 404);
    assert.equal((await bearer(`${srv.url}/api/v1/applications/${app.number}/attachments/${attId}`, tok.b)).status, 404);
    const list = await bearer(`${srv.url}/api/v1/applications?per_page=100`, tok.b);
    assert.ok(!list.json.items.some((x) => x.number === app.number));
  });

  test('staff of another department can neither see nor act (403 or 404)', async () => {
    assert.equal((await show(tok.civ, app.number)).status, 404);
    const r = await act(tok.civ, app.number, 'accept');
    assert.ok([403, 404].includes(r.status), `${r.status} ${r.body}`);
    const q = await bearer(`${srv.url}/api/v1/staff/queue?per_page=100`, tok.civ);
    assert.ok(!q.json.items.some((x) => x.number === app.number));
  });
});

describe('uploads', () => {
  test('a file that is not PDF, JPEG or PNG: 415', async () => {
    const r = await upload(tok.a, Buffer.from('just some text, not a document\n'), { name: 'notes.pdf', type: 'application/pdf' });
    assert.equal(r.status, 415, r.body);
  });

  test('a file over --max-upload: 413', async () => {
    const r = await upload(tok.a, pdf(MAX_UPLOAD + 500));
    assert.equal(r.status, 413, r.body);
    const small = await upload(tok.a, pdf(MAX_UPLOAD - 200));
    assert.equal(small.status, 201, small.body);
  });
});

describe('progress query', () => {
  test('the right code shows progress without personal data; a wrong code is 404', async () => {
    const app = await applied();
    const q = (n, c) => bearer(`${srv.url}/api/v1/progress?number=${encodeURIComponent(n)}&code=${encodeURIComponent(c)}`, null);
    const r = await q(app.number, app.query_code);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'submitted');
    assert.equal(r.json.form, undefined);
    assert.equal(r.json.applicant_name, undefined);
    assert.ok(!r.body.includes(DEMO.citizen.id_number));
    assert.ok(Array.isArray(r.json.events));
    const lower = await q(app.number, app.query_code.toLowerCase());
    assert.equal(lower.status, 200);
    assert.equal((await q(app.number, 'WRONG123')).status, 404);
    assert.equal((await q('QH00000000999999', app.query_code)).status, 404);
  });
});

describe('queue', () => {
  test('filters by state and light; sorted by due day', async () => {
    const app = await applied();
    await ok(tok.psb, app.number, 'accept');
    const get = (qs) => bearer(`${srv.url}/api/v1/staff/queue?per_page=100&${qs}`, tok.psb);
    const accepted = await get('state=accepted');
    assert.equal(accepted.status, 200);
    assert.ok(accepted.json.items.some((x) => x.number === app.number));
    assert.ok(accepted.json.items.every((x) => x.state === 'accepted'));
    const green = await get('light=green');
    assert.ok(green.json.items.some((x) => x.number === app.number), 'accepted today with a long limit is green');
    assert.ok(green.json.items.every((x) => x.light === 'green'));
    const red = await get('light=red');
    assert.ok(!red.json.items.some((x) => x.number === app.number));
    const submitted = await get('state=submitted');
    assert.ok(!submitted.json.items.some((x) => x.number === app.number));
    const days = (await get('')).json.items.map((x) => x.due_day).filter(Boolean);
    assert.deepEqual(days, [...days].sort());
    assert.equal((await get('state=bogus')).status, 400);
    assert.equal((await get('light=blue')).status, 400);
    assert.equal((await bearer(`${srv.url}/api/v1/staff/queue`, tok.a)).status, 403);
  });

  test("the queue page's light counts are the department's running applications of each light, concluded ones not counted", async () => {
    const done = await applied();
    for (const a of ['accept', 'start_review', 'approve', 'complete']) await ok(tok.psb, done.number, a);
    const staff = await pageLogin(srv.url, DEMO.staffA.phone);
    const page = await staff.get('/staff/queue');
    assert.equal(page.status, 200);
    for (const light of ['green', 'yellow', 'red']) {
      const shown = new RegExp(`light-${light}"[^]*?<strong>(\\d+)</strong>`).exec(page.body);
      assert.ok(shown, `the ${light} count is shown`);
      const listed = await bearer(`${srv.url}/api/v1/staff/queue?per_page=100&light=${light}`, tok.psb);
      assert.equal(Number(shown[1]), listed.json.total, `${light}: the count is what the list of that light holds`);
      assert.ok(!listed.json.items.some((x) => x.number === done.number), `the concluded application is not ${light}`);
    }
    const completed = (await bearer(`${srv.url}/api/v1/staff/queue?per_page=100&state=completed`, tok.psb)).json;
    assert.ok(completed.items.some((x) => x.number === done.number), 'the concluded application is in the queue');
  });

  test("the queue without a state is the department's running work; its overdue list the running ones past their due day", async () => {
    const late = await applied();
    await ok(tok.psb, late.number, 'accept');
    const done = await applied();
    for (const a of ['accept', 'start_review', 'approve', 'complete']) await ok(tok.psb, done.number, a);
    // Both past their due day (as days passing would leave them); only the running one is late.
    await sql(srv.db, `UPDATE applications SET due_day = due_day - 400, yellow_day = yellow_day - 400
      WHERE number IN ('${late.number}', '${done.number}')`);
    const today = Number(await sql(srv.db, backend === 'postgres'
      ? 'SELECT CAST(FLOOR((EXTRACT(EPOCH FROM now()) + 28800) / 86400) AS INTEGER)'
      : "SELECT CAST((CAST(strftime('%s', 'now') AS INTEGER) + 28800) / 86400 AS INTEGER)"));
    const want = async (where) => (await sql(srv.db, `SELECT number FROM applications WHERE department = 'psb'
      AND state <> 'draft' AND ${where} ORDER BY COALESCE(due_day, 2147483647), id`)).split('\n').filter(Boolean);
    const list = async (path) => {
      const r = await bearer(`${srv.url}${path}${path.includes('?') ? '&' : '?'}per_page=100`, tok.psb);
      assert.equal(r.status, 200, r.body);
      assert.ok(r.json.total <= 100 && r.json.items.length === r.json.total, `${path}: one page holds all ${r.json.total}`);
      return r.json.items.map((x) => x.number);
    };
    const queue = await list('/api/v1/staff/queue');
    assert.deepEqual(queue, await want('completed_at IS NULL'), 'the running ones, in due-day order');
    assert.ok(queue.includes(late.number) && !queue.includes(done.number));
    assert.ok((await list('/api/v1/staff/queue?state=completed')).includes(done.number), 'the concluded, by their state');
    const overdue = await list('/api/v1/overdue');
    assert.deepEqual(overdue, await want(`completed_at IS NULL AND due_day < ${today}`), 'the running ones past their due day');
    assert.ok(overdue.includes(late.number) && !overdue.includes(done.number));
    const page = await (await pageLogin(srv.url, DEMO.staffA.phone)).get('/overdue');
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(late.number) && !page.body.includes(done.number), 'the overdue page lists the same');
  });

  test('the overdue list shows staff their own department only', async () => {
    const r = await bearer(`${srv.url}/api/v1/overdue?per_page=100`, tok.psb);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.json.items.every((x) => x.department === 'psb' && x.light === 'red'));
    assert.equal((await bearer(`${srv.url}/api/v1/overdue`, tok.a)).status, 403);
  });
});

// ---- pages ---------------------------------------------------------------------------

/** Posts a multipart form as the page client (cookies, address), without following. */
async function postMultipart(c, p, fd) {
  const res = await fetch(c.base + p, {
    method: 'POST', body: fd, redirect: 'manual', headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip },
  });
  c.jar.update(res.headers);
  return { status: res.status, body: await res.text(), location: res.headers.get('location') };
}

function applyForm(html, values, files) {
  const fd = new FormData();
  fd.append('_csrf', csrfOf(html, `/services/${ITEM.code}/apply`));
  fd.append('idempotency_key', htmlText(/name="idempotency_key" value="([^"]*)"/.exec(html)[1]));
  const draft = /name="draft" value="([^"]*)"/.exec(html);
  if (draft) fd.append('draft', draft[1]);
  for (const [k, v] of Object.entries(values)) fd.append(k, v);
  for (const [slot, buf] of Object.entries(files)) fd.append(`material_${slot}`, new Blob([buf], { type: 'application/pdf' }), `m${slot}.pdf`);
  return fd;
}

describe('pages', () => {
  let citizen;
  before(async () => { citizen = await pageLogin(srv.url, DEMO.citizen.phone); });
  const required = () => Object.fromEntries(ITEM.materials.map((m, i) => [i, m]).filter(([, m]) => m.required).map(([i]) => [i, pdf()]));

  test('the progress page keeps its address (with the query code) out of Referer headers', async () => {
    const r = await fetch(`${srv.url}/progress`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    const other = await fetch(`${srv.url}/services`);
    assert.equal(other.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
  });

  test('the guide page offers to apply online', async () => {
    const r = await citizen.get(`/services/${ITEM.code}`);
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(`href="/services/${ITEM.code}/apply"`));
  });

  test('apply through the multipart form and follow to the detail page', async () => {
    const page = await citizen.get(`/services/${ITEM.code}/apply`);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /enctype="multipart\/form-data"/);
    for (const f of ITEM.form) assert.match(page.body, new RegExp(`name="${f.key}"`));
    assert.match(page.body, /name="action" value="submit"/);
    assert.match(page.body, /name="action" value="draft"/);
    const r = await postMultipart(citizen, `/services/${ITEM.code}/apply`, applyForm(page.body, { ...formFor(ITEM), action: 'submit' }, required()));
    assert.equal(r.status, 303, r.body.slice(0, 500));
    const m = /^\/applications\/([^?]+)/.exec(r.location ?? '');
    assert.ok(m, r.location);
    const detail = await citizen.get(r.location);
    assert.equal(detail.status, 200);
    const text = htmlText(detail.body);
    assert.ok(text.includes(m[1]));
    assert.ok(text.includes(ITEM.name_zh));
    assert.match(detail.body, /\/applications\/[^/]+\/attachments\/\d+/);
    // The query code is shown to the applicant, and the file downloads.
    const api = await show(tok.a, m[1]);
    assert.ok(text.includes(api.json.query_code));
    const href = /href="(\/applications\/[^/]+\/attachments\/\d+)"/.exec(detail.body)[1];
    const dl = await citizen.get(href);
    assert.equal(dl.status, 200);
    // Listed under my applications.
    const mine = await citizen.get('/applications');
    assert.equal(mine.status, 200);
    assert.ok(htmlText(mine.body).includes(m[1]));
  });

  test('errors come back beside the fields with the uploaded file kept; then a draft; then submit', async () => {
    const page = await citizen.get(`/services/${ITEM.code}/apply`);
    const idField = ITEM.form.find((f) => f.type === 'id_number');
    const values = { ...formFor(ITEM), [idField.key]: '123', action: 'submit' };
    const r = await postMultipart(citizen, `/services/${ITEM.code}/apply`, applyForm(page.body, values, required()));
    assert.equal(r.status, 422, r.body.slice(0, 300));
    assert.match(r.body, /class="error-summary"/);
    assert.match(r.body, new RegExp(`href="#f_${idField.key}"`));
    assert.match(r.body, /name="kept_\d+" value="\d+"[^>]*checked/, 'the uploaded file is offered again');
    assert.ok(htmlText(r.body).includes(values[ITEM.form[0].key]), 'values are kept');
    // Save a draft with the kept file, no new upload.
    const kept = [...r.body.matchAll(/name="(kept_\d+)" value="(\d+)"/g)];
    const fd = applyForm(r.body, { ...values, [idField.key]: DEMO.citizen.id_number, action: 'draft' }, {});
    for (const k of kept) fd.append(k[1], k[2]);
    const d = await postMultipart(citizen, `/services/${ITEM.code}/apply`, fd);
    assert.equal(d.status, 303, d.body.slice(0, 300));
    assert.match(d.location, new RegExp(`^/services/${ITEM.code}/apply\\?draft=\\d+`));
    const draft = await citizen.get(d.location);
    assert.equal(draft.status, 200);
    assert.match(draft.body, /role="status"/);
    assert.match(draft.body, /name="draft" value="\d+"/);
    assert.match(draft.body, /name="kept_\d+" value="\d+"/);
    // Submit the draft.
    const fd2 = applyForm(draft.body, { ...formFor(ITEM), action: 'submit' }, {});
    for (const k of draft.body.matchAll(/name="(kept_\d+)" value="(\d+)"/g)) fd2.append(k[1], k[2]);
    const s = await postMultipart(citizen, `/services/${ITEM.code}/apply`, fd2);
    assert.equal(s.status, 303, s.body.slice(0, 500));
    assert.match(s.location, /^\/applications\//);
  });

  test('a page form without the CSRF token is refused', async () => {
    const page = await citizen.get(`/services/${ITEM.code}/apply`);
    const fd = applyForm(page.body, { ...formFor(ITEM), action: 'submit' }, required());
    fd.set('_csrf', 'forged');
    const r = await postMultipart(citizen, `/services/${ITEM.code}/apply`, fd);
    assert.equal(r.status, 403);
  });

  test('staff act through the detail page; errors are shown on it', async () => {
    const app = await applied();
    const staff = await pageLogin(srv.url, DEMO.staffA.phone);
    const q = await staff.get('/staff/queue');
    assert.equal(q.status, 200);
    assert.ok(htmlText(q.body).includes(app.number));
    const d = await staff.get(`/applications/${app.number}`);
    assert.equal(d.status, 200);
    assert.match(d.body, new RegExp(`action="/applications/${app.number}/actions/accept"`));
    const csrf = csrfOf(d.body, `/applications/${app.number}/actions/refuse`);
    const version = /name="version" value="(\d+)"/.exec(d.body)[1];
    const noReason = await staff.post(`/applications/${app.number}/actions/refuse`, { _csrf: csrf, version, reason: '' });
    assert.equal(noReason.status, 422);
    assert.match(noReason.body, /class="error-summary"/);
    const acc = await staff.post(`/applications/${app.number}/actions/accept`, { _csrf: csrf, version });
    assert.equal(acc.status, 303, acc.body.slice(0, 300));
    const stale = await staff.post(`/applications/${app.number}/actions/refuse`, { _csrf: csrf, version, reason: '晚了' });
    assert.equal(stale.status, 409, 'a form from before the acceptance is stale');
    const after = await staff.get(acc.location);
    assert.equal(after.status, 200);
    assert.match(htmlText(after.body), /绿灯 — 剩余 \d+ 个工作日/);
    assert.equal((await show(tok.a, app.number)).json.state, 'accepted');
    // Another citizen gets 404 for the page and its action.
    const b = await pageLogin(srv.url, DEMO.agent.phone);
    assert.equal((await b.get(`/applications/${app.number}`)).status, 404);
  });

  test('the progress page answers with the right code only', async () => {
    const app = await applied();
    const c = new Client(srv.url);
    const form = await c.get('/progress');
    assert.equal(form.status, 200);
    const ok_ = await c.get(`/progress?number=${app.number}&code=${app.query_code}`);
    assert.equal(ok_.status, 200);
    assert.ok(htmlText(ok_.body).includes('已提交'));
    assert.ok(!ok_.body.includes(DEMO.citizen.id_number));
    assert.ok(!htmlText(ok_.body).includes(DEMO.citizen.name));
    const bad = await c.get(`/progress?number=${app.number}&code=NOPE1234`);
    assert.equal(bad.status, 404);
    assert.match(bad.body, /class="error-summary"/);
  });

  test('an item that cannot be applied for online says so', async () => {
    const low = catalog.services.find((s) => s.online_depth < 3);
    if (!low) return;
    const r = await citizen.get(`/services/${low.code}/apply`);
    assert.equal(r.status, 409);
    // Its guide offers no way to apply online; one that can be applied for does.
    const guide = await citizen.get(`/services/${low.code}`);
    assert.doesNotMatch(guide.body, new RegExp(`href="/services/${low.code}/apply"`));
    const online = await citizen.get(`/services/${ITEM.code}`);
    assert.match(online.body, new RegExp(`href="/services/${ITEM.code}/apply"`));
  });

  test('unknown ids and items are 404, never 500', async () => {
    for (const p of ['/services/nope-0000/apply', `/services/${ITEM.code}/apply?draft=999999`, `/services/${ITEM.code}/apply?draft=abc`,
      '/applications/NOPE', '/applications/NOPE/attachments/1']) {
      const r = await citizen.get(p);
      assert.equal(r.status, 404, p);
    }
    const staff = await pageLogin(srv.url, DEMO.staffA.phone);
    assert.equal((await staff.get('/staff/queue?state=bogus')).status, 400);
    const overdue = await staff.get('/overdue');
    assert.equal(overdue.status, 200);
    assert.match(overdue.body, /<h1>超期办件<\/h1>/);
  });
});
