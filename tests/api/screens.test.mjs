// What people see on the pages around an application, checked on the HTML the hall serves:
// the rating given replaces the rating button (and the rating form sends an applicant who
// rated already to that rating, not to an error); the staff's completion form starts from the
// delivery the applicant chose; the resubmission form marks the materials staff asked for; an
// application and the certificate it produced link to each other; the navigation counts the
// unread messages, and offers the progress query, the log, /verify and the help centre to
// everyone; addresses in inbox messages are links; departments are shown by name; the
// holiday calendar names its days; registration says what happens next; the help centre.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, DEMO, apiLogin, bearer, demoCatalog, demoForm, demoMaterials, freshTotp, newIdNumber, newPhone, pageLogin,
  routes, smsGateway, sql, startServer,
} from './helpers.mjs';
import { completedApplication, fileApplication, rate } from './interact-fixtures.mjs';
import { ROLES, crawl, loginAs } from './crawl.mjs';

const catalog = demoCatalog();
// A free item with a delivery choice and an outcome certificate, handled by hrss.
const ITEM = catalog.services.find((s) => s.code === 'hrss-0001');
const HRSS = catalog.departments.find((d) => d.code === 'hrss');
const PSB = catalog.departments.find((d) => d.code === 'psb');

let srv;
let sms;
let base;
const tok = {};
const page = {};

before(async () => {
  sms = await smsGateway();
  srv = await startServer({
    name: 'screens',
    extraArgs: ['--trust-proxy', 'true', '--notify-sms-url', sms.url, '--notify-webhook-secret', 'screens-secret-0123456789abcdef'],
  });
  base = srv.url;
  tok.a = (await apiLogin(base, DEMO.citizen.phone)).token;
  tok.civ = (await apiLogin(base, DEMO.staffB.phone)).token;
  tok.admin = (await apiLogin(base, DEMO.admin.phone, undefined, { totp: await freshTotp(DEMO.admin.totp) })).token;
  // The demo has no hrss staff: one with every duty.
  const phone = newPhone();
  const made = await bearer(`${base}/api/v1/admin/accounts`, tok.admin, {
    method: 'POST', json: { kind: 'staff', name: '周九', phone, department: 'hrss', staff_roles: 'counter,reviewer,head' },
  });
  assert.equal(made.status, 201, made.body);
  tok.hrss = (await apiLogin(base, phone, made.json.initial_password)).token;
  page.hrss = await pageLogin(base, phone, made.json.initial_password);
  page.a = await pageLogin(base, DEMO.citizen.phone);
});
after(async () => { await srv?.stop(); await sms?.close(); });

async function act(token, number, action, body = {}) {
  const r = await bearer(`${base}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });
  assert.equal(r.status, 200, `${action}: ${r.body}`);
  return r.json;
}

const applyFor = () => fileApplication(base, tok.a, ITEM);

/** The <option> elements of the select named name in html: [{value, selected}]. */
function options(html, name) {
  const m = new RegExp(`<select[^>]*name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(html);
  assert.ok(m, `no select ${name}`);
  return [...m[1].matchAll(/<option value="([^"]*)"([^>]*)>/g)].map((o) => ({ value: o[1], selected: /selected/.test(o[2]) }));
}

describe('the application page', () => {
  test('the staff completion form starts from the delivery the applicant chose', async () => {
    assert.ok(ITEM.form.some((f) => f.key === 'delivery'), 'the item asks how to deliver');
    for (const choice of ['post', 'window']) {
      const r = await bearer(`${base}/api/v1/services/${ITEM.code}/applications`, tok.a, {
        method: 'POST',
        json: { form: { ...demoForm(ITEM), delivery: choice }, materials: await demoMaterials(base, tok.a, ITEM), submit: true, idempotency_key: `scr-${choice}-${Date.now()}` },
      });
      assert.equal(r.status, 201, r.body);
      for (const a of ['accept', 'start_review', 'approve']) await act(tok.hrss, r.json.number, a);
      const p = await page.hrss.get(`/applications/${r.json.number}`);
      assert.equal(p.status, 200);
      const opts = options(p.body, 'delivery');
      assert.deepEqual(opts.filter((o) => o.selected).map((o) => o.value), [choice], `selected: ${JSON.stringify(opts)}`);
      assert.match(p.body, /id="delivery-hint"/, 'the form says what the applicant chose');
    }
  });

  test('an application links to the certificate it produced, and the certificate back', async () => {
    const app = await applyFor();
    for (const a of ['accept', 'start_review', 'approve']) await act(tok.hrss, app.number, a);
    const w = await bearer(`${base}/api/v1/wallet`, tok.a);
    const cert = w.json.items.find((c) => c.application === app.number);
    assert.ok(cert, 'a certificate was issued');
    const detail = await page.a.get(`/applications/${app.number}`);
    assert.ok(detail.body.includes(`href="/certs/${cert.number}"`), 'the applicant sees the certificate link');
    const staffView = await page.hrss.get(`/applications/${app.number}`);
    assert.ok(staffView.body.includes(`href="/certs/${cert.number}"`), 'the issuing staff see it too');
    const c = await page.a.get(`/certs/${cert.number}`);
    assert.equal(c.status, 200);
    assert.ok(c.body.includes(`href="/applications/${app.number}"`), 'the certificate links to its application');
    // An application that produced nothing links to nothing.
    const other = await page.a.get(`/applications/${(await applyFor()).number}`);
    assert.ok(!/href="\/certs\//.test(other.body));
  });

  test('the resubmission form marks the materials staff asked for', async () => {
    const app = await applyFor();
    await act(tok.hrss, app.number, 'accept');
    await act(tok.hrss, app.number, 'start_review');
    await act(tok.hrss, app.number, 'request_supplement', { reason: '照片不清晰', detail: { missing: [2] } });
    const p = await page.a.get(`/applications/${app.number}`);
    const field = (slot) => new RegExp(`<div class="field([^"]*)"><label for="re_material_${slot}">([^<]*)(<span[^>]*>[^<]*</span>)?`).exec(p.body);
    const asked = field(2), other = field(0);
    assert.ok(asked && other, 'the resubmission form lists the materials');
    assert.match(asked[1], /field-asked/, 'the slot asked for is marked');
    assert.ok(asked[3], 'with a word beside its name');
    assert.doesNotMatch(other[1], /field-asked/, 'the other slots are not');
    assert.equal(other[3], undefined);
  });

  test('after rating, the page shows the rating given; the form leads to it, not to an error', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const rateLink = `href="/evaluate/application/${number}"`;
    assert.ok((await page.a.get(`/applications/${number}`)).body.includes(rateLink), 'offered before rating');
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 4, tags: ['courteous'] });
    assert.equal(r.status, 201, r.body);
    const p = await page.a.get(`/applications/${number}`);
    assert.ok(!p.body.includes(rateLink), 'the rating button is gone');
    assert.ok(p.body.includes(`href="/evaluations/${r.json.id}"`), 'the rating given is linked');
    assert.match(p.body, /class="case-rated"[^]*满意/, 'and named');
    const form = await page.a.get(`/evaluate/application/${number}`);
    assert.equal(form.status, 303, 'the rating form of a rated case');
    assert.equal(form.location, `/evaluations/${r.json.id}`);
    const again = await page.a.post(`/evaluate/application/${number}`, { level: '1', tags: 'too_slow' });
    assert.equal(again.status, 303, `a second post: ${again.body.slice(0, 200)}`);
    assert.equal(again.location, `/evaluations/${r.json.id}`);
    const ev = await bearer(`${base}/api/v1/evaluations/${r.json.id}`, tok.a);
    assert.equal(ev.json.level ?? ev.json.evaluation?.level, 4, 'the first rating stands');
  });
});

describe('the inbox and the navigation', () => {
  const unreadBadge = (html) => {
    const m = /<a href="\/inbox"[^>]*>[^<]*<span class="nav-count"[^>]*>([^<]+)<\/span>/.exec(html);
    return m ? m[1] : null;
  };

  test('the navigation counts the unread messages beside the inbox', async () => {
    await completedApplication(base, tok.a, tok.civ); // messages to the citizen
    const box = await bearer(`${base}/api/v1/me/inbox`, tok.a);
    assert.ok(box.json.unread > 0);
    const home = await page.a.get('/services');
    assert.equal(unreadBadge(home.body), String(Math.min(box.json.unread, 99)) + (box.json.unread > 99 ? '+' : ''));
    const read = await bearer(`${base}/api/v1/me/inbox/read-all`, tok.a, { method: 'POST' });
    assert.equal(read.status, 200, read.body);
    assert.equal(unreadBadge((await page.a.get('/services')).body), null, 'no count once all are read');
    // Anonymous pages carry no count (they are shared).
    assert.doesNotMatch((await new Client(base).get('/services')).body, /nav-count/);
  });

  test('the progress query, the log, /verify and the help centre are in everyone\'s navigation', async () => {
    const admin = await pageLogin(base, DEMO.admin.phone, undefined, { totpSecret: DEMO.admin.totp });
    const staff = await pageLogin(base, DEMO.staffA.phone);
    for (const [who, c] of Object.entries({ anonymous: new Client(base), citizen: page.a, staff, admin })) {
      const html = (await c.get('/')).body;
      const nav = /<nav class="site-nav"[^]*?<\/nav>/.exec(html)?.[0] ?? '';
      for (const href of ['/progress', '/ledger', '/verify', '/help']) {
        assert.ok(nav.includes(`href="${href}"`), `${who}: ${href} in the navigation`);
      }
    }
  });

  test('addresses in inbox messages are links: the bad review\'s task for staff', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 1, tags: ['too_slow'] });
    assert.equal(r.status, 201, r.body);
    const staff = await pageLogin(base, DEMO.staffB.phone);
    const box = await staff.get('/inbox');
    assert.ok(box.body.includes(`<a href="/evaluations/${r.json.id}">/evaluations/${r.json.id}</a>`),
      'the task names its evaluation as a link');
    // The text around it stays text (not a link to anything around it).
    const item = new RegExp(`<li class="card[^"]*">(?:(?!</li>)[^])*?/evaluations/${r.json.id}(?:(?!</li>)[^])*</li>`).exec(box.body)?.[0] ?? '';
    const bodyLinks = [...item.matchAll(/<p><a href="([^"]+)">([^<]*)<\/a>/g)].filter((m) => !m[2].startsWith('/'));
    assert.deepEqual(bodyLinks.map((m) => m[2]), [], 'no text run became a link');
  });
});

describe('words on the pages', () => {
  test('staff accounts show their department by name', async () => {
    const psb = await pageLogin(base, DEMO.staffA.phone);
    const acc = await psb.get('/account');
    assert.ok(acc.body.includes(PSB.name_zh), 'the department name');
    assert.doesNotMatch(acc.body, />psb</, 'not its code');
    const en = await psb.get('/account?lang=en');
    assert.ok(en.body.includes(PSB.name_en));
    const hrss = await page.hrss.get('/account');
    assert.ok(hrss.body.includes(HRSS.name_zh));
  });

  test('no page shows a department by its code, for any kind of account', async () => {
    const table = (await routes()).filter((r) => r.methods.includes('GET'));
    const codes = new Set(catalog.departments.map((d) => d.code));
    const found = [];
    for (const role of Object.keys(ROLES)) {
      const c = await loginAs(base, role);
      const { pages } = await crawl(c, table, { perTemplate: 2 });
      for (const p of pages.filter((x) => x.html && x.status === 200)) {
        // Text between tags (not attributes, not inside <code>, where numbers are shown).
        const text = (await c.get(p.path)).body.replace(/<code>[^<]*<\/code>/g, '').replace(/<(script|style)[^]*?<\/\1>/g, '');
        for (const m of text.matchAll(/>\s*([a-z]{2,6})\s*</g)) if (codes.has(m[1])) found.push(`${role} ${p.path}: ${m[1]}`);
      }
    }
    assert.deepEqual([...new Set(found)], []);
  });

  test('the holiday calendar names the holidays from the data file', async () => {
    const admin = await pageLogin(base, DEMO.admin.phone, undefined, { totpSecret: DEMO.admin.totp });
    const row = (html, day) => new RegExp(`<tr><td><time datetime="${day}">[^<]*</time></td><td>[^<]*</td><td>([^<]*)</td>`).exec(html)?.[1];
    const zh = (await admin.get('/admin/calendar?year=2026')).body;
    assert.equal(row(zh, '2026-02-17'), '春节');
    assert.equal(row(zh, '2026-10-01'), '国庆节');
    assert.equal(row(zh, '2026-02-14'), '春节', 'an adjusted working day names its holiday too');
    const en = (await admin.get('/admin/calendar?year=2026&lang=en')).body;
    assert.equal(row(en, '2026-02-17'), 'Spring Festival');
  });

  test('registration says plainly what happens next', async () => {
    const c = new Client(base);
    await c.get('/register');
    const r = await c.post('/register', {
      name: '王小明', id_number: newIdNumber(9123), phone: newPhone(), password: 'Lantern river 9123 maple', password2: 'Lantern river 9123 maple',
    });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    const steps = /<ol class="next-steps">([^]*?)<\/ol>/.exec(r.body);
    assert.ok(steps, 'a list of the next steps');
    assert.equal([...steps[1].matchAll(/<li>/g)].length, 3);
    assert.match(steps[1], /登录/);
    assert.match(steps[1], /验证码/);
    assert.ok(r.body.includes('href="/password/forgot"'), 'and the way back for an existing account');
  });
});

describe('the help centre', () => {
  const topics = ['register', 'apply', 'pay', 'book', 'verify', 'complain'];

  test('every topic in both languages, reachable from the list', async () => {
    for (const lang of ['zh', 'en']) {
      const c = new Client(base, { lang });
      const list = await c.get('/help');
      assert.equal(list.status, 200);
      for (const t of topics) {
        assert.ok(list.body.includes(`href="/help/${t}"`), `${lang}: ${t} listed`);
        const p = await c.get(`/help/${t}`);
        assert.equal(p.status, 200, `${lang} ${t}`);
        assert.match(p.body, /<div class="publish-body"><(p|ol|ul)>/, `${lang} ${t}: a body`);
        assert.equal((p.body.match(/<h1>/g) ?? []).length, 1, 'one heading');
      }
    }
  });

  test('search narrows the list; unknown topics are 404; guides link to it', async () => {
    const c = new Client(base);
    const r = await c.get(`/help?q=${encodeURIComponent('缴费')}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.includes('href="/help/pay"'));
    assert.ok(!r.body.includes('href="/help/book"'));
    const none = await c.get('/help?q=zzzzqqq');
    assert.equal(none.status, 200);
    assert.ok(!topics.some((t) => none.body.includes(`href="/help/${t}"`)));
    const en = await new Client(base, { lang: 'en' }).get('/help?q=PAY');
    assert.ok(en.body.includes('href="/help/pay"'), 'ASCII case folded');
    assert.equal((await c.get('/help/nope')).status, 404);
    assert.ok([400, 404].includes((await c.get('/help/..%2Fetc')).status));
    assert.equal((await c.get(`/help?q=${'长'.repeat(101)}`)).status, 422);
    // A link only where the reader may follow it: "My applications" is a citizen's page.
    assert.ok((await page.a.get('/help/apply')).body.includes('href="/applications"'));
    const staffHelp = (await page.hrss.get('/help/apply')).body;
    assert.ok(!staffHelp.includes('href="/applications"'), 'no link that would answer 403');
    assert.match(staffHelp, /我的办件/, 'the words stay');
    const guide = await c.get(`/services/${ITEM.code}`);
    assert.ok(guide.body.includes('href="/help/apply"'), 'the service guide links to the help');
  });
});

describe('notification settings', () => {
  const boxes = (html) => Object.fromEntries([...html.matchAll(/<input type="checkbox" id="([a-z]+_[a-z]+)" name="\1" value="1"( checked)?>/g)]
    .map((m) => [m[1], Boolean(m[2])]));

  test('each topic\'s channels are chosen, and the inbox and the outbox honour them', async () => {
    let p = await page.a.get('/inbox/settings');
    assert.equal(p.status, 200);
    const all = boxes(p.body);
    assert.equal(Object.keys(all).length, 9, JSON.stringify(all));
    assert.ok(Object.values(all).every(Boolean), 'every channel by default');
    assert.ok((await page.a.get('/inbox')).body.includes('href="/inbox/settings"'), 'the inbox links to its settings');
    try {
      // Progress: e-mail only; things that need the citizen: inbox and SMS; replies: all.
      const on = { progress_email: '1', action_inbox: '1', action_sms: '1', replies_inbox: '1', replies_email: '1', replies_sms: '1' };
      let r = await page.a.post('/inbox/settings', on);
      assert.equal(r.status, 303, r.body.slice(0, 300));
      p = await page.a.get(r.location);
      assert.match(p.body, /role="status"/);
      assert.deepEqual(boxes(p.body), { ...Object.fromEntries(Object.keys(all).map((k) => [k, false])), ...Object.fromEntries(Object.keys(on).map((k) => [k, true])) });
      r = await page.a.post('/inbox/settings', { progress_fax: '1' });
      assert.equal(r.status, 422, 'an unknown channel');
      r = await page.a.post('/inbox/settings', { progress_inbox: 'yes' });
      assert.equal(r.status, 422, 'another value');
      assert.equal(boxes((await page.a.get('/inbox/settings')).body).progress_inbox, false, 'a refused form changes nothing');

      const app = await fileApplication(base, tok.a);
      for (const a of ['accept', 'start_review']) await act(tok.civ, app.number, a);
      await act(tok.civ, app.number, 'request_supplement', { reason: '请补充材料', detail: { missing: [0] } });
      const rows = async (channel) => sql(srv.db, `SELECT i.kind || ':' || (CASE WHEN i.read_at IS NULL THEN 'unread' ELSE 'read' END)${channel ? ` || ':' || (SELECT COUNT(*) FROM outbox o WHERE o.inbox_id = i.id AND o.channel = '${channel}')` : ''} FROM inbox i JOIN applications a ON a.id = i.application_id WHERE a.number = '${app.number}' ORDER BY i.id`);
      assert.deepEqual((await rows('sms')).split('\n'), ['accept:read:0', 'start_review:read:0', 'request_supplement:unread:1'],
        'progress kept in the inbox but read, and no SMS; the request to act unread and sent by SMS');
    } finally {
      const every = Object.fromEntries(Object.keys(all).map((k) => [k, '1']));
      assert.equal((await page.a.post('/inbox/settings', every)).status, 303);
    }
  });

  test('the same settings through the API, for apps', async () => {
    const url = `${base}/api/v1/me/notification-settings`;
    let r = await bearer(url, tok.a);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.topics.progress, { inbox: true, email: true, sms: true });
    try {
      r = await bearer(url, tok.a, { method: 'PUT', json: { topics: { replies: { sms: false } } } });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json.topics.replies, { inbox: true, email: true, sms: false }, 'a channel left out keeps its setting');
      assert.deepEqual(r.json.topics.action, { inbox: true, email: true, sms: true }, 'a topic left out too');
      const boxes = (await page.a.get('/inbox/settings')).body;
      assert.match(boxes, /id="replies_sms" name="replies_sms" value="1">/, 'the page shows the same');
      for (const bad of [{ topics: { replies: { fax: true } } }, { topics: { news: { sms: true } } }, { topics: { replies: { sms: 'no' } } }, { other: 1, topics: {} }]) {
        r = await bearer(url, tok.a, { method: 'PUT', json: bad });
        assert.equal(r.status, 422, JSON.stringify(bad));
      }
      assert.equal((await bearer(url, tok.a)).json.topics.replies.sms, false, 'refused bodies change nothing');
    } finally {
      r = await bearer(url, tok.a, { method: 'PUT', json: { topics: { replies: { sms: true } } } });
      assert.equal(r.status, 200, r.body);
    }
  });
});
