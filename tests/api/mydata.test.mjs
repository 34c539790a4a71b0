// "My data" (src/privacy, docs/privacy.md), on the backend the run chooses:
// - the export (API and page) holds every part of the person's own rows, masks of sealed
//   values, and no other person's rows;
// - a correction of contact data changes the row and is a logged action (a new leaf in the
//   transparency log, a security event), and the audit stays clean;
// - the access log in the export lists a staff view and a reveal, with the department, never
//   the staff member's name;
// - closing the account asks for the password, erases what docs/privacy.md says is erased,
//   keeps what the law requires, refuses the log-in afterwards, and the audit stays clean;
// - an enterprise's data holds what its agent filed for it and the agent's does not; the
//   enterprise's closure ends the agent's authorisation, not the agent's account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import {
  DEMO, DEMO_PASSWORD, Client, apiLogin, apiToken, bearer, csrfOf, freshTotp, govhall, htmlText, newIdNumber, newPhone,
  pageLogin, sql, startServer, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';

const N = 700_000 + (process.pid % 50_000) * 3;
const tag = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
const PASSWORD = 'My data test password 42';
const STAFF_NAME = '赵六'; // the demo clerk of psb
const PARTS = ['account', 'contact', 'sessions', 'api_tokens', 'agents', 'security_events', 'applications',
  'application_events', 'attachments', 'access_events', 'drafts', 'bundle_drafts', 'evaluations', 'consultations',
  'complaints', 'payments', 'receipts', 'bookings', 'certificates', 'inbox', 'notify_prefs', 'name_corrections', 'forwarded', 'wallet_consent',
  'wallet_other_halls'];
const ERASED = ['contact', 'sessions', 'api_tokens', 'agents', 'drafts', 'bundle_drafts', 'inbox', 'notify_prefs', 'wallet_other_halls'];

const ITEM = {
  code: 'psb-9901', name_zh: '数据测试事项', name_en: 'My data test item', department: 'psb', audience: ['individual'],
  theme: 'household', item_type: 'public_service', level: 'city', legal_limit_days: 20, promised_limit_days: 5,
  fee_yuan: 0, online_depth: 4, visits_required: 0, conditions_zh: '本市居民。', conditions_en: 'Residents.',
  legal_basis_zh: '《测试条例》', materials: [],
  form: [
    { key: 'applicant_name', label_zh: '申请人姓名', label_en: 'Applicant name', type: 'text', required: true },
    { key: 'phone', label_zh: '联系电话', label_en: 'Phone', type: 'phone', required: true },
    { key: 'purpose', label_zh: '用途', label_en: 'Purpose', type: 'text', required: false },
  ],
};

const ITEM_ENT = { ...ITEM, code: 'psb-9902', name_zh: '数据测试企业事项', name_en: 'My data enterprise item', audience: ['enterprise'] };

let srv;
let base;
const people = {}; // a, b: {name, id, phone, token, accountId, number}

async function person(key, name, n) {
  const p = { name, id: newIdNumber(n), phone: newPhone(), formPhone: newPhone() };
  const reg = await bearer(`${base}/api/v1/accounts/individual`, null, { method: 'POST',
    json: { name, id_number: p.id, phone: p.phone, password: PASSWORD } });
  assert.equal(reg.status, 202, reg.body);
  const login = await apiLogin(base, p.phone, PASSWORD, { scopes: 'profile,account,apply' });
  p.token = login.token;
  p.accountId = login.account.id;
  const a = await bearer(`${base}/api/v1/services/${ITEM.code}/applications`, p.token, { method: 'POST',
    json: { form: { applicant_name: name, phone: p.formPhone, purpose: `用途${key}${tag}` }, materials: [], submit: true,
      idempotency_key: `md-${tag}-${key}` } });
  assert.equal(a.status, 201, a.body);
  p.number = a.json.number;
  people[key] = p;
  return p;
}

/** The characters a PDF draws: the union of its fonts' ToUnicode maps (cairo subsets each font
 * to the glyphs drawn, and maps every one of them). */
function drawnChars(buf) {
  const chars = new Set();
  const latin = buf.toString('latin1');
  const utf16 = (hex) => Buffer.from(hex, 'hex').swap16().toString('utf16le');
  for (const m of latin.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = latin.indexOf('endstream', start);
    if (end < 0) continue;
    let text;
    try {
      text = inflateSync(buf.subarray(start, end)).toString('latin1');
    } catch {
      text = latin.slice(start, end);
    }
    for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
      for (const p of block[1].matchAll(/<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]+)>/g)) for (const ch of utf16(p[1])) chars.add(ch);
    }
    for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
      for (const p of block[1].matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
        const first = parseInt(p[3], 16);
        for (let k = 0; k <= parseInt(p[2], 16) - parseInt(p[1], 16); k++) chars.add(String.fromCodePoint(first + k));
      }
    }
  }
  return chars;
}

const part = (data, name) => data.parts.find((p) => p.name === name);
const audit = () => govhall(['audit', '--db', srv.db], { keyFile: srv.keyFile });
async function expectCleanAudit(what) {
  const r = await audit();
  assert.equal(r.code, 0, `${what}: the audit is not clean:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /, 0 problem\(s\)/);
}

before(async () => {
  srv = await startServer({ name: 'mydata', extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
  const tmp = await tempDir('govhall-mydata-');
  const file = await writeJsonFile(tmp.path, 'mydata.json', { services: [ITEM, ITEM_ENT] });
  const imp = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(imp.code, 0, imp.stderr);
  await person('a', `欧阳数据${tag.slice(-4)}`, N);
  await person('b', `司马别人${tag.slice(-4)}`, N + 1);
});
after(async () => {
  await srv?.stop();
});

describe('export', () => {
  test('the JSON holds every part of the person\'s own rows, masks only, and nothing of another person', async () => {
    const { a, b } = people;
    const r = await bearer(`${base}/api/v1/me/data`, a.token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.json.format, 'govhall-mydata/1');
    assert.equal(r.json.account_id, a.accountId);
    assert.deepEqual(r.json.parts.map((p) => p.name).sort(), [...PARTS].sort());
    for (const p of r.json.parts) {
      assert.equal(p.kept, !ERASED.includes(p.name), p.name);
      assert.ok(p.title && p.on_closure && !p.on_closure.startsWith('mydata_'), `${p.name} has no words`);
    }
    assert.equal(part(r.json, 'account').rows[0].name, a.name);
    assert.equal(part(r.json, 'account').rows[0].id_mask, `${a.id.slice(0, 4)}${'*'.repeat(10)}${a.id.slice(-4)}`);
    assert.equal(part(r.json, 'contact').rows[0].phone_mask, `${a.phone.slice(0, 3)}****${a.phone.slice(-4)}`);
    const apps = part(r.json, 'applications').rows;
    assert.deepEqual(apps.map((x) => x.number), [a.number]);
    assert.equal(JSON.parse(apps[0].form).phone, `${a.formPhone.slice(0, 3)}****${a.formPhone.slice(-4)}`);
    assert.equal(typeof apps[0].submitted_at, 'number');
    assert.ok(part(r.json, 'application_events').rows.some((e) => e.application === a.number && e.action === 'submit'));
    assert.ok(part(r.json, 'sessions').rows.length + part(r.json, 'api_tokens').rows.length >= 1);
    assert.ok(part(r.json, 'api_tokens').rows.every((t) => !('token_hash' in t)));
    // Nothing full, nothing of b.
    for (const secret of [a.id, a.phone, a.formPhone, b.name, b.number, b.phone, b.id, `用途b${tag}`]) {
      assert.ok(!r.body.includes(secret), `the export holds ${secret}`);
    }
    // b's own export has b's application and not a's.
    const rb = await bearer(`${base}/api/v1/me/data`, b.token);
    assert.deepEqual(part(rb.json, 'applications').rows.map((x) => x.number), [b.number]);
    assert.ok(!rb.body.includes(a.number));
    // A token without the profile scope may not read it; a visitor neither.
    const narrow = await apiLogin(base, a.phone, PASSWORD, { scopes: 'apply' });
    assert.equal((await bearer(`${base}/api/v1/me/data`, narrow.token)).status, 403);
    assert.equal((await bearer(`${base}/api/v1/me/data`, null)).status, 401);
  });

  test('the page shows the same in people\'s words and offers the download, the access log and closure', async () => {
    const { a, b } = people;
    const c = await pageLogin(base, a.phone, PASSWORD);
    const page = await c.get('/me/data');
    assert.equal(page.status, 200);
    const text = htmlText(page.body);
    assert.ok(text.includes(a.number) && text.includes(a.name));
    assert.ok(!text.includes(b.number) && !text.includes(a.formPhone) && !text.includes(a.id));
    assert.ok(!/mydata_(col|part|why)_/.test(page.body), 'a word is missing from the catalogs');
    assert.match(text, /已提交|受理/); // the application's state in words, not "submitted"
    for (const href of ['/me/data/export.json', '/account/access', '/account/phone', '/me/data/close']) {
      assert.ok(page.body.includes(`href="${href}"`), `no link to ${href}`);
    }
    assert.ok((await c.get('/account')).body.includes('href="/me/data"'), 'the account page does not link to my data');
    assert.ok((await c.get('/')).body.includes('href="/me/data"'), 'the navigation does not link to my data');
    // Columns written in both languages (the inbox's titles and texts) show in the reader's.
    const demo = await pageLogin(base, DEMO.citizen.phone, undefined, { lang: 'en' });
    const demoPage = await demo.get('/me/data');
    assert.ok(demoPage.body.includes('Title (English)') && !demoPage.body.includes('Title (Chinese)'), 'both languages shown');
    const firm = await pageLogin(base, DEMO.enterprise.phone);
    assert.ok((await firm.get('/')).body.includes('href="/me/data"'), 'an enterprise\'s navigation does not link to my data');
    assert.equal((await firm.get('/me/data')).status, 200);
    const file = await c.get('/me/data/export.json');
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-disposition') ?? '', /attachment/);
    assert.equal(JSON.parse(file.body).account_id, a.accountId);
    // The same as a PDF to keep: a person's own name is drawn in it (its characters are in the
    // fonts' maps to Unicode), the other person's is not.
    const res = await fetch(`${base}/me/data/export.pdf`, { headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="my-data.pdf"/);
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    const pdf = Buffer.from(await res.arrayBuffer());
    assert.ok(pdf.subarray(0, 5).toString() === '%PDF-', 'not a PDF');
    const drawn = drawnChars(pdf);
    for (const ch of a.name) assert.ok(drawn.has(ch), `${ch} of the person's name is not drawn`);
    assert.ok(!drawn.has('司') || !drawn.has('马'), 'the other person\'s name is drawn');
    assert.ok(page.body.includes('href="/me/data/export.pdf"'), 'no link to the PDF');
    // Staff have no such page (their data is the department's work).
    const staff = await pageLogin(base, DEMO.staffA.phone);
    assert.equal((await staff.get('/me/data')).status, 403);
    assert.equal((await staff.get('/me/data/export.pdf')).status, 403);
    assert.ok(!(await staff.get('/')).body.includes('href="/me/data"'));
  });
});

describe('correction', () => {
  test('a new e-mail address changes the row and is logged: a leaf, a security event, a clean audit', async () => {
    const { a } = people;
    const leaves = Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_leaves'));
    const email = `md${tag}@example.org`;
    const r = await bearer(`${base}/api/v1/me/email`, a.token, { method: 'PUT', json: { email } });
    assert.equal(r.status, 200, r.body);
    const data = (await bearer(`${base}/api/v1/me/data`, a.token)).json;
    assert.match(part(data, 'contact').rows[0].email_mask, /\*/);
    assert.ok(!JSON.stringify(data).includes(email), 'the export holds the full address');
    assert.ok(part(data, 'security_events').rows.some((e) => e.kind === 'account.email_set'));
    assert.ok(Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_leaves')) > leaves, 'the change is not in the log');
    await expectCleanAudit('after a correction');
  });

  test('a name is corrected through review: asked with a reason, approved by an administrator, logged', async () => {
    const { a } = people;
    const newName = `欧阳更正${tag.slice(-4)}`;
    const ask = (json, token = a.token) => bearer(`${base}/api/v1/me/name-corrections`, token, { method: 'POST', json });
    assert.equal((await ask({ name: newName, reason: '' })).status, 422);
    assert.equal((await ask({ name: a.name, reason: '登记有误' })).status, 422, 'the same name is no correction');
    const r = await ask({ name: newName, reason: '户口簿登记的是这个名字' });
    assert.equal(r.status, 202, r.body);
    assert.equal(r.json.state, 'pending');
    assert.equal((await ask({ name: `${newName}二`, reason: '再次申请' })).status, 409, 'one pending request at a time');
    // Not yet: the name stays until an administrator decides.
    assert.equal((await bearer(`${base}/api/v1/me`, a.token)).json.name, a.name);
    assert.equal((await bearer(`${base}/api/v1/admin/name-corrections`, a.token)).status, 403);

    const admin = (await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp), scopes: 'admin' })).token;
    const list = await bearer(`${base}/api/v1/admin/name-corrections`, admin);
    assert.equal(list.status, 200, list.body);
    const item = list.json.items.find((x) => x.id === r.json.id);
    assert.deepEqual([item.state, item.old_name, item.new_name, item.account_id], ['pending', a.name, newName, a.accountId]);
    const leaves = Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_leaves'));
    const decide = (json) => bearer(`${base}/api/v1/admin/name-corrections/${r.json.id}`, admin, { method: 'POST', json });
    assert.equal((await decide({ decision: 'maybe' })).status, 422);
    const ok = await decide({ decision: 'approve', note: '已核对户口簿' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.state, 'approved');
    assert.equal((await decide({ decision: 'reject' })).status, 409, 'decided once');
    assert.equal((await bearer(`${base}/api/v1/me`, a.token)).json.name, newName);
    assert.ok(Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_leaves')) > leaves, 'the correction is not in the log');
    const data = (await bearer(`${base}/api/v1/me/data`, a.token)).json;
    assert.equal(part(data, 'account').rows[0].name, newName);
    assert.equal(part(data, 'name_corrections').rows[0].state, 'approved');
    assert.ok(part(data, 'security_events').rows.some((e) => e.kind === 'account.name_corrected'));
    a.name = newName;
    await expectCleanAudit('after a name correction');
  });

  test('the name pages: the citizen asks through a form (CSRF), the administrator rejects through a form', async () => {
    const { b } = people;
    const c = await pageLogin(base, b.phone, PASSWORD);
    const page = await c.get('/account/name');
    assert.equal(page.status, 200);
    const csrf = csrfOf(page.body, '/account/name');
    assert.equal((await c.request('POST', '/account/name', { form: { name: '司马新名', reason: '登记错误' } })).status, 403);
    const bad = await c.post('/account/name', { name: 'x', reason: '登记错误', _csrf: csrf });
    assert.equal(bad.status, 422);
    const sent = await c.post('/account/name', { name: '司马新名', reason: '登记错误', _csrf: csrf });
    assert.equal(sent.status, 303, sent.body.slice(0, 300));
    assert.ok(htmlText((await c.get(sent.location)).body).includes('审核中'));
    const admin = await pageLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO.admin.totp });
    const list = await admin.get('/admin/name-corrections');
    assert.equal(list.status, 200);
    const id = Number(await sql(srv.db, `SELECT id FROM name_corrections WHERE account_id = ${b.accountId} AND state = 'pending'`));
    const action = `/admin/name-corrections/${id}`;
    assert.ok(list.body.includes(`action="${action}"`));
    const done = await admin.post(action, { decision: 'reject', note: '请携带证件到窗口办理', _csrf: csrfOf(list.body, action) });
    assert.equal(done.status, 303, done.body.slice(0, 300));
    assert.equal(await sql(srv.db, `SELECT state || ':' || name FROM name_corrections c JOIN accounts a ON a.id = c.account_id WHERE c.id = ${id}`), `rejected:${b.name}`);
    assert.ok(htmlText((await c.get('/account/name')).body).includes('请携带证件到窗口办理'));
    await expectCleanAudit('after a rejected name correction');
  });
});

describe('access log', () => {
  test('a staff view and a reveal are in the export with the department, not the staff member\'s name', async () => {
    const { a } = people;
    const staff = (await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD, { scopes: 'profile,apply' })).token;
    assert.equal((await bearer(`${base}/api/v1/applications/${a.number}`, staff)).status, 200);
    const rv = await bearer(`${base}/api/v1/applications/${a.number}/reveal`, staff, { method: 'POST',
      json: { field: 'phone', reason: '核对' } });
    assert.equal(rv.status, 200, rv.body);
    const r = await bearer(`${base}/api/v1/me/data`, a.token);
    const ev = part(r.json, 'access_events').rows.filter((e) => e.application === a.number);
    assert.deepEqual(ev.map((e) => e.kind).sort(), ['reveal', 'view']);
    const psb = await sql(srv.db, "SELECT name_zh FROM departments WHERE code = 'psb'");
    for (const e of ev) {
      assert.equal(e.department, 'psb');
      assert.equal(e.department_name, psb, 'the department is not named');
      assert.equal(typeof e.happened_at, 'number');
      assert.ok(!('actor_id' in e));
    }
    assert.equal(ev.find((e) => e.kind === 'reveal').field, 'phone');
    assert.ok(!r.body.includes(STAFF_NAME));
    const c = await pageLogin(base, a.phone, PASSWORD);
    const text = htmlText((await c.get('/me/data')).body);
    assert.ok(text.includes('显示完整信息') && text.includes('查看办件'), 'the page does not name the kinds of access');
    // Departments and services by name, on the page as in the file, in the reader's language.
    assert.ok(text.includes(psb) && !/(^|\s)psb(\s|$)/.test(text), 'the page shows the department\'s code');
    assert.ok(text.includes(ITEM.name_zh) && !text.includes(ITEM.code), 'the page shows the service\'s code');
    assert.equal(part(r.json, 'applications').rows.find((x) => x.number === a.number).item_name, ITEM.name_zh);
    const enData = await bearer(`${base}/api/v1/me/data?lang=en`, a.token);
    assert.equal(part(enData.json, 'applications').rows.find((x) => x.number === a.number).item_name, ITEM.name_en);
    assert.match(text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  });
});

describe('closing the account', () => {
  test('the API asks for the password, erases and keeps as documented, and the log-in is refused', async () => {
    const { a } = people;
    const id = a.accountId;
    // something of every erased kind: an inbox message (the submission's), a channel choice
    const prefs = await bearer(`${base}/api/v1/me/notification-settings`, a.token, { method: 'PUT',
      json: { topics: { progress: { inbox: true, email: false, sms: false } } } });
    assert.ok(prefs.status < 300, prefs.body);
    const count = async (table, col = 'account_id') => Number(await sql(srv.db, `SELECT COUNT(*) FROM ${table} WHERE ${col} = ${id}`));
    const appsBefore = await count('applications', 'applicant_id');
    // the department accepts: a message in the inbox
    const staff = (await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD, { scopes: 'apply' })).token;
    const acc = await bearer(`${base}/api/v1/applications/${a.number}/actions/accept`, staff, { method: 'POST', json: {} });
    assert.equal(acc.status, 200, acc.body);
    await waitFor(async () => await count('inbox') > 0, { what: 'the message of the acceptance' });
    assert.ok(await count('notify_prefs') > 0, 'nothing to erase');
    const eventsBefore = await count('security_events');

    const wrong = await bearer(`${base}/api/v1/me/close`, a.token, { method: 'POST', json: { password: 'not it' } });
    assert.equal(wrong.status, 422, wrong.body);
    assert.ok(wrong.json.fields?.password || JSON.stringify(wrong.json).includes('password'));
    const empty = await bearer(`${base}/api/v1/me/close`, a.token, { method: 'POST', json: {} });
    assert.equal(empty.status, 422);
    const narrow = await apiLogin(base, a.phone, PASSWORD, { scopes: 'profile' });
    assert.equal((await bearer(`${base}/api/v1/me/close`, narrow.token, { method: 'POST', json: { password: PASSWORD } })).status, 403);

    const r = await bearer(`${base}/api/v1/me/close`, a.token, { method: 'POST', json: { password: PASSWORD } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.closed, true);
    assert.deepEqual(r.json.erased.map((p) => p.name).sort(), [...ERASED].sort());
    assert.ok(r.json.kept.some((p) => p.name === 'applications' && p.why.length > 10));

    // erased
    assert.equal(await sql(srv.db, `SELECT COALESCE(phone_mask, '') || COALESCE(email_mask, '') || COALESCE(phone_index, '') || COALESCE(id_index, '') FROM accounts WHERE id = ${id}`), '');
    for (const t of ['sessions', 'api_tokens', 'inbox', 'notify_prefs']) assert.equal(await count(t), 0, t);
    assert.equal(await sql(srv.db, `SELECT password_hash FROM accounts WHERE id = ${id}`), '!', 'the password hash is kept');
    // kept
    assert.equal(await count('applications', 'applicant_id'), appsBefore);
    assert.ok(await count('security_events') > eventsBefore);
    assert.equal(await sql(srv.db, `SELECT status || ':' || name FROM accounts WHERE id = ${id}`), `disabled:${a.name}`);
    // no way back in: the token, the password, an administrator
    assert.equal((await bearer(`${base}/api/v1/me`, a.token)).status, 401);
    assert.notEqual((await apiToken(base, { login: a.phone, password: PASSWORD })).status, 201);
    assert.equal(Number(await sql(srv.db, `SELECT COUNT(*) FROM accounts WHERE id = ${id} AND closed_at IS NOT NULL`)), 1);
    await expectCleanAudit('after a closure');
    // The same ID number may register again (its index was erased): a new account.
    const again = await bearer(`${base}/api/v1/accounts/individual`, null, { method: 'POST',
      json: { name: a.name, id_number: a.id, phone: newPhone(), password: PASSWORD } });
    assert.equal(again.status, 202, again.body);
  });

  test('the page tells what is erased and kept, needs the CSRF token and the password, and logs out', async () => {
    const { b } = people;
    const c = await pageLogin(base, b.phone, PASSWORD);
    const page = await c.get('/me/data/close');
    assert.equal(page.status, 200);
    const text = htmlText(page.body);
    assert.ok(text.includes('依法保留') && text.includes('档案'), 'the page does not say what is kept and why');
    const csrf = csrfOf(page.body, '/me/data/close');
    assert.ok(csrf);
    assert.equal((await c.request('POST', '/me/data/close', { form: { password: PASSWORD } })).status, 403);
    const wrong = await c.post('/me/data/close', { password: 'nope', _csrf: csrf });
    assert.equal(wrong.status, 422);
    assert.ok(htmlText(wrong.body).includes('密码不正确'));
    const done = await c.post('/me/data/close', { password: PASSWORD, _csrf: csrf });
    assert.equal(done.status, 200, done.body.slice(0, 300));
    assert.ok(htmlText(done.body).includes('账户已注销'));
    assert.equal((await c.get('/me/data')).status === 200, false, 'the session outlived the closure');
    const login = new Client(base);
    const form = await login.get('/login');
    const r = await login.post('/login', { login: b.phone, password: PASSWORD, next: '', _csrf: csrfOf(form.body) });
    assert.notEqual(r.status, 303, 'a closed account logged in');
    await expectCleanAudit('after a closure on the page');
  });
});

describe('an enterprise and its agent', () => {
  test('the enterprise has what its agent filed for it, the agent has not; its closure ends the authorisation', async () => {
    const ent = await apiLogin(base, DEMO.enterprise.phone, DEMO_PASSWORD, { scopes: 'profile,account,apply' });
    const agent = await apiLogin(base, DEMO.agent.phone, DEMO_PASSWORD, { scopes: 'profile,account,apply' });
    const acting = await bearer(`${base}/api/v1/me/tokens`, agent.token, { method: 'POST',
      json: { name: 'mydata agent', channel: 'app', scopes: 'profile,apply', acting_for: ent.account.id } });
    assert.equal(acting.status, 201, acting.body);
    const filed = await bearer(`${base}/api/v1/services/${ITEM_ENT.code}/applications`, acting.json.token, { method: 'POST',
      json: { form: { applicant_name: DEMO.agent.name, phone: newPhone(), purpose: `企业${tag}` }, materials: [], submit: true,
        idempotency_key: `md-${tag}-ent` } });
    assert.equal(filed.status, 201, filed.body);
    const has = (data) => part(data, 'applications').rows.some((x) => x.number === filed.json.number);
    const theirs = await bearer(`${base}/api/v1/me/data`, ent.token);
    assert.ok(has(theirs.json), 'the enterprise does not see what was filed for it');
    assert.ok(part(theirs.json, 'agents').rows.some((x) => x.agent_id === agent.account.id));
    assert.equal(part(theirs.json, 'applications').rows.find((x) => x.number === filed.json.number).item_name, ITEM_ENT.name_zh);
    for (const token of [agent.token, acting.json.token]) {
      const own = await bearer(`${base}/api/v1/me/data`, token);
      assert.equal(own.status, 200, own.body);
      assert.equal(own.json.account_id, agent.account.id);
      assert.ok(!has(own.json), 'the agent\'s own data holds the enterprise\'s application');
    }

    const closed = await bearer(`${base}/api/v1/me/close`, ent.token, { method: 'POST', json: { password: DEMO_PASSWORD } });
    assert.equal(closed.status, 200, closed.body);
    assert.ok(closed.json.erased.some((x) => x.name === 'agents'));
    assert.equal(Number(await sql(srv.db, `SELECT COUNT(*) FROM enterprise_agents WHERE enterprise_id = ${ent.account.id}`)), 0);
    assert.ok(Number(await sql(srv.db, `SELECT COUNT(*) FROM applications WHERE enterprise_id = ${ent.account.id}`)) >= 1);
    assert.equal((await bearer(`${base}/api/v1/me/data`, acting.json.token)).status, 401, 'the agent still acts for it');
    assert.equal((await bearer(`${base}/api/v1/me/data`, agent.token)).status, 200, 'the agent\'s own account ended too');
    await expectCleanAudit('after an enterprise closed its account');
  });
});
