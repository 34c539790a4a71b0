// The authorisation matrix: every route of `govhall routes --json`, every method, called as
// each kind of principal (anonymous, citizen, agent acting for an enterprise, enterprise,
// staff of two departments, administrator). A call is allowed (any status but 401/403) iff
// the principal's role is among the route's roles; a denied call answers 401 to anonymous
// visitors (a GET of a page: 303 to /login?next=...) and 403 to everyone else.
//
// Pages are called with the principal's session cookie and, for state-changing methods, a
// valid _csrf (so a 403 can only come from the role check); /api/ routes with a bearer token
// holding every scope the role may have. Bodies are empty, so state-changing calls fail
// validation after the authorisation decision. Calls that may end a session or a token
// (log-out, revoking, switching whom one acts for) run last, and the principal logs in again
// after each one that was allowed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshTotp,
  apiLogin, bearer, bundleFields, Client, csrfOf, DEMO, DEMO_PASSWORD, demoBundleForm, demoCatalog, demoForm,
  newIdNumber, newPhone, pageLogin, routes, samplePdf, startServer, totp, uploadAttachment,
} from './helpers.mjs';

const STATE = ['POST', 'PUT', 'PATCH', 'DELETE'];
const CSRF_MESSAGES = ['页面已过期', 'csrf_failed'];
// Routes whose allowed call may end or change the caller's session or token.
const DISRUPTIVE = /logout|act-as|act_as|auth\/token|revoke|sessions|tokens|password|totp|disable/i;
const demo = demoCatalog();

let srv;
let base;
let routeList = [];
let enterpriseId;
let victimId; // an account nobody logs in as: the target of account-id parameters
const principals = [];
const notes = [];
const loginFailures = [];

// ---- principals ----------------------------------------------------------------------------

async function loginPage(p) {
  const c = new Client(base);
  const form = await c.get('/login');
  if (form.status !== 200) throw new Error(`GET /login: ${form.status}`);
  let r = await c.post('/login', { login: p.phone, password: DEMO_PASSWORD, _csrf: csrfOf(form.body) ?? '' });
  if (r.status !== 303) throw new Error(`${p.key}: POST /login ${r.status}`);
  if (/^\/login\/totp/.test(r.location)) {
    const page = await c.get('/login/totp');
    r = await c.post('/login/totp', { totp: await freshTotp(DEMO.admin.totp), _csrf: csrfOf(page.body) ?? '' });
    if (r.status !== 303) throw new Error(`${p.key}: POST /login/totp ${r.status}`);
  }
  if (p.key === 'agent') {
    const page = await c.get('/account');
    const act = await c.post('/account/act-as', { enterprise: String(enterpriseId), _csrf: csrfOf(page.body, '/account/act-as') ?? c.csrf ?? '' });
    if (![200, 303].includes(act.status) || /acting_self/.test(act.location ?? '')) throw new Error(`agent: POST /account/act-as ${act.status} ${act.location} ${act.body.slice(0, 200)}`);
  }
  const home = await c.get('/');
  c.csrf = csrfOf(home.body, '/logout') ?? csrfOf(home.body);
  if (!c.csrf) {
    const acct = await c.get('/account');
    c.csrf = csrfOf(acct.body);
  }
  p.client = c;
}

async function loginApi(p) {
  const extra = { scopes: p.scopes };
  if (p.key === 'admin') extra.totp = await freshTotp(DEMO.admin.totp);
  const t = await apiLogin(base, p.phone, DEMO_PASSWORD, extra);
  p.token = t.token;
  p.tokenId = t.id;
  p.accountId = t.account.id;
  if (p.key === 'agent' && routeList.some((r) => r.pattern === '/api/v1/me/tokens' && r.methods.includes('POST'))) {
    // A token acting for the enterprise, issued with the agent's own token.
    const r = await bearer(`${base}/api/v1/me/tokens`, t.token, { method: 'POST', json: { name: 'authz agent', channel: 'app', scopes: p.scopes, acting_for: enterpriseId } });
    if (r.status !== 201 || !r.json?.token) throw new Error(`agent: POST /api/v1/me/tokens acting_for ${r.status} ${r.body.slice(0, 200)}`);
    p.token = r.json.token;
    p.tokenId = r.json.id;
  } else if (p.key === 'agent') {
    const actRoute = routeList.find((r) => r.pattern.startsWith('/api/') && /act-as|act_as/.test(r.pattern));
    const r = await bearer(`${base}${actRoute.pattern}`, t.token, { method: actRoute.methods.find((m) => m !== 'GET') ?? 'POST', json: { enterprise: enterpriseId } });
    if (r.status >= 300) throw new Error(`agent: ${actRoute.pattern} ${r.status} ${r.body.slice(0, 200)}`);
    if (r.json?.token) {
      p.token = r.json.token;
      p.tokenId = r.json.id;
    }
  }
}

function principal(key, role, phone, scopes) {
  return { key, role, phone, scopes, client: null, token: null };
}

before(async () => {
  srv = await startServer({ name: 'authz', extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
  routeList = await routes();

  enterpriseId = (await apiLogin(base, DEMO.enterprise.phone)).account.id;
  const victim = { name: '测试对象', id_number: newIdNumber(424_242), phone: newPhone(), password: 'Matrix victim password 42' };
  const reg = await bearer(`${base}/api/v1/accounts/individual`, null, { method: 'POST', json: victim });
  assert.equal(reg.status, 202, reg.body);
  victimId = (await apiLogin(base, victim.phone, victim.password)).account.id;

  const anon = principal('anonymous', 'anonymous');
  anon.client = new Client(base);
  const form = await anon.client.get('/login');
  anon.client.csrf = csrfOf(form.body);
  if (!anon.client.csrf) loginFailures.push(`anonymous: no _csrf on GET /login (${form.status})`);
  principals.push(anon);

  const user = 'profile,account,apply';
  const list = [
    principal('citizen', 'citizen', DEMO.citizen.phone, user),
    principal('agent', 'agent', DEMO.agent.phone, user),
    principal('enterprise', 'enterprise', DEMO.enterprise.phone, user),
    principal('staffA', 'staff', DEMO.staffA.phone, user),
    principal('staffB', 'staff', DEMO.staffB.phone, user),
    principal('admin', 'admin', DEMO.admin.phone, 'profile,account,apply,admin'),
  ];
  const agent = list[1];
  if (!routeList.some((r) => r.pattern === '/account/act-as')) {
    agent.skipPages = 'POST /account/act-as is not a route yet';
  }
  if (!routeList.some((r) => r.pattern.startsWith('/api/') && /act-as|act_as|\/me\/tokens$/.test(r.pattern))) {
    agent.skipApi = 'no /api/ route to act for an enterprise yet';
  }
  for (const p of list) {
    // A failed log-in is reported by its own test; the principal's other half still runs.
    if (!p.skipPages) {
      await loginPage(p).catch((e) => {
        loginFailures.push(`${p.key} (pages): ${e.message}`);
        p.skipPages = `page log-in failed: ${e.message}`;
      });
    }
    if (!p.skipApi) {
      await loginApi(p).catch((e) => {
        loginFailures.push(`${p.key} (API): ${e.message}`);
        p.skipApi = `API log-in failed: ${e.message}`;
      });
    }
    principals.push(p);
  }
  for (const p of principals) {
    if (p.skipPages) notes.push(`${p.key}: pages skipped (${p.skipPages})`);
    if (p.skipApi) notes.push(`${p.key}: API skipped (${p.skipApi})`);
  }
});
after(async () => { await srv?.stop(); });

// ---- calls ---------------------------------------------------------------------------------

function paramValue(name, pattern, p) {
  const n = name.replace(/\*$/, '');
  if (/path|rest/.test(n)) return 'css/site.css';
  if (/services/.test(pattern) && /code|service|item/.test(n)) return 'psb-0001';
  // Counter intake takes items of the clerk's own department (another's is refused, 403).
  if (/^\/staff\/intake\//.test(pattern) && /code/.test(n)) {
    const dept = p.key === 'staffB' ? DEMO.staffB.department : DEMO.staffA.department;
    return demo?.services?.find((s) => s.department === dept && s.online_depth >= 3)?.code ?? 'psb-0001';
  }
  if (/departments/.test(pattern) || /dep/.test(n)) return p.dept ?? 'psb';
  if (/bundles/.test(pattern)) return demo?.bundles?.[0]?.code ?? 'b-0001';
  if (/enterprise/.test(n)) return String(enterpriseId);
  if (/token/.test(n) || /tokens/.test(pattern)) return '999999';
  if (/sessions/.test(pattern)) return '999999';
  if (/agents/.test(pattern)) return String(victimId);
  if (/code/.test(n)) return 'psb-0001';
  return String(victimId);
}

function fillPattern(pattern, p) {
  return pattern.replace(/\{([^}]+)\}/g, (_, name) => encodeURI(paramValue(name, pattern, p)));
}

function isCsrfFailure(r) {
  return r.status === 403 && (r.json?.error?.code === 'csrf_failed' || CSRF_MESSAGES.some((m) => r.body.includes(m)));
}

async function call(route, method, p) {
  const path = fillPattern(route.pattern, p);
  if (route.pattern.startsWith('/api/')) {
    const json = STATE.includes(method) ? {} : undefined;
    return { path, ...(await bearer(`${base}${path}`, p.token, { method, json, headers: { 'x-forwarded-for': p.client?.ip ?? '10.9.9.9' } })) };
  }
  const c = p.client;
  if (STATE.includes(method)) {
    const r = await c.request(method, path, { form: { _csrf: c.csrf ?? '' } });
    return { path, ...r };
  }
  return { path, ...(await c.request(method, path)) };
}

// ---- the matrix ----------------------------------------------------------------------------

describe('authorisation matrix', () => {
  test('every route declares at least one role', () => {
    const bad = routeList.filter((r) => !Array.isArray(r.roles) || r.roles.length === 0).map((r) => r.name);
    assert.deepEqual(bad, []);
  });

  test('every state-changing page route requires the CSRF token', () => {
    // Routes that never look at cookies (noauth: the Open311 API, which authenticates a POST
    // by its api_key parameter) carry no ambient credential a forged request could use.
    const bad = routeList.filter((r) => !r.pattern.startsWith('/api/') && !r.noauth && r.methods.some((m) => STATE.includes(m)) && r.csrf !== true)
      .map((r) => `${r.name} ${r.methods.join(',')} ${r.pattern}`);
    assert.deepEqual(bad, []);
  });

  test('routes carry unique names, known roles and methods', () => {
    const known = new Set(['anonymous', 'citizen', 'agent', 'enterprise', 'staff', 'admin', 'system']);
    const seen = new Map();
    for (const r of routeList) {
      assert.ok(r.name, `${r.pattern}: no name`);
      assert.ok(!seen.has(r.name), `${r.name} names both ${seen.get(r.name)} and ${r.pattern}`);
      seen.set(r.name, r.pattern);
      for (const role of r.roles) assert.ok(known.has(role), `${r.name}: unknown role ${role}`);
      assert.ok(r.methods.length > 0, `${r.name}: no methods`);
    }
  });

  test('every principal logs in (pages and API)', () => {
    assert.deepEqual(loginFailures, []);
  });

  test('each principal reaches exactly the routes of its role', async (t) => {
    const cells = [];
    const ordinary = [];
    const disruptive = [];
    for (const route of routeList) {
      for (const method of route.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS')) {
        (DISRUPTIVE.test(route.pattern) && method !== 'GET' ? disruptive : ordinary).push({ route, method });
      }
    }
    const active = principals.filter((p) => p.client || p.token);

    async function runOne({ route, method }, p) {
      const api = route.pattern.startsWith('/api/');
      if ((api && p.skipApi) || (!api && p.skipPages)) return null;
      const r = await call(route, method, p);
      const expectAllowed = route.roles.includes(p.role);
      // An anonymous visitor of a page that needs a log-in is sent to the log-in page.
      const toLogin = !api && r.status === 303 && /^\/login\?next=/.test(r.location || '');
      const allowed = r.status !== 401 && r.status !== 403 && !(p.role === 'anonymous' && toLogin);
      let ok;
      // A noauth route answers every caller alike (no session is looked up): never 401 and
      // never a CSRF failure; a 403 there is the handler's own key check (Open311's api_key).
      if (route.noauth) ok = r.status !== 401 && !isCsrfFailure(r);
      else if (expectAllowed) ok = allowed;
      else if (p.role === 'anonymous') ok = r.status === 401 || (toLogin && (method === 'GET' || method === 'HEAD'));
      else ok = r.status === 403;
      const cell = { route: route.name, method, pattern: route.pattern, path: r.path, who: p.key, status: r.status,
        expectAllowed, ok, csrf: isCsrfFailure(r), server: r.status >= 500, snippet: ok ? '' : r.body.slice(0, 160) };
      cells.push(cell);
      return cell;
    }

    // Ordinary routes: every principal in parallel, each one's calls in order.
    await Promise.all(active.map(async (p) => {
      for (const item of ordinary) await runOne(item, p);
    }));
    // Disruptive ones: one at a time per principal, those that surely end a credential last
    // (so that, with an administrator's one-time codes, few log-ins are needed again). After an
    // allowed one, a credential that stopped working is renewed before its next use.
    const rank = ({ route, method }) => (/logout-all|logout_all/.test(route.pattern) ? 3
      : route.pattern === '/logout' ? 2 : method === 'DELETE' && route.pattern === '/api/v1/auth/token' ? 1 : 0);
    disruptive.sort((a, b) => rank(a) - rank(b));
    async function alive(p) {
      if (!p.skipPages && !p.stalePage) p.stalePage = p.key === 'agent' || (await p.client.get('/account')).status !== 200;
      if (!p.skipApi && !p.staleApi) p.staleApi = (await bearer(`${base}/api/v1/me`, p.token)).status !== 200;
    }
    await Promise.all(active.map(async (p) => {
      for (const item of disruptive) {
        const api = item.route.pattern.startsWith('/api/');
        if (api && p.staleApi) { await loginApi(p); p.staleApi = false; }
        if (!api && p.stalePage) { await loginPage(p); p.stalePage = false; }
        const cell = await runOne(item, p);
        if (cell && p.role !== 'anonymous' && cell.status !== 401 && cell.status !== 403) await alive(p);
      }
    }));

    const bad = cells.filter((c) => !c.ok);
    for (const n of notes) t.diagnostic(n);
    t.diagnostic(`${cells.length} calls: ${cells.filter((c) => c.expectAllowed).length} allowed, ${cells.filter((c) => !c.expectAllowed).length} denied`);
    if (bad.length) {
      const who = active.map((p) => p.key);
      const rows = new Map();
      for (const c of cells) {
        const k = `${c.method.padEnd(6)} ${c.pattern}`;
        if (!rows.has(k)) rows.set(k, {});
        rows.get(k)[c.who] = `${c.ok ? ' ' : '!'}${c.status}${c.csrf ? 'c' : ''}`;
      }
      const w = Math.max(...[...rows.keys()].map((k) => k.length));
      const lines = [`${''.padEnd(w)} | ${who.map((x) => x.slice(0, 9).padEnd(9)).join(' ')}`];
      for (const [k, v] of rows) lines.push(`${k.padEnd(w)} | ${who.map((x) => (v[x] ?? '  -').padEnd(9)).join(' ')}`);
      const detail = bad.slice(0, 30).map((c) => `${c.who} ${c.method} ${c.path}: got ${c.status}${c.csrf ? ' (CSRF failure)' : ''}, expected ${c.expectAllowed ? 'allowed' : c.who === 'anonymous' ? '401' : '403'}  ${c.snippet.replace(/\s+/g, ' ').slice(0, 120)}`);
      assert.fail(`${bad.length} authorisation mismatches (! = wrong, c = CSRF failure)\n${lines.join('\n')}\n\n${detail.join('\n')}`);
    }
    // Allowed calls should not crash the server either (reported apart from the matrix).
    const crashed = cells.filter((c) => c.server).map((c) => `${c.who} ${c.method} ${c.path}: ${c.status}`);
    assert.deepEqual(crashed, [], 'calls answered with a server error');
  });

  test('a staff member of one department is not handed another department\'s queue', async (t) => {
    // Department-scoped routes (those with a department parameter) called by staff of psb
    // with civ's code: the role check passes, so the refusal must come from the handler.
    const scoped = routeList.filter((r) => r.roles.includes('staff') && !r.roles.includes('anonymous') && /\{(dept|department)[^}]*\}/.test(r.pattern));
    if (!scoped.length) {
      t.skip('no department-scoped staff route yet');
      return;
    }
    const staffA = principals.find((p) => p.key === 'staffA');
    for (const route of scoped) {
      const method = route.methods.includes('GET') ? 'GET' : route.methods[0];
      const r = await call(route, method, { ...staffA, dept: 'civ' });
      assert.ok([403, 404].includes(r.status), `${method} ${r.path} as psb staff: ${r.status}`);
    }
  });
});

// ---- a former agent ------------------------------------------------------------------------
// An individual authorised by the demo enterprise files, while acting for it, everything an
// agent can: an application (with an idempotency key and uploads) that ends with a
// certificate, a bad review of it, a consultation and a complaint, a bundle, and an upload
// not yet used; the enterprise's inbox fills. Then the enterprise withdraws the
// authorisation. From that moment the former agent (a citizen again, through the page
// session and the API token it had) gets nothing of the enterprise's: every route, called with
// the enterprise's resources as targets, answers 401, 403 or 404, no answer contains anything
// the enterprise owns, no list of theirs shows it, and replaying the old idempotency keys
// brings none of it back.
describe('a former agent', () => {
  const uid = Math.random().toString(36).slice(2, 10);
  const mark = (what) => `FA${uid}${what}`;
  const person = { name: '钱七', id_number: newIdNumber(515_151), phone: newPhone(), password: `Former agent ${uid} key` };
  const fa = {};   // the former agent: id, own token, acting token, page client
  const ent = {};  // the enterprise's resources
  const secrets = []; // strings only the enterprise's own answers may contain
  let entToken;

  const marriage = demo.services.find((x) => x.code === 'civ-0001');
  const byCode = new Map(demo.services.map((x) => [x.code, x]));
  const bundle = demo.bundles.map((b) => ({ b, online: b.items.map((c) => byCode.get(c)).filter((x) => x && x.online_depth >= 3) }))
    .filter(({ b, online }) => online.length > 0 && b.items.every((c) => byCode.get(c)?.audience?.includes('individual')))
    .sort((x, y) => x.online.length - y.online.length)[0];

  async function materialsFor(token, items, tag) {
    const out = [];
    for (const it of items) {
      for (const [i, m] of it.materials.entries()) {
        if (!m.required) continue;
        const up = await uploadAttachment(base, token, samplePdf(), { name: `${mark(tag)}-${it.code}-${i}.pdf` });
        assert.equal(up.status, 201, up.body);
        out.push(items.length > 1 ? { item: it.code, slot: i, attachments: [up.json.id] } : { slot: i, attachments: [up.json.id] });
      }
    }
    return out;
  }
  const post = (path, token, json) => bearer(`${base}${path}`, token, { method: 'POST', json });

  before(async () => {
    entToken = (await apiLogin(base, DEMO.enterprise.phone)).token;
    const reg = await post('/api/v1/accounts/individual', null, person);
    assert.equal(reg.status, 202, reg.body);
    const own = await apiLogin(base, person.phone, person.password);
    fa.id = own.account.id;
    fa.token = own.token;
    const add = await post('/api/v1/me/agents', entToken, { id_number: person.id_number, name: person.name });
    assert.ok([200, 201].includes(add.status), add.body);
    const acting = await post('/api/v1/me/tokens', fa.token, { name: 'acting', channel: 'app', scopes: 'profile,account,apply', acting_for: enterpriseId });
    assert.equal(acting.status, 201, acting.body);
    fa.acting = acting.json.token;
    // A page session acting for the enterprise too.
    fa.client = await pageLogin(base, person.phone, person.password);
    const acct = await fa.client.get('/account');
    const act = await fa.client.post('/account/act-as', { enterprise: String(enterpriseId), _csrf: csrfOf(acct.body, '/account/act-as') ?? fa.client.csrf });
    assert.ok([200, 303].includes(act.status), `act-as: ${act.status}`);
    fa.client.csrf = csrfOf((await fa.client.get('/')).body) ?? fa.client.csrf;

    const staff = (await apiLogin(base, DEMO.staffB.phone)).token; // civ: counter, reviewer, head
    // The application, filed for the enterprise, taken to its end: a certificate is issued.
    ent.key = mark('key');
    let r = await post(`/api/v1/services/${marriage.code}/applications`, fa.acting,
      { form: demoForm(marriage), materials: await materialsFor(fa.acting, [marriage], 'file'), submit: true, idempotency_key: ent.key });
    assert.equal(r.status, 201, r.body);
    ent.number = r.json.number;
    ent.code = r.json.query_code;
    secrets.push(ent.code);
    const detail = await bearer(`${base}/api/v1/applications/${ent.number}`, fa.acting);
    ent.attachment = detail.json.materials.flatMap((m) => m.attachments ?? [])[0]?.id;
    assert.ok(ent.attachment, detail.body);
    secrets.push(mark('file'));
    for (const a of ['accept', 'start_review', 'approve', 'complete']) {
      r = await post(`/api/v1/applications/${ent.number}/actions/${a}`, staff, {});
      assert.equal(r.status, 200, `${a}: ${r.body}`);
    }
    const wallet = await bearer(`${base}/api/v1/wallet`, entToken);
    ent.cert = wallet.json.items.find((c) => c.application === ent.number)?.number;
    assert.ok(ent.cert, wallet.body);
    secrets.push(ent.cert);
    // A bad review of it (a rectification task opens).
    r = await post('/api/v1/evaluations', fa.acting, { subject: 'application', ref: ent.number, level: 1, tags: ['too_slow'], comment: mark('review') });
    assert.equal(r.status, 201, r.body);
    ent.evaluation = r.json.id;
    secrets.push(mark('review'));
    // A consultation (answered) and a complaint, for the enterprise.
    r = await post('/api/v1/consultations', fa.acting, { department: 'civ', subject: mark('ask'), question: mark('question') });
    assert.equal(r.status, 201, r.body);
    ent.consultation = r.json.id;
    r = await post(`/api/v1/consultations/${ent.consultation}/answer`, staff, { answer: mark('answer') });
    assert.equal(r.status, 200, r.body);
    r = await post('/api/v1/complaints', fa.acting, { department: 'civ', kind: 'complaint', subject: mark('complain'), body: mark('complaint') });
    assert.equal(r.status, 201, r.body);
    ent.complaint = r.json.id;
    secrets.push(mark('ask'), mark('question'), mark('answer'), mark('complain'));
    // A bundle.
    ent.bundleKey = mark('bundle');
    r = await post(`/api/v1/bundles/${bundle.b.code}/applications`, fa.acting,
      { form: demoBundleForm(bundle.online), materials: await materialsFor(fa.acting, bundle.online, 'bfile'), submit: true, idempotency_key: ent.bundleKey });
    assert.equal(r.status, 201, r.body);
    ent.bundle = r.json.id;
    ent.bundleNumber = r.json.number;
    secrets.push(ent.bundleNumber, mark('bfile'));
    // An upload not used yet.
    const up = await uploadAttachment(base, fa.acting, samplePdf(), { name: `${mark('spare')}.pdf` });
    assert.equal(up.status, 201, up.body);
    ent.spare = up.json.id;
    secrets.push(mark('spare'));
    // The enterprise's inbox.
    const box = await bearer(`${base}/api/v1/me/inbox?per_page=100`, entToken);
    ent.message = (box.json.messages ?? box.json.items).find((m) => m.number === ent.number)?.id;
    assert.ok(ent.message, box.body);

    // The authorisation ends.
    const del = await bearer(`${base}/api/v1/me/agents/${fa.id}`, entToken, { method: 'DELETE' });
    assert.ok([200, 204].includes(del.status), del.body);
  });

  test('the enterprise itself still has everything (the targets are real)', async () => {
    const has = async (path, what) => {
      const r = await bearer(`${base}${path}`, entToken);
      assert.equal(r.status, 200, `${path}: ${r.body}`);
      assert.ok(r.body.includes(what), `${path} lacks ${what}`);
    };
    await has('/api/v1/applications', ent.number);
    await has(`/api/v1/applications/${ent.number}`, ent.code);
    await has('/api/v1/wallet', ent.cert);
    await has('/api/v1/me/evaluations', mark('review'));
    await has('/api/v1/me/consultations', mark('ask'));
    await has('/api/v1/me/complaints', mark('complain'));
    await has(`/api/v1/bundles/applications/${ent.bundle}`, ent.bundleNumber);
    await has('/api/v1/me/inbox?per_page=100', ent.number);
  });

  test('the credential that acted for the enterprise acts no more; the page session is the person\'s', async () => {
    assert.equal((await bearer(`${base}/api/v1/me`, fa.acting)).status, 401);
    assert.equal((await bearer(`${base}/api/v1/applications`, fa.acting)).status, 401);
    const me = await bearer(`${base}/api/v1/me`, fa.token);
    assert.equal(me.status, 200, me.body);
    const page = await fa.client.get('/applications');
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes(ent.number), 'the page session still lists the enterprise\'s application');
  });

  test('replaying the idempotency keys brings back nothing of the enterprise\'s', async () => {
    const r = await post(`/api/v1/services/${marriage.code}/applications`, fa.token,
      { form: demoForm(marriage), materials: [], submit: true, idempotency_key: ent.key });
    assert.ok(![200, 201].includes(r.status) || r.json?.number !== ent.number, `replay: ${r.status} ${r.body.slice(0, 200)}`);
    for (const x of [...secrets, ent.number]) assert.ok(!r.body.includes(x), `the replay answered with ${x}`);
    const b = await post(`/api/v1/bundles/${bundle.b.code}/applications`, fa.token,
      { form: demoBundleForm(bundle.online), materials: [], submit: true, idempotency_key: ent.bundleKey });
    assert.ok(!(b.status === 201 && b.json?.id === ent.bundle), `bundle replay: ${b.status} ${b.body.slice(0, 200)}`);
    for (const x of [...secrets, ent.number]) assert.ok(!b.body.includes(x), `the bundle replay answered with ${x}`);
    // Nor can the upload made for the enterprise be used for the person's own application.
    const own = await post(`/api/v1/services/${marriage.code}/applications`, fa.token,
      { form: demoForm(marriage), materials: [{ slot: 0, attachments: [ent.spare] }], submit: false, idempotency_key: mark('own') });
    assert.equal(own.status, 422, own.body);
  });

  /** The value of a route parameter: the enterprise's resource of that kind. */
  function target(name, pattern) {
    const n = name.replace(/\*$/, '');
    if (/path|rest/.test(n)) return 'css/site.css';
    if (/^\/(api\/v1\/)?applications\/\{number\}\/attachments/.test(pattern) && n === 'id') return String(ent.attachment);
    if (/number/.test(n)) return /certs|verify/.test(pattern) ? ent.cert : ent.number;
    if (/bundles\/applications/.test(pattern)) return String(ent.bundle);
    if (/evaluations|appeals/.test(pattern) && /id/.test(n)) return String(ent.evaluation);
    if (/consultations/.test(pattern) && n === 'id') return String(ent.consultation);
    if (/complaints/.test(pattern) && n === 'id') return String(ent.complaint);
    if (/inbox/.test(pattern)) return String(ent.message);
    if (/evaluate/.test(pattern)) return n === 'kind' ? 'application' : ent.number;
    if (/agents/.test(pattern)) return String(fa.id);
    if (n === 'enterprise') return String(enterpriseId);
    if (/receipts/.test(pattern)) return '0';
    if (/services|intake/.test(pattern)) return marriage.code;
    if (/bundles/.test(pattern)) return bundle.b.code;
    if (/action|step/.test(n)) return n === 'step' ? 'rate' : 'withdraw';
    if (/departments/.test(pattern) || /dep/.test(n)) return 'civ';
    return '999999';
  }
  const ENTERPRISE_PARAM = /\{(number|id|ref)\}/;

  test('every route, called with the enterprise\'s resources, answers nothing of theirs', async () => {
    const bad = [];
    let calls = 0;
    for (const route of routeList) {
      if (route.roles.includes('anonymous') || route.noauth) continue; // public: the same as for anyone
      for (const method of route.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS')) {
        if (DISRUPTIVE.test(route.pattern) && method !== 'GET') continue;
        const api = route.pattern.startsWith('/api/');
        const path = route.pattern.replace(/\{([^}]+)\}/g, (_, name) => encodeURI(target(name, route.pattern)));
        const r = api
          ? await bearer(`${base}${path}`, fa.token, { method, json: STATE.includes(method) ? {} : undefined })
          : await fa.client.request(method, path, STATE.includes(method) ? { form: { _csrf: fa.client.csrf ?? '' } } : {});
        calls++;
        // What the caller typed in the path may come back (a link to change language); nothing else.
        const leaked = [...secrets, ...(ENTERPRISE_PARAM.test(route.pattern) ? [] : [ent.number])]
          .filter((x) => !path.includes(x) && r.body.includes(x));
        if (leaked.length) bad.push(`${method} ${path}: ${r.status} contains ${leaked.join(', ')}`);
        const asCitizen = route.roles.includes('citizen');
        if (!asCitizen && ![401, 403].includes(r.status) && !(r.status === 303 && /^\/login/.test(r.location ?? ''))) {
          bad.push(`${method} ${path}: ${r.status}, but a former agent is a citizen (roles ${route.roles})`);
        } else if (asCitizen && ENTERPRISE_PARAM.test(route.pattern) && ![401, 403, 404].includes(r.status)) {
          bad.push(`${method} ${path}: ${r.status} for the enterprise's resource`);
        }
      }
    }
    assert.ok(calls > 50, `only ${calls} calls`);
    assert.deepEqual(bad, []);
  });
});
