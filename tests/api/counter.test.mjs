// Counter intake (窗口收件), kiosk mode (自助终端) and the printable receipt (受理回执):
// a clerk with the counter duty files a walk-in citizen's application (channel "counter",
// filed by the clerk, the citizen's own); another department's item or a clerk without the
// duty is refused; an unregistered ID number is said plainly and creates nothing; the kiosk
// cookie makes a citizen's submission a "kiosk" one that ends on the receipt; the receipt is
// the applicant's (and the department's), nobody else's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, apiLogin, bearer, csrfOf, demoCatalog, demoForm, htmlText, newIdNumber, pageLogin, samplePdf, sql,
  startServer,
} from './helpers.mjs';

let srv;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'counter', extraArgs: ['--trust-proxy', 'true'] });
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, psb: DEMO.staffA })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

const catalog = demoCatalog();
// A psb item with a full online form (as tests/api/cases.test.mjs).
const ITEM = catalog.services.find((s) => s.code === 'psb-0001')
  ?? catalog.services.find((s) => s.department === 'psb' && s.online_depth >= 3);
const CIV_ITEM = catalog.services.find((s) => s.department === 'civ' && s.online_depth >= 3);

const formFor = demoForm;
const pdf = (tag) => samplePdf(0, tag);

/** Posts a multipart form as the page client (cookies, address), without following. */
async function postMultipart(c, p, fd) {
  const res = await fetch(c.base + p, {
    method: 'POST', body: fd, redirect: 'manual', headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip },
  });
  c.jar.update(res.headers);
  return { status: res.status, body: await res.text(), location: res.headers.get('location') };
}

/** The multipart body of an apply form page (hidden fields kept), with values and files. */
function formData(html, action, item, values, { files = true } = {}) {
  const fd = new FormData();
  fd.append('_csrf', csrfOf(html, action) ?? '');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    if (m[1] !== '_csrf') fd.append(m[1], htmlText(m[2]));
  }
  for (const [k, v] of Object.entries(values)) fd.append(k, v);
  if (files) {
    item.materials.forEach((m, i) => {
      if (m.required) fd.append(`material_${i}`, new Blob([pdf()], { type: 'application/pdf' }), `m${i}.pdf`);
    });
  }
  return fd;
}

/** Looks a citizen up at the counter (POST /staff/intake): the answer (303 to the form). */
async function lookup(c, item, idNumber) {
  const start = await c.get(`/staff/intake?item=${item}`);
  return c.post('/staff/intake', { item, id_number: idNumber, _csrf: csrfOf(start.body, '/staff/intake') ?? c.csrf ?? '' });
}

/** The intake form of item for the citizen with idNumber (looked up first). */
async function intakeForm(c, item, idNumber) {
  const go = await lookup(c, item, idNumber);
  assert.equal(go.status, 303, go.body.slice(0, 300));
  return c.get(go.location);
}

/** The visible text of a page (tags dropped, entities decoded). */
const visible = (html) => htmlText(html.replace(/<[^>]*>/g, ' '));
const accounts = async () => Number(await sql(srv.db, 'SELECT count(*) FROM accounts'));
const row = async (number, col) => sql(srv.db, `SELECT ${col} FROM applications WHERE number = '${number.replace(/'/g, '')}'`);

describe('counter intake', () => {
  let clerk;
  before(async () => { clerk = await pageLogin(srv.url, DEMO.staffA.phone); });

  test('the items of the department and the ID number lead to the confirmation', async () => {
    assert.ok(ITEM && ITEM.online_depth >= 3, 'a psb item with online depth >= 3');
    const start = await clerk.get('/staff/intake');
    assert.equal(start.status, 200, start.body.slice(0, 300));
    assert.match(start.body, new RegExp(`<option value="${ITEM.code}"`));
    assert.doesNotMatch(start.body, /<option value="civ-/, 'only the own department’s items');
    assert.match(start.body, /<form class="form-card intake-form" method="post" action="\/staff\/intake"/);
    // A lower-case x is normalised on the way; the number is posted and never put in an
    // address or shown back in full (a ticket names the citizen from here on).
    const go = await lookup(clerk, ITEM.code, DEMO.citizen.id_number.toLowerCase());
    assert.equal(go.status, 303, go.body.slice(0, 300));
    assert.match(go.location, new RegExp(`^/staff/intake/${ITEM.code}\\?applicant=\\d+\\.\\d+\\.[0-9a-f]{32}$`));
    const form = await clerk.get(go.location);
    assert.equal(form.status, 200, form.body.slice(0, 300));
    const text = visible(form.body);
    assert.ok(text.includes(DEMO.citizen.name), 'the name to confirm');
    assert.ok(!form.body.includes(DEMO.citizen.id_number), 'the ID number is on the page in full');
    assert.match(text, /1101\*+002X/);
    // A ticket is this clerk's, unaltered, and nobody else's.
    const ticket = /applicant=([^&"]+)/.exec(go.location)[1];
    const forged = ticket.replace(/^\d+/, (x) => String(Number(x) + 1));
    assert.equal((await clerk.get(`/staff/intake/${ITEM.code}?applicant=${forged}`)).status, 422);
    const other = await pageLogin(srv.url, DEMO.staffA.phone);
    assert.equal((await other.get(go.location)).status, 200, 'the same clerk in another session');
    assert.equal((await clerk.get(`/staff/intake/${ITEM.code}?id_number=${DEMO.citizen.id_number}`)).status, 200);
    assert.ok(!(await clerk.get(`/staff/intake/${ITEM.code}?id_number=${DEMO.citizen.id_number}`)).body.includes(DEMO.citizen.name),
      'an ID number in the address looks nobody up');
    assert.match(form.body, new RegExp(`action="/staff/intake/${ITEM.code}"`));
    assert.match(form.body, /enctype="multipart\/form-data"/);
    for (const f of ITEM.form) assert.match(form.body, new RegExp(`name="${f.key}"`));
    assert.doesNotMatch(form.body, /name="action" value="draft"/, 'no drafts at the counter');
    // The start page with bad input says what is wrong, beside the field.
    const bad = await lookup(clerk, ITEM.code, '123');
    assert.equal(bad.status, 422);
    assert.match(bad.body, /class="error-summary"/);
    assert.match(bad.body, /href="#id_number"/);
  });

  test('a walk-in application: channel counter, filed by the clerk, the citizen’s own', async () => {
    const form = await intakeForm(clerk, ITEM.code, DEMO.citizen.id_number);
    const r = await postMultipart(clerk, `/staff/intake/${ITEM.code}`,
      formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { ...formFor(ITEM), action: 'submit' }));
    assert.equal(r.status, 303, r.body.slice(0, 600));
    const m = /^\/applications\/([^/?]+)\?done=intake$/.exec(r.location ?? '');
    assert.ok(m, r.location);
    const number = m[1];

    // The clerk lands on the staff detail page, can accept at once and print the receipt.
    const detail = await clerk.get(r.location);
    assert.equal(detail.status, 200);
    assert.match(detail.body, new RegExp(`action="/applications/${number}/actions/accept"`));
    assert.match(detail.body, new RegExp(`href="/applications/${number}/receipt"`));
    assert.ok(htmlText(detail.body).includes(DEMO.citizen.name));

    // The API: channel counter; the filer is the clerk, the applicant the citizen.
    const staffView = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.psb);
    assert.equal(staffView.status, 200, staffView.body);
    assert.equal(staffView.json.channel, 'counter');
    assert.equal(staffView.json.state, 'submitted');
    const clerkId = (await bearer(`${srv.url}/api/v1/me`, tok.psb)).json;
    const citizenId = (await bearer(`${srv.url}/api/v1/me`, tok.a)).json;
    const idOf = (me) => String(me.id ?? me.account?.id);
    assert.equal(await row(number, 'filed_by'), idOf(clerkId));
    assert.equal(await row(number, 'applicant_id'), idOf(citizenId));

    // The citizen sees it among their applications.
    const mine = await bearer(`${srv.url}/api/v1/applications?per_page=100`, tok.a);
    assert.equal(mine.status, 200);
    const own = mine.json.items.find((x) => x.number === number);
    assert.ok(own, 'listed for the citizen');
    assert.equal(own.channel, 'counter');

    // The clerk accepts it right away.
    const page = await clerk.get(`/applications/${number}`);
    const acc = await clerk.post(`/applications/${number}/actions/accept`, {
      _csrf: csrfOf(page.body, `/applications/${number}/actions/accept`) ?? '',
      version: /name="version" value="(\d+)"/.exec(page.body)?.[1] ?? '',
    });
    assert.equal(acc.status, 303, acc.body.slice(0, 300));
    assert.equal((await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a)).json.state, 'accepted');
  });

  test('errors come back on the intake form, still for the same citizen', async () => {
    const form = await intakeForm(clerk, ITEM.code, DEMO.citizen.id_number);
    const r = await postMultipart(clerk, `/staff/intake/${ITEM.code}`,
      formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { action: 'submit' }, { files: false }));
    assert.equal(r.status, 422, r.body.slice(0, 300));
    assert.match(r.body, /class="error-summary"/);
    assert.ok(htmlText(r.body).includes(DEMO.citizen.name));
    assert.match(r.body, /name="intake_applicant" value="\d+\.\d+\.[0-9a-f]{32}"/);
    assert.ok(!r.body.includes(DEMO.citizen.id_number));
  });

  test('a form refused at the counter keeps the files sent with it; they go with the filing', async () => {
    const attachments = async () => Number(await sql(srv.db, 'SELECT count(*) FROM attachments'));
    const before = await attachments();
    const form = await intakeForm(clerk, ITEM.code, DEMO.citizen.id_number);
    // The files, without the form's values: refused, the files stored to be offered again.
    const r = await postMultipart(clerk, `/staff/intake/${ITEM.code}`,
      formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { action: 'submit' }));
    assert.equal(r.status, 422, r.body.slice(0, 300));
    const kept = [...r.body.matchAll(/name="(kept_\d+)" value="(-?\d+)"/g)];
    const required = ITEM.materials.filter((m) => m.required).length;
    assert.equal(kept.length, required, 'each file sent is offered again');
    for (const k of kept) assert.ok(Number(k[2]) > 0, `a stored file's id, not ${k[2]}`);
    assert.equal(await attachments(), before + required, 'stored once, unlinked');
    // The same form again with the kept files and the values: filed with those files.
    const fd = formData(r.body, `/staff/intake/${ITEM.code}`, ITEM, { ...formFor(ITEM), action: 'submit' }, { files: false });
    for (const k of kept) fd.append(k[1], k[2]);
    const ok = await postMultipart(clerk, `/staff/intake/${ITEM.code}`, fd);
    assert.equal(ok.status, 303, ok.body.slice(0, 600));
    const number = /^\/applications\/([^/?]+)\?done=intake$/.exec(ok.location ?? '')?.[1];
    assert.ok(number, ok.location);
    const app = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.psb);
    const ids = app.json.materials.flatMap((m) => (m.attachments ?? []).map((a) => String(a.id)));
    assert.deepEqual(ids.sort(), kept.map((k) => k[2]).sort());
    const id = await row(number, 'id');
    const linked = await sql(srv.db, `SELECT count(*) FROM attachments WHERE application_id = ${Number(id)}`);
    assert.equal(Number(linked), required, 'the files are the application’s now');
    assert.equal(await attachments(), before + required, 'nothing stored twice');
  });

  test('files sent with a submission are stored with it, under their own ids', async () => {
    const form = await intakeForm(clerk, ITEM.code, DEMO.citizen.id_number);
    const r = await postMultipart(clerk, `/staff/intake/${ITEM.code}`,
      formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { ...formFor(ITEM), action: 'submit' }));
    assert.equal(r.status, 303, r.body.slice(0, 600));
    const number = /^\/applications\/([^/?]+)\?done=intake$/.exec(r.location ?? '')?.[1];
    const app = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.psb);
    const files = app.json.materials.flatMap((m) => m.attachments ?? []);
    assert.equal(files.length, ITEM.materials.filter((m) => m.required).length);
    const id = Number(await row(number, 'id'));
    for (const f of files) {
      assert.ok(f.id > 0, `a stored id, not the provisional ${f.id}`);
      assert.equal(String(await sql(srv.db, `SELECT application_id FROM attachments WHERE id = ${Number(f.id)}`)), String(id));
      const got = await fetch(`${srv.url}/api/v1/applications/${number}/attachments/${f.id}`,
        { headers: { authorization: `Bearer ${tok.psb}` } });
      assert.equal(got.status, 200);
      assert.ok((await got.text()).startsWith('%PDF'), 'the bytes sent');
    }
  });

  test('an ID number without an account: said plainly, no account created', async () => {
    const before = await accounts();
    const unknown = newIdNumber(777_001);
    const r = await lookup(clerk, ITEM.code, unknown);
    assert.equal(r.status, 404, r.body.slice(0, 300));
    const text = htmlText(r.body);
    assert.ok(text.includes('没有使用该身份证号码注册的个人账户'), text.slice(0, 400));
    assert.ok(text.includes('注册'));
    // Posting a form without a good ticket is refused.
    const form = await intakeForm(clerk, ITEM.code, DEMO.citizen.id_number);
    const fd = formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { ...formFor(ITEM), action: 'submit' });
    fd.set('intake_applicant', unknown);
    const p = await postMultipart(clerk, `/staff/intake/${ITEM.code}`, fd);
    assert.equal(p.status, 422, p.body.slice(0, 300));
    assert.equal(await accounts(), before);
  });

  test('staff without the counter duty, and another department’s item, are refused (403)', async () => {
    const civ = await pageLogin(srv.url, DEMO.staffB.phone);
    const civRoles = "kind = 'staff' AND department = 'civ'";
    const roles = await sql(srv.db, `SELECT staff_roles FROM accounts WHERE ${civRoles}`);
    await sql(srv.db, `UPDATE accounts SET staff_roles = 'head' WHERE ${civRoles}`);
    try {
      const r = await civ.get('/staff/intake');
      assert.equal(r.status, 403, 'a department head without the counter duty');
      assert.ok(visible(r.body).includes('窗口受理'), 'says which duty is missing');
    } finally {
      await sql(srv.db, `UPDATE accounts SET staff_roles = '${roles}' WHERE ${civRoles}`);
    }
    // With the counter duty (as the demo's civ member has): still no psb items at the civ counter.
    assert.match(roles, /counter/);
    const start = await civ.get('/staff/intake');
    assert.equal(start.status, 200);
    assert.doesNotMatch(start.body, new RegExp(`<option value="${ITEM.code}"`));
    const clerk2 = await pageLogin(srv.url, DEMO.staffA.phone);
    const go = await lookup(clerk2, ITEM.code, DEMO.citizen.id_number);
    const g = await civ.get(go.location);
    assert.equal(g.status, 403, g.body.slice(0, 300));
    assert.equal((await lookup(civ, ITEM.code, DEMO.citizen.id_number)).status, 403);
    const form = await clerk2.get(go.location);
    const fd = formData(form.body, `/staff/intake/${ITEM.code}`, ITEM, { ...formFor(ITEM), action: 'submit' });
    fd.set('_csrf', civ.csrf ?? '');
    const p = await postMultipart(civ, `/staff/intake/${ITEM.code}`, fd);
    assert.equal(p.status, 403, p.body.slice(0, 300));
    if (CIV_ITEM) {
      const own = await lookup(civ, CIV_ITEM.code, DEMO.citizen.id_number);
      assert.equal(own.status, 303, own.body.slice(0, 300));
      assert.equal((await civ.get(own.location)).status, 200);
      // Another clerk's ticket is no ticket.
      const psbTicket = /applicant=([^&]+)/.exec(go.location)[1];
      assert.equal((await civ.get(`/staff/intake/${CIV_ITEM.code}?applicant=${psbTicket}`)).status, 422);
    }
    // Citizens are not staff.
    const citizen = await pageLogin(srv.url, DEMO.citizen.phone);
    assert.equal((await citizen.get('/staff/intake')).status, 403);
  });
});

describe('kiosk mode and the receipt', () => {
  let citizen;
  before(async () => { citizen = await pageLogin(srv.url, DEMO.citizen.phone); });

  test('GET /kiosk sets the cookie and shows the start page in kiosk style', async () => {
    const r = await citizen.get('/kiosk');
    assert.equal(r.status, 200);
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /kiosk=1; Path=\/; HttpOnly; SameSite=Strict/);
    assert.match(r.body, /<body class="kiosk">/);
    assert.match(r.body, /<script src="\/static\/js\/kiosk\.js" defer><\/script>/);
    for (const href of ['/services', '/progress']) assert.match(r.body, new RegExp(`href="${href}"`));
    // Other pages of the module carry the kiosk style too.
    const mine = await citizen.get('/applications');
    assert.match(mine.body, /<body class="kiosk">/);
    const js = await citizen.get('/static/js/kiosk.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
  });

  let number;
  let queryCode;
  test('a submission from a kiosk is filed through the kiosk channel and ends on the receipt', async () => {
    const page = await citizen.get(`/services/${ITEM.code}/apply`);
    assert.equal(page.status, 200);
    const r = await postMultipart(citizen, `/services/${ITEM.code}/apply`,
      formData(page.body, `/services/${ITEM.code}/apply`, ITEM, { ...formFor(ITEM), action: 'submit' }));
    assert.equal(r.status, 303, r.body.slice(0, 500));
    const m = /^\/applications\/([^/?]+)\/receipt\?done=submitted$/.exec(r.location ?? '');
    assert.ok(m, r.location);
    number = m[1];
    const api = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a);
    assert.equal(api.json.channel, 'kiosk');
    queryCode = api.json.query_code;
    assert.ok(queryCode);
    const receipt = await citizen.get(r.location);
    assert.equal(receipt.status, 200);
    const text = htmlText(receipt.body);
    assert.ok(text.includes(number));
    assert.ok(text.includes(queryCode));
    assert.ok(text.includes(ITEM.name_zh));
    const dept = catalog.departments?.find((d) => d.code === ITEM.department);
    if (dept?.phone) assert.ok(text.includes(dept.phone), 'the department’s phone');
    assert.match(receipt.body, /data-print hidden/);
    assert.doesNotMatch(receipt.body, /<script>/, 'no inline script');
  });

  test('leaving kiosk mode: the cookie is cleared and submissions are web ones again', async () => {
    const r = await citizen.get('/kiosk/exit');
    assert.equal(r.status, 303);
    assert.match(r.headers.get('set-cookie') ?? '', /kiosk=; Path=\/;.*Max-Age=0/);
    const page = await citizen.get(`/services/${ITEM.code}/apply`);
    assert.doesNotMatch(page.body, /class="kiosk"/);
    const s = await postMultipart(citizen, `/services/${ITEM.code}/apply`,
      formData(page.body, `/services/${ITEM.code}/apply`, ITEM, { ...formFor(ITEM), action: 'submit' }));
    assert.equal(s.status, 303);
    const n = /^\/applications\/([^/?]+)\?done=submitted$/.exec(s.location ?? '')?.[1];
    assert.ok(n, s.location);
    assert.equal((await bearer(`${srv.url}/api/v1/applications/${n}`, tok.a)).json.channel, 'web');
  });

  test('the receipt: the applicant’s and the department’s, nobody else’s', async () => {
    assert.ok(number);
    const own = await citizen.get(`/applications/${number}/receipt`);
    assert.equal(own.status, 200);
    assert.ok(htmlText(own.body).includes(queryCode));
    assert.match(own.body, /<script src="\/static\/js\/kiosk\.js" defer><\/script>/, 'the print button works outside kiosk mode');
    assert.doesNotMatch(own.body, /<body class="kiosk">/);
    const other = await pageLogin(srv.url, DEMO.agent.phone);
    const r = await other.get(`/applications/${number}/receipt`);
    assert.equal(r.status, 404);
    assert.ok(!htmlText(r.body).includes(queryCode));
    const clerk = await pageLogin(srv.url, DEMO.staffA.phone);
    const s = await clerk.get(`/applications/${number}/receipt`);
    assert.equal(s.status, 200);
    assert.ok(htmlText(s.body).includes(queryCode), 'the counter prints it for the applicant');
    const civ = await pageLogin(srv.url, DEMO.staffB.phone);
    assert.equal((await civ.get(`/applications/${number}/receipt`)).status, 404);
    const anon = await fetch(`${srv.url}/applications/${number}/receipt`, { redirect: 'manual' });
    assert.equal(anon.status, 303);
  });
});
