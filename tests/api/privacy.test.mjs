// Privacy as docs/security.md promises it, tested as a class:
// - known full values (an account's ID number, phone and e-mail, an enterprise's credit code
//   and phone; in application forms an ID
//   number, a phone, an e-mail and a postal address, a credit code, and fields the catalog marks
//   personal; in drafts, bundle drafts and bundles) are seeded, then every page and every API
//   response that each role reaches (every GET route of `govhall routes --json` filled with the
//   seeded numbers and ids, and every link of every page, breadth first) is searched for them,
//   and so are the raw database (a dump of every table, the SQLite file and its WAL, a backup
//   copy), the statistics exports and the server's log;
// - the anonymous progress answer holds the item, the department, states and dates, nothing else;
// - a staff member's reveal shows a value once and is an access event its applicant reads, as
//   are staff views of an application (one per person, application and day);
// - key rotation re-seals every form and the application still shows the same masks and
//   reveals the same values; forms stored in the clear before sealing are sealed by
//   `govhall key reseal` and by the server at start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEMO, DEMO_PASSWORD, apiLogin, backend, bearer, Client, csrfOf, freshDb, freshIp, freshTotp, govhall, htmlText,
  initDb, newIdNumber, newPhone, newUscc, pageLogin, routes, serve, sql, tempDir, writeJsonFile,
} from './helpers.mjs';

const N = 300_000 + (process.pid % 50_000) * 3;
const tag = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
const SEED = {
  accountId: newIdNumber(N),
  accountPhone: newPhone(),
  accountEmail: `acct${tag}@privacy.example.org`,
  enterpriseUscc: newUscc((N + 7) % 80_000_000),
  enterprisePhone: newPhone(),
  formId: newIdNumber(N + 1),
  formPhone: newPhone(),
  formEmail: `form${tag}@privacy.example.net`,
  formAddress: `清河市隐私路${tag}号`,
  formUscc: newUscc(N % 80_000_000),
  formBank: `6222${tag.padStart(15, '7').slice(-15)}`,
  formBirth: '1937-03-29',
  draftPhone: newPhone(),
  draftAddress: `清河市草稿街${tag}号`,
  bundleId: newIdNumber(N + 2),
  bundlePhone: newPhone(),
  bundleAddress: `清河市一件事巷${tag}号`,
  openDraftPhone: newPhone(),
};
const STAFF_NAME = '赵六'; // the demo clerk of psb
const NAME = '欧阳秘名'; // the applicant
const REASON = `身份核对（经办人周九${tag}）`;
const PASSWORD = 'Privacy test password 42';

const FIELDS = [
  { key: 'applicant_name', label_zh: '申请人姓名', label_en: 'Applicant name', type: 'text', required: true },
  { key: 'id_number', label_zh: '公民身份号码', label_en: 'ID number', type: 'id_number', required: true },
  { key: 'phone', label_zh: '联系电话', label_en: 'Phone', type: 'phone', required: true },
  { key: 'email', label_zh: '电子邮箱', label_en: 'E-mail', type: 'email', required: false },
  { key: 'home', label_zh: '住址', label_en: 'Home address', type: 'address', required: false },
  { key: 'company', label_zh: '统一社会信用代码', label_en: 'Credit code', type: 'uscc', required: false },
  { key: 'bank_account', label_zh: '收款账户', label_en: 'Bank account', type: 'text', required: false, personal: true },
  { key: 'birth', label_zh: '出生日期', label_en: 'Date of birth', type: 'date', required: false, personal: true },
  { key: 'purpose', label_zh: '用途', label_en: 'Purpose', type: 'text', required: false },
];

function item(code, form, extra = {}) {
  return {
    code, name_zh: `隐私测试事项${code}`, name_en: `Privacy test item ${code}`, department: 'psb', audience: ['individual'],
    theme: 'household', item_type: 'public_service', level: 'city', legal_limit_days: 20, promised_limit_days: 5,
    fee_yuan: 0, online_depth: 4, visits_required: 0, conditions_zh: '本市居民。', conditions_en: 'Residents.',
    legal_basis_zh: '《测试条例》', materials: [], form, keywords_zh: [NAME], ...extra,
  };
}
const ITEM = item('psb-9801', FIELDS, { outcome_ecert: 'household_register' });
const ITEM2 = item('psb-9802', [
  FIELDS[0], FIELDS[1], FIELDS[2], FIELDS[4],
  { key: 'contact_email', label_zh: '联系邮箱', label_en: 'Contact e-mail', type: 'email', required: false },
]);
const BUNDLE = {
  code: 'bundle-privacy', name_zh: '隐私测试一件事', name_en: 'Privacy test bundle', items: [ITEM.code, ITEM2.code],
  description_zh: '测试。', description_en: 'A test.',
};

let db;
let srv;
let base;
let citizenToken;
let citizenId;
let enterpriseId; // the seeded enterprise
let staffToken;
const apps = {}; // name -> {number, query_code}
const bundles = {}; // name -> id

function formValues(over = {}) {
  return {
    applicant_name: NAME, id_number: SEED.formId, phone: SEED.formPhone, email: SEED.formEmail,
    home: SEED.formAddress, company: SEED.formUscc, bank_account: SEED.formBank, birth: SEED.formBirth,
    purpose: '办理测试', ...over,
  };
}

/** Every seeded full value with its name. */
const needles = () => Object.entries(SEED);

/** The seeded values found in text (raw and with HTML entities decoded). */
function leaks(text) {
  if (!text) return [];
  const decoded = htmlText(text);
  return needles().filter(([, v]) => text.includes(v) || decoded.includes(v)).map(([k]) => k);
}

function exec(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 256 << 20, encoding: 'buffer' }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, stdout, stderr: String(stderr) });
    });
  });
}

/** Posts a multipart form as the page does, with the client's cookies and CSRF token. */
async function postMultipart(c, p, fields) {
  const fd = new FormData();
  for (const [k, v] of Object.entries({ _csrf: c.csrf ?? '', ...fields })) fd.append(k, v);
  const res = await fetch(c.base + p, { method: 'POST', body: fd, redirect: 'manual',
    headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip } });
  c.jar.update(res.headers);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

async function startHall() {
  srv = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
}

before(async () => {
  db = await freshDb('privacy');
  await initDb(db.url, { keyFile: db.keyFile });
  const tmp = await tempDir('govhall-privacy-');
  const file = await writeJsonFile(tmp.path, 'privacy.json', { services: [ITEM, ITEM2], bundles: [BUNDLE] });
  const imp = await govhall(['import', 'catalog', file, '--db', db.url]);
  assert.equal(imp.code, 0, imp.stderr);
  await startHall();

  // The citizen whose data is seeded: registered with a seeded ID number, phone and e-mail.
  const reg = await bearer(`${base}/api/v1/accounts/individual`, null, { method: 'POST',
    json: { name: NAME, id_number: SEED.accountId, phone: SEED.accountPhone, password: PASSWORD } });
  assert.equal(reg.status, 202, reg.body);
  const login = await apiLogin(base, SEED.accountPhone, PASSWORD, { scopes: 'profile,account,apply' });
  citizenToken = login.token;
  citizenId = login.account.id;
  const em = await bearer(`${base}/api/v1/me/email`, citizenToken, { method: 'PUT', json: { email: SEED.accountEmail } });
  assert.equal(em.status, 200, em.body);
  staffToken = (await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD, { scopes: 'profile,account,apply' })).token;
  // An enterprise with a seeded credit code and phone.
  const ent = await bearer(`${base}/api/v1/accounts/enterprise`, null, { method: 'POST',
    json: { name: '隐私测试科技有限公司', uscc: SEED.enterpriseUscc, legal_rep: '欧阳法人', phone: SEED.enterprisePhone,
      password: PASSWORD } });
  assert.equal(ent.status, 202, ent.body);
  enterpriseId = (await apiLogin(base, SEED.enterprisePhone, PASSWORD)).account.id;

  // An application through the API, worked by the department up to its certificate.
  const a = await bearer(`${base}/api/v1/services/${ITEM.code}/applications`, citizenToken, { method: 'POST',
    json: { form: formValues(), materials: [], submit: true, idempotency_key: `p-${tag}-1` } });
  assert.equal(a.status, 201, a.body);
  apps.main = { number: a.json.number, query_code: a.json.query_code };
  for (const [action, body] of [['accept', { reason: REASON }], ['start_review', {}], ['approve', {}],
    ['complete', { detail: { delivery: 'electronic' } }]]) {
    const r = await bearer(`${base}/api/v1/applications/${apps.main.number}/actions/${action}`, staffToken,
      { method: 'POST', json: body });
    assert.equal(r.status, 200, `${action}: ${r.body}`);
  }
  // Another one left open, for the queue.
  const b = await bearer(`${base}/api/v1/services/${ITEM2.code}/applications`, citizenToken, { method: 'POST',
    json: { form: { applicant_name: NAME, id_number: SEED.formId, phone: SEED.formPhone, home: SEED.formAddress },
      materials: [], submit: true, idempotency_key: `p-${tag}-2` } });
  assert.equal(b.status, 201, b.body);
  apps.open = { number: b.json.number, query_code: b.json.query_code };
});
after(async () => {
  await srv?.stop().catch(() => {});
  await db?.drop();
});

describe('drafts keep personal values sealed', () => {
  test('an item draft saved on the page is sealed, shows masks, and its submission keeps the saved values', async () => {
    const c = await pageLogin(base, SEED.accountPhone, PASSWORD);
    const page = await c.get(`/services/${ITEM.code}/apply`);
    assert.equal(page.status, 200);
    const key = /name="idempotency_key" value="([^"]+)"/.exec(page.body)[1];
    const saved = await postMultipart(c, `/services/${ITEM.code}/apply`, {
      ...formValues({ phone: SEED.draftPhone, home: SEED.draftAddress, id_number: SEED.formId }), idempotency_key: key,
      action: 'draft' });
    assert.equal(saved.status, 303, saved.body.slice(0, 300));
    const draftId = /draft=(\d+)/.exec(saved.location)[1];
    const row = await sql(db.url, `SELECT form FROM applications WHERE id = ${draftId}`);
    assert.deepEqual(leaks(row), [], 'the draft is stored with personal values in the clear');
    assert.match(row, /"sealed"/);
    const again = await c.get(saved.location);
    assert.equal(again.status, 200);
    assert.deepEqual(leaks(again.body), [], 'the draft page shows a saved personal value');
    assert.match(again.body, /saved-value/);
    // Submitted with the personal fields left empty: the saved values stay.
    const sub = await postMultipart(c, `/services/${ITEM.code}/apply`, {
      applicant_name: NAME, purpose: '办理测试', id_number: '', phone: '', home: '', draft: draftId,
      idempotency_key: key, action: 'submit' });
    assert.equal(sub.status, 303, sub.body.slice(0, 400));
    const number = /\/applications\/([^?]+)/.exec(sub.location)[1];
    apps.fromDraft = { number };
    for (const [field, want] of [['phone', SEED.draftPhone], ['home', SEED.draftAddress], ['id_number', SEED.formId]]) {
      const r = await bearer(`${base}/api/v1/applications/${number}/reveal`, citizenToken, { method: 'POST', json: { field } });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.value, want, field);
    }
    // One draft stays a draft, for the crawl.
    const page2 = await c.get(`/services/${ITEM.code}/apply`);
    const key2 = /name="idempotency_key" value="([^"]+)"/.exec(page2.body)[1];
    const d2 = await postMultipart(c, `/services/${ITEM.code}/apply`, {
      ...formValues({ phone: SEED.openDraftPhone }), idempotency_key: key2, action: 'draft' });
    assert.equal(d2.status, 303);
  });

  test('a bundle draft is sealed and masked in the API; its submission keeps the saved values', async () => {
    const key = `pb-${tag}`;
    const form = { applicant_name: NAME, id_number: SEED.bundleId, phone: SEED.bundlePhone, home: SEED.bundleAddress };
    const d = await bearer(`${base}/api/v1/bundles/${BUNDLE.code}/applications`, citizenToken, { method: 'POST',
      json: { form, materials: [], submit: false, idempotency_key: key } });
    assert.equal(d.status, 200, d.body);
    assert.deepEqual(leaks(d.body), [], 'the draft answer shows personal values');
    assert.deepEqual([...d.json.masked_fields].sort(), ['home', 'id_number', 'phone']);
    assert.equal(d.json.form.applicant_name, NAME);
    const row = await sql(db.url, `SELECT draft_form FROM bundle_applications WHERE id = ${d.json.id}`);
    assert.deepEqual(leaks(row), [], 'the bundle draft is stored with personal values in the clear');
    // Filed with the masks sent back as they came: the saved values are what is filed.
    const s = await bearer(`${base}/api/v1/bundles/${BUNDLE.code}/applications`, citizenToken, { method: 'POST',
      json: { form: d.json.form, materials: [], submit: true, idempotency_key: key } });
    assert.equal(s.status, 201, s.body);
    bundles.main = s.json.id;
    assert.equal(s.json.children.length, 2);
    for (const child of s.json.children) {
      const r = await bearer(`${base}/api/v1/applications/${child.number}/reveal`, citizenToken, { method: 'POST',
        json: { field: 'phone' } });
      assert.equal(r.json?.value, SEED.bundlePhone, r.body);
    }
    apps.bundleChild = { number: s.json.children[0].number };
    // And one bundle draft that stays one.
    const open = await bearer(`${base}/api/v1/bundles/${BUNDLE.code}/applications`, citizenToken, { method: 'POST',
      json: { form: { ...form, phone: SEED.openDraftPhone }, materials: [], submit: false, idempotency_key: `${key}-open` } });
    assert.equal(open.status, 200, open.body);
    bundles.draft = open.json.id;
  });
});

describe('the anonymous progress answer', () => {
  test('holds the item, the department, states and dates only', async () => {
    const r = await bearer(`${base}/api/v1/progress?number=${apps.main.number}&code=${apps.main.query_code}`, null);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(Object.keys(r.json).sort(), ['accepted_at', 'completed_at', 'department', 'department_name', 'due_day',
      'events', 'item_code', 'item_name', 'legal_due_day', 'legal_limit_days', 'light', 'number', 'paused',
      'promised_limit_days', 'state', 'state_name', 'submitted_at', 'terminal', 'working_days_left'].sort());
    assert.ok(r.json.events.length >= 5);
    for (const e of r.json.events) assert.deepEqual(Object.keys(e).sort(), ['action', 'action_name', 'at', 'state', 'state_name']);
    for (const bad of [REASON, STAFF_NAME, NAME, SEED.formId, SEED.formPhone]) {
      assert.ok(!r.body.includes(bad), `the progress answer holds ${bad}`);
    }
    const page = await new Client(base).get(`/progress?number=${apps.main.number}&code=${apps.main.query_code}`);
    assert.equal(page.status, 200);
    for (const bad of [REASON, STAFF_NAME, NAME]) assert.ok(!htmlText(page.body).includes(bad), `the progress page holds ${bad}`);
  });
});

describe('reveal and access events', () => {
  test('staff see masks; a reveal shows the value once and the applicant sees who, when and why', async () => {
    const n = apps.main.number;
    const before = await bearer(`${base}/api/v1/me/access`, citizenToken);
    assert.equal(before.status, 200, before.body);
    const detail = await bearer(`${base}/api/v1/applications/${n}`, staffToken);
    assert.equal(detail.status, 200);
    assert.deepEqual(leaks(detail.body), []);
    assert.equal(detail.json.form.id_number, `${SEED.formId.slice(0, 4)}${'*'.repeat(10)}${SEED.formId.slice(-4)}`);
    assert.equal(detail.json.form.phone, `${SEED.formPhone.slice(0, 3)}****${SEED.formPhone.slice(-4)}`);
    assert.equal(detail.json.form.purpose, '办理测试');
    assert.deepEqual([...detail.json.masked_fields].sort(), ['bank_account', 'birth', 'company', 'email', 'home', 'id_number', 'phone']);

    const r = await bearer(`${base}/api/v1/applications/${n}/reveal`, staffToken, { method: 'POST',
      json: { field: 'id_number', reason: REASON } });
    assert.equal(r.status, 200, `${r.body}\n${srv.stderr.slice(-5).join('\n')}`);
    assert.equal(r.json.value, SEED.formId);
    assert.equal(r.json.label, '公民身份号码');

    // The page: masked, with a reveal form; posting it (CSRF) shows the value.
    const staff = await pageLogin(base, DEMO.staffA.phone);
    const page = await staff.get(`/applications/${n}`);
    assert.equal(page.status, 200);
    assert.deepEqual(leaks(page.body), []);
    assert.ok(!htmlText(page.body).includes(SEED.formPhone));
    const action = `/applications/${n}/reveal`;
    assert.ok(page.body.includes(`action="${action}"`), 'no reveal form on the staff page');
    const noCsrf = await staff.request('POST', action, { form: { field: 'phone' } });
    assert.equal(noCsrf.status, 403);
    const shown = await staff.post(action, { field: 'phone', reason: '' , _csrf: csrfOf(page.body, action) });
    assert.equal(shown.status, 200, shown.body.slice(0, 300));
    assert.ok(htmlText(shown.body).includes(SEED.formPhone), 'the revealed value is not on the page');
    const plain = await staff.get(`/applications/${n}`);
    assert.ok(!htmlText(plain.body).includes(SEED.formPhone), 'a reveal is shown more than once');

    // Who may not: another department (not found), an administrator, the enterprise.
    const civ = (await apiLogin(base, DEMO.staffB.phone, DEMO_PASSWORD, { scopes: 'apply' })).token;
    assert.equal((await bearer(`${base}/api/v1/applications/${n}/reveal`, civ, { method: 'POST', json: { field: 'phone' } })).status, 404);
    const admin = (await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp), scopes: 'apply,admin' })).token;
    assert.equal((await bearer(`${base}/api/v1/applications/${n}/reveal`, admin, { method: 'POST', json: { field: 'phone' } })).status, 403);
    assert.equal((await bearer(`${base}/api/v1/applications/${n}/reveal`, staffToken, { method: 'POST', json: { field: 'purpose' } })).status, 404);
    assert.equal((await bearer(`${base}/api/v1/applications/${n}/reveal`, staffToken, { method: 'POST', json: { field: 'phone', reason: 'x'.repeat(201) } })).status, 422);
    // The applicant sees their own (not an access event).
    const own = await bearer(`${base}/api/v1/applications/${n}/reveal`, citizenToken, { method: 'POST', json: { field: 'home' } });
    assert.equal(own.json?.value, SEED.formAddress, own.body);
    // The administrator's view is recorded too.
    assert.equal((await bearer(`${base}/api/v1/applications/${n}`, admin)).status, 200);

    const list = await bearer(`${base}/api/v1/me/access`, citizenToken);
    assert.equal(list.status, 200, list.body);
    const mine = list.json.items.filter((e) => e.application === n);
    const reveals = mine.filter((e) => e.kind === 'reveal');
    assert.deepEqual(reveals.map((e) => e.field).sort(), ['id_number', 'phone']);
    const idr = reveals.find((e) => e.field === 'id_number');
    assert.equal(idr.department, 'psb');
    assert.equal(idr.reason, REASON);
    assert.match(idr.role, /counter/);
    assert.equal(idr.field_label, '公民身份号码');
    assert.equal(typeof idr.at, 'number');
    assert.ok(!JSON.stringify(list.json).includes(STAFF_NAME), 'the list names the staff member');
    // Views: one per person, application and day, however often they looked.
    const views = mine.filter((e) => e.kind === 'view');
    assert.equal(views.filter((e) => e.department === 'psb').length, 1, JSON.stringify(views));
    assert.equal(views.filter((e) => e.role === 'admin').length, 1, JSON.stringify(views));
    assert.equal(views.length, 2, JSON.stringify(views));
    assert.equal(list.json.total, list.json.items.length);

    const c = await pageLogin(base, SEED.accountPhone, PASSWORD);
    const acc = await c.get('/account/access');
    assert.equal(acc.status, 200);
    const text = htmlText(acc.body);
    assert.ok(text.includes(REASON) && text.includes(n) && text.includes('公民身份号码'));
    assert.ok(!text.includes(STAFF_NAME));
    assert.ok((await c.get('/account')).body.includes('href="/account/access"'));
  });
});

// ---- the crawl -------------------------------------------------------------------------------

const SKIP = /^\/(static\/|logout|kiosk\/exit|favicon)/;
// Links not followed: the catalog's other items, departments and bundles (public pages with no
// applicant's data, hundreds of them), and the same page in the other language.
const OTHERS = new RegExp(`^/(services|bundles)/(?!(${ITEM.code}|${ITEM2.code}|${BUNDLE.code}|applications)([/?]|$))`);
const skipped = (u) => SKIP.test(u) || OTHERS.test(u) || /^\/departments\/(?!psb([/?]|$))/.test(u) || /[?&]lang=/.test(u);

async function principals() {
  const ps = [{ key: 'anonymous', client: new Client(base) }];
  const demoEnterprise = (await apiLogin(base, DEMO.enterprise.phone)).account.id;
  const list = [
    { key: 'citizen', phone: SEED.accountPhone, password: PASSWORD },
    { key: 'agent', phone: DEMO.agent.phone },
    { key: 'enterprise', phone: DEMO.enterprise.phone },
    { key: 'seeded enterprise', phone: SEED.enterprisePhone, password: PASSWORD },
    { key: 'staffA', phone: DEMO.staffA.phone },
    { key: 'staffB', phone: DEMO.staffB.phone },
    { key: 'admin', phone: DEMO.admin.phone, totp: true },
  ];
  for (const p of list) {
    p.client = await pageLogin(base, p.phone, p.password ?? DEMO_PASSWORD, p.totp ? { totpSecret: DEMO.admin.totp } : {});
    if (p.key === 'agent') {
      const acct = await p.client.get('/account');
      const r = await p.client.post('/account/act-as', { enterprise: String(demoEnterprise), _csrf: csrfOf(acct.body, '/account/act-as') });
      assert.equal(r.status, 303);
    }
    const extra = { scopes: p.totp ? 'profile,account,apply,admin' : 'profile,account,apply' };
    if (p.totp) extra.totp = await freshTotp(DEMO.admin.totp);
    p.token = (await apiLogin(base, p.phone, p.password ?? DEMO_PASSWORD, extra)).token;
    ps.push(p);
  }
  return ps;
}

/** Every GET route filled with the seeded data: one path per combination worth asking. */
async function routePaths(routeList) {
  const numbers = Object.values(apps).map((a) => a.number);
  const certs = (await sql(db.url, 'SELECT number FROM certificates')).split('\n').filter(Boolean);
  const leaves = Number(await sql(db.url, 'SELECT COUNT(*) FROM ledger_leaves'));
  const attachments = (await sql(db.url, 'SELECT id FROM attachments')).split('\n').filter(Boolean);
  const drafts = (await sql(db.url, "SELECT id FROM applications WHERE state = 'draft'")).split('\n').filter(Boolean);
  const values = (name, pattern) => {
    if (/^\{(path|rest)/.test(name)) return [];
    if (/number/.test(name)) return /certs|verify/.test(pattern) ? certs : numbers;
    if (/request/.test(name)) return numbers.map((x) => `${x}.json`);
    // Every leaf of the public log; an application's receipts are reached from its page.
    if (/index/.test(name)) return /receipts/.test(pattern) ? [] : Array.from({ length: leaves }, (_, i) => String(i));
    if (/service/.test(name)) return [`${ITEM.code}.json`];
    if (/bundles/.test(pattern) && /code/.test(name)) return [BUNDLE.code];
    if (/departments/.test(pattern)) return ['psb'];
    if (/code/.test(name)) return [ITEM.code];
    if (/bundles\/applications/.test(pattern)) return [String(bundles.main), String(bundles.draft)];
    if (/accounts/.test(pattern)) return [String(citizenId), String(enterpriseId), '1', '3'];
    if (/attachments/.test(pattern)) return attachments.length ? attachments : ['1'];
    return ['1', '2'];
  };
  const out = new Set();
  for (const r of routeList) {
    if (!r.methods.includes('GET') || SKIP.test(r.pattern) || r.pattern.includes('{path')) continue;
    let paths = [r.pattern];
    for (const m of r.pattern.matchAll(/\{([^}]+)\}/g)) {
      const vs = values(m[1], r.pattern);
      paths = paths.flatMap((p) => vs.map((v) => p.replace(m[0], encodeURIComponent(v))));
    }
    for (const p of paths) out.add(p);
  }
  for (const n of numbers) out.add(`/applications/${n}/receipt`);
  for (const d of drafts) out.add(`/services/${ITEM.code}/apply?draft=${d}`);
  out.add(`/bundles/${BUNDLE.code}/apply?draft=${bundles.draft}`);
  for (const a of Object.values(apps)) if (a.query_code) {
    out.add(`/progress?number=${a.number}&code=${a.query_code}`);
    out.add(`/api/v1/progress?number=${a.number}&code=${a.query_code}`);
  }
  for (const t of ['overview', 'channels', 'departments', 'items', 'series']) out.add(`/stats/export?table=${t}&format=csv`);
  out.add(`/stats/export?table=departments&format=xlsx`);
  out.add(`/api/v1/search?q=${encodeURIComponent(NAME)}`);
  out.add(`/search?q=${encodeURIComponent(NAME)}`);
  return [...out];
}

async function fetchAs(p, url) {
  if (url.startsWith('/api/')) {
    const r = await bearer(`${base}${url}`, p.token, { headers: { 'x-forwarded-for': p.client.ip } });
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: r.body };
  }
  const res = await fetch(base + url, { redirect: 'manual',
    headers: { 'x-forwarded-for': p.client.ip, ...(p.client.jar.cookies.size ? { cookie: p.client.jar.header() } : {}) } });
  const type = res.headers.get('content-type') ?? '';
  const buf = Buffer.from(await res.arrayBuffer());
  let body = buf.toString('utf8');
  if (/spreadsheetml/.test(type)) {
    // An XLSX export: the text of its sheets.
    const dir = await tempDir('govhall-xlsx-');
    const f = path.join(dir.path, 'x.xlsx');
    await import('node:fs/promises').then((fs) => fs.writeFile(f, buf));
    body = String((await exec('unzip', ['-p', f])).stdout);
    await dir.remove();
  }
  return { status: res.status, type, body, location: res.headers.get('location') };
}

describe('no full value on any page or API answer of any role', () => {
  test('the crawl finds none of the seeded values', async (t) => {
    const routeList = await routes();
    const start = await routePaths(routeList);
    const found = [];
    let asked = 0;
    const ps = await principals();
    for (const p of ps) {
      const seen = new Set();
      const queue = ['/', ...start];
      while (queue.length && seen.size < 4000) {
        const url = queue.shift();
        if (seen.has(url) || SKIP.test(url)) continue;
        seen.add(url);
        const r = await fetchAs(p, url);
        asked++;
        assert.ok(r.status < 500, `${p.key} GET ${url}: ${r.status} ${r.body.slice(0, 200)}`);
        for (const k of leaks(r.body)) found.push(`${p.key} GET ${url}: ${k}`);
        if (/text\/html/.test(r.type)) {
          for (const m of r.body.matchAll(/href="([^"#]+)"/g)) {
            const link = htmlText(m[1]);
            if (link.startsWith('/') && !link.startsWith('//') && !skipped(link) && !seen.has(link)) queue.push(link);
          }
        }
        if (r.location && r.location.startsWith('/') && !seen.has(r.location)) queue.push(r.location);
      }
      t.diagnostic(`${p.key}: ${seen.size} addresses`);
      if (process.env.PRIVACY_DEBUG) {
        const by = {};
        for (const u of seen) { const k = u.split('?')[0].split('/').slice(0, 3).join('/'); by[k] = (by[k] ?? 0) + 1; }
        t.diagnostic(JSON.stringify(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 25)));
      }
    }
    t.diagnostic(`${asked} answers searched for ${needles().length} values`);
    assert.deepEqual(found, [], 'full values shown');
    assert.ok(asked > 500, `only ${asked} answers`);
  });

  test('the database holds none of them in the clear (every table, the file, its WAL, a backup)', async () => {
    const found = [];
    const search = (label, buf) => {
      const text = buf.toString('utf8');
      for (const [k, v] of needles()) {
        const hex = Buffer.from(v).toString('hex');
        if (text.includes(v) || text.toLowerCase().includes(hex)) found.push(`${label}: ${k}`);
      }
    };
    if (backend === 'postgres') {
      const d = await exec('pg_dump', ['--data-only', '--no-owner', db.url]);
      assert.equal(d.code, 0, d.stderr);
      assert.ok(d.stdout.length > 10_000);
      search('pg_dump', d.stdout);
    } else {
      const d = await exec('sqlite3', ['-cmd', '.timeout 5000', db.url, '.dump']);
      assert.equal(d.code, 0, d.stderr);
      search('.dump', d.stdout);
      for (const f of [db.url, `${db.url}-wal`]) if (existsSync(f)) search(path.basename(f), readFileSync(f));
      const dir = await tempDir('govhall-backup-');
      const copy = path.join(dir.path, 'copy.db');
      const b = await exec('sqlite3', ['-cmd', '.timeout 5000', db.url, `.backup '${copy}'`]);
      assert.equal(b.code, 0, b.stderr);
      search('backup', readFileSync(copy));
      await dir.remove();
    }
    assert.deepEqual(found, []);
    // The sealed forms are there, sealed.
    assert.ok(Number(await sql(db.url, "SELECT COUNT(*) FROM applications WHERE form LIKE '%\"sealed\"%' AND form_key_id = 1")) >= 5);
  });

  test('the server log holds none of them', () => {
    const found = srv.stderr.flatMap((l) => leaks(l).map((k) => `${k}: ${l.slice(0, 120)}`));
    assert.deepEqual(found, []);
  });
});

describe('keys', () => {
  test('rotation re-seals every form; masks and reveals are the same after it', async () => {
    const n = apps.main.number;
    const masksBefore = (await bearer(`${base}/api/v1/applications/${n}`, staffToken)).json.form;
    const storedBefore = await sql(db.url, `SELECT form FROM applications WHERE number = '${n}'`);
    const draftBefore = await sql(db.url, `SELECT draft_form FROM bundle_applications WHERE id = ${bundles.draft}`);
    const rot = await govhall(['key', 'rotate', '--db', db.url]);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /application form\(s\) re-encrypted under key 2/);
    await srv.stop();
    await startHall();
    staffToken = (await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD, { scopes: 'profile,account,apply' })).token;
    citizenToken = (await apiLogin(base, SEED.accountPhone, PASSWORD, { scopes: 'profile,account,apply' })).token;

    assert.equal(await sql(db.url, 'SELECT COUNT(*) FROM applications WHERE form_key_id = 1'), '0');
    assert.equal(await sql(db.url, 'SELECT COUNT(*) FROM bundle_applications WHERE draft_key_id = 1'), '0');
    const storedAfter = await sql(db.url, `SELECT form FROM applications WHERE number = '${n}'`);
    assert.notEqual(storedAfter, storedBefore);
    assert.notEqual(await sql(db.url, `SELECT draft_form FROM bundle_applications WHERE id = ${bundles.draft}`), draftBefore);
    const list = await govhall(['key', 'list', '--db', db.url]);
    assert.match(list.stdout, /key 2: \d+ application form\(s\)/);
    assert.doesNotMatch(list.stdout, /key 1: \d+ application form/);

    const after = await bearer(`${base}/api/v1/applications/${n}`, staffToken);
    assert.deepEqual(after.json.form, masksBefore);
    for (const [field, want] of [['id_number', SEED.formId], ['phone', SEED.formPhone], ['email', SEED.formEmail],
      ['home', SEED.formAddress], ['company', SEED.formUscc], ['bank_account', SEED.formBank], ['birth', SEED.formBirth]]) {
      const r = await bearer(`${base}/api/v1/applications/${n}/reveal`, staffToken, { method: 'POST', json: { field } });
      assert.equal(r.json?.value, want, `${field}: ${r.body}`);
    }
    // The bundle draft still keeps its values.
    const s = await bearer(`${base}/api/v1/bundles/${BUNDLE.code}/applications`, citizenToken, { method: 'POST',
      json: { form: { applicant_name: NAME }, materials: [], submit: true, idempotency_key: `pb-${tag}-open` } });
    assert.equal(s.status, 201, s.body);
    const child = s.json.children[0].number;
    const r = await bearer(`${base}/api/v1/applications/${child}/reveal`, citizenToken, { method: 'POST', json: { field: 'phone' } });
    assert.equal(r.json?.value, SEED.openDraftPhone);
  });

  test('forms stored in the clear before sealing are sealed by `key reseal` and by the server at start', async () => {
    const n = apps.main.number;
    const plain = JSON.stringify(formValues()).replace(/'/g, "''");
    await srv.stop();
    await sql(db.url, `UPDATE applications SET form = '${plain}', form_key_id = NULL WHERE number = '${n}'`);
    const r = await govhall(['key', 'reseal', '--db', db.url]);
    assert.equal(r.code, 0, r.stderr);
    let stored = await sql(db.url, `SELECT form FROM applications WHERE number = '${n}'`);
    assert.deepEqual(leaks(stored), []);
    assert.equal(await sql(db.url, `SELECT form_key_id FROM applications WHERE number = '${n}'`), '2');

    await sql(db.url, `UPDATE applications SET form = '${plain}', form_key_id = NULL WHERE number = '${n}'`);
    await startHall();
    for (;;) { // the duty's first pass
      if (await sql(db.url, `SELECT form_key_id FROM applications WHERE number = '${n}'`)) break;
      await new Promise((res) => setImmediate(res));
    }
    stored = await sql(db.url, `SELECT form FROM applications WHERE number = '${n}'`);
    assert.deepEqual(leaks(stored), []);
    staffToken = (await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD, { scopes: 'apply' })).token;
    const rv = await bearer(`${base}/api/v1/applications/${n}/reveal`, staffToken, { method: 'POST', json: { field: 'company' } });
    assert.equal(rv.json?.value, SEED.formUscc, rv.body);
  });
});
