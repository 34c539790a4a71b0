// Identity, black-box: registration (API and pages, both languages), log-in through the API
// and the pages, the administrator's second factor, bearer tokens (revocation, scopes),
// CSRF, the session cookie, rotation at log-in, log-out, idle and absolute expiry (by moving
// the session's clock in the database), and the throttle after repeated failures.
//
// The server runs with --trust-proxy true and every caller sends its own X-Forwarded-For, so
// the per-address limits of one test never block another. Password hashing is slow on
// purpose (Argon2id, slower still under ASan): tokens and sessions are reused where possible.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshTotp,
  apiLogin, apiToken, bearer, Client, csrfOf, DEMO, DEMO_PASSWORD, DEMO_TOTP_SECRET, freshIp, htmlText,
  newIdNumber, newPhone, newUscc, pageLogin, routes, sql, startServer, totp,
} from './helpers.mjs';

// A page that needs a log-in sends anonymous visitors to /login?next=<the page>.
function assertLoginRequired(r, msg) {
  assert.equal(r.status, 303, msg);
  assert.match(r.location ?? '', /^\/login\?next=/, msg);
}

const IDLE = 600;
const MAX = 3600;
const CSRF_MESSAGE = '页面已过期'; // GH_ECSRF's public message (zh), distinct from "forbidden"

let srv;
let base;
let routeList = [];
let seq = Math.floor(Math.random() * 1_000_000);
const nextN = () => ++seq;

before(async () => {
  srv = await startServer({
    name: 'identity',
    extraArgs: ['--trust-proxy', 'true', '--session-idle', String(IDLE), '--session-max', String(MAX)],
  });
  base = srv.url;
  routeList = await routes();
});
after(async () => { await srv?.stop(); });

/** POSTs JSON to path from a fresh (or given) address; resolves {status, headers, json, body}. */
async function postJson(p, body, { ip = freshIp(), lang } = {}) {
  return bearer(`${base}${p}${lang ? `?lang=${lang}` : ''}`, null,
    { method: 'POST', json: body, headers: { 'x-forwarded-for': ip } });
}

function newIndividual(over = {}) {
  const n = nextN();
  return { name: '王小明', id_number: newIdNumber(n), phone: newPhone(), password: `Lantern river ${n} maple`, ...over };
}
function newEnterprise(over = {}) {
  const n = nextN();
  return { name: '清河测试有限公司', uscc: newUscc(n), legal_rep: '赵大海', phone: newPhone(), password: `Harbour bridge ${n} kite`, ...over };
}

function assertNoFull(body, values, what) {
  for (const v of values) assert.ok(!body.includes(v), `${what} contains the full value ${v}`);
}

// ---- registration ------------------------------------------------------------------------

describe('registration through the API', () => {
  test('an individual registers and can log in with the phone number', async () => {
    const p = newIndividual();
    const r = await postJson('/api/v1/accounts/individual', p);
    assert.equal(r.status, 202, r.body);
    assert.equal(r.json.status, 'accepted');
    assert.equal(typeof r.json.message, 'string');
    assertNoFull(r.body, [p.id_number, p.phone, p.password], 'registration answer');
    const tok = await apiLogin(base, p.phone, p.password);
    assert.equal(tok.account.kind, 'individual');
    assert.equal(tok.account.name, p.name);
    // The ID number works as a log-in name too (the same account).
    const byId = await apiLogin(base, p.id_number, p.password);
    assert.equal(byId.account.id, tok.account.id);
  });

  test('an enterprise registers and can log in with the phone number', async () => {
    const p = newEnterprise();
    const r = await postJson('/api/v1/accounts/enterprise', p);
    assert.equal(r.status, 202, r.body);
    assert.equal(r.json.status, 'accepted');
    const tok = await apiLogin(base, p.phone, p.password);
    assert.equal(tok.account.kind, 'enterprise');
    assert.equal(tok.account.legal_representative, p.legal_rep);
    assertNoFull(JSON.stringify(tok), [p.uscc, p.phone], 'token answer');
  });

  test('a duplicate registration gets exactly the answer of a new one', async () => {
    const fresh = await postJson('/api/v1/accounts/individual', newIndividual());
    assert.equal(fresh.status, 202, fresh.body);
    // The demo citizen's ID number with a new phone; the demo citizen's phone with a new ID.
    const dupId = await postJson('/api/v1/accounts/individual', newIndividual({ id_number: DEMO.citizen.id_number }));
    const dupPhone = await postJson('/api/v1/accounts/individual', newIndividual({ phone: DEMO.citizen.phone }));
    for (const d of [dupId, dupPhone]) {
      assert.equal(d.status, fresh.status, d.body);
      assert.deepEqual(d.json, fresh.json);
      assert.equal(d.headers.get('content-type'), fresh.headers.get('content-type'));
    }
    const freshEnt = await postJson('/api/v1/accounts/enterprise', newEnterprise());
    const dupEnt = await postJson('/api/v1/accounts/enterprise', newEnterprise({ uscc: DEMO.enterprise.uscc }));
    assert.equal(freshEnt.status, 202, freshEnt.body);
    assert.equal(dupEnt.status, 202, dupEnt.body);
    assert.deepEqual(dupEnt.json, freshEnt.json);
    // And the existing account keeps its password: the duplicate did not take it over.
    const r = await apiToken(base, { login: DEMO.citizen.phone, password: newIndividual().password });
    assert.equal(r.status, 401);
  });

  // field -> [bad value, zh pattern, en pattern]
  const individualCases = {
    id_number: [(p) => ({ ...p, id_number: p.id_number.slice(0, 17) + (p.id_number.endsWith('0') ? '1' : '0') }), /校验位/, /check character/i],
    phone: [(p) => ({ ...p, phone: '1380000000' }), /11位/, /11 digits/],
    password: [(p) => ({ ...p, password: 'short' }), /密码太短/, /too short/i],
  };
  for (const [field, [mutate, zh, en]] of Object.entries(individualCases)) {
    test(`an invalid ${field} is refused with a message in Chinese and in English`, async () => {
      const bad = mutate(newIndividual());
      const rz = await postJson('/api/v1/accounts/individual', bad);
      assert.equal(rz.status, 422, rz.body);
      assert.equal(rz.json.error.code, 'validation_failed');
      assert.match(rz.json.error.fields[field] ?? '', zh, JSON.stringify(rz.json.error.fields));
      const re = await postJson('/api/v1/accounts/individual', bad, { lang: 'en' });
      assert.equal(re.status, 422, re.body);
      assert.match(re.json.error.fields[field] ?? '', en, JSON.stringify(re.json.error.fields));
      assert.ok(!rz.body.includes(bad.password), 'the password is echoed back');
    });
  }

  test('a password containing the phone number is refused', async () => {
    const p = newIndividual();
    const r = await postJson('/api/v1/accounts/individual', { ...p, password: `my number ${p.phone} ok` }, { lang: 'en' });
    assert.equal(r.status, 422, r.body);
    assert.match(r.json.error.fields.password, /ID number or mobile/);
  });

  test('an invalid credit code is refused with a message in both languages', async () => {
    const p = newEnterprise();
    const last = p.uscc.at(-1) === '0' ? '1' : '0';
    const bad = { ...p, uscc: p.uscc.slice(0, 17) + last };
    const rz = await postJson('/api/v1/accounts/enterprise', bad);
    assert.equal(rz.status, 422, rz.body);
    assert.equal(rz.json.error.code, 'validation_failed');
    assert.match(rz.json.error.fields.uscc ?? '', /统一社会信用代码/);
    const re = await postJson('/api/v1/accounts/enterprise', bad, { lang: 'en' });
    assert.match(re.json.error.fields.uscc ?? '', /unified social credit code/i);
    const io = await postJson('/api/v1/accounts/enterprise', { ...p, uscc: `${p.uscc.slice(0, 10)}I${p.uscc.slice(11)}` }, { lang: 'en' });
    assert.equal(io.status, 422);
    assert.match(io.json.error.fields.uscc ?? '', /capital letters|not valid|check/i);
    const noRep = await postJson('/api/v1/accounts/enterprise', { ...p, legal_rep: '' });
    assert.equal(noRep.status, 422);
    assert.ok(noRep.json.error.fields.legal_rep, JSON.stringify(noRep.json.error.fields));
  });

  test('an empty registration lists every missing field', async () => {
    const r = await postJson('/api/v1/accounts/individual', {});
    assert.equal(r.status, 422, r.body);
    for (const f of ['name', 'id_number', 'phone', 'password']) assert.ok(r.json.error.fields[f], `no message for ${f}`);
  });

  test('more than 10 registrations per hour from one address get 429 with Retry-After', async () => {
    const ip = freshIp();
    const answers = [];
    for (let i = 0; i < 10; i++) {
      // Duplicates count as much as new accounts (the limit must not reveal which is which).
      const p = i % 2 ? newIndividual({ id_number: DEMO.agent.id_number }) : newIndividual();
      answers.push((await postJson('/api/v1/accounts/individual', p, { ip })).status);
    }
    assert.deepEqual(answers, Array(10).fill(202));
    const over = await postJson('/api/v1/accounts/enterprise', newEnterprise(), { ip });
    assert.equal(over.status, 429, over.body);
    assert.equal(over.json.error.code, 'rate_limited');
    const ra = Number(over.headers.get('retry-after'));
    assert.ok(ra >= 1 && ra <= 3600, `Retry-After ${over.headers.get('retry-after')}`);
    // Another address is not affected.
    const other = await postJson('/api/v1/accounts/individual', newIndividual());
    assert.equal(other.status, 202, other.body);
  });
});

describe('registration through the pages', () => {
  test('the individual form registers an account that can log in', async () => {
    const c = new Client(base);
    const page = await c.get('/register');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    for (const f of ['name', 'id_number', 'phone', 'password', 'password2']) {
      assert.match(page.body, new RegExp(`name="${f}"`), `no ${f} field on /register`);
    }
    assert.ok(csrfOf(page.body), 'no _csrf on /register');
    assert.ok(c.jar.get('gh_pre'), 'no gh_pre cookie with the form');
    const p = newIndividual();
    const r = await c.post('/register', { ...p, password2: p.password });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assertNoFull(r.body, [p.id_number, p.password], 'registration page');
    const s = await pageLogin(base, p.phone, p.password);
    assert.equal(s.landing, '/account');
  });

  test('mistakes come back beside the fields, in Chinese and in English, passwords not kept', async () => {
    for (const [lang, pats] of [['zh', [/校验位/, /两次输入的密码不一致/]], ['en', [/check character/i, /do not match/i]]]) {
      const c = new Client(base, { lang });
      await c.get('/register');
      const p = newIndividual();
      const bad = { ...p, id_number: p.id_number.slice(0, 17) + (p.id_number.endsWith('0') ? '1' : '0'), password2: `${p.password}x` };
      const r = await c.post('/register', bad);
      assert.equal(r.status, 422, r.body.slice(0, 300));
      const text = htmlText(r.body);
      for (const pat of pats) assert.match(text, pat, `${lang}: ${pat}`);
      assert.ok(!r.body.includes(p.password), `${lang}: the password is put back into the page`);
      assert.ok(text.includes(p.name), `${lang}: the name is not kept`);
    }
  });

  test('the enterprise form checks the credit code in both languages', async () => {
    for (const [lang, pat] of [['zh', /统一社会信用代码/], ['en', /unified social credit code/i]]) {
      const c = new Client(base, { lang });
      const page = await c.get('/register/enterprise');
      assert.equal(page.status, 200, page.body.slice(0, 300));
      for (const f of ['name', 'uscc', 'legal_rep', 'phone', 'password', 'password2']) {
        assert.match(page.body, new RegExp(`name="${f}"`), `no ${f} field on /register/enterprise`);
      }
      const p = newEnterprise();
      const r = await c.post('/register/enterprise', { ...p, uscc: `${p.uscc.slice(0, 17)}${p.uscc.at(-1) === '0' ? '1' : '0'}`, password2: p.password });
      assert.equal(r.status, 422, r.body.slice(0, 300));
      assert.match(htmlText(r.body), pat);
    }
    const c = new Client(base);
    await c.get('/register/enterprise');
    const p = newEnterprise();
    const ok = await c.post('/register/enterprise', { ...p, password2: p.password });
    assert.equal(ok.status, 200, ok.body.slice(0, 300));
  });
});

// ---- log-in through the API ----------------------------------------------------------------

describe('log-in through the API', () => {
  let citizen;
  before(async () => { citizen = await apiLogin(base, DEMO.citizen.phone, DEMO_PASSWORD, { name: 'test phone', channel: 'app' }); });

  test('issues a bearer token with masked account data', async () => {
    assert.equal(citizen.token_type, 'Bearer');
    assert.match(citizen.token, /^[A-Za-z0-9_-]{32,}$/);
    assert.equal(typeof citizen.id, 'number');
    assert.ok(citizen.expires_at > Date.now() / 1000, 'expires_at in the past');
    assert.equal(citizen.account.kind, 'individual');
    assert.equal(citizen.account.name, DEMO.citizen.name);
    assertNoFull(JSON.stringify(citizen), [DEMO.citizen.id_number, DEMO.citizen.phone], 'token answer');
    assert.ok(!String(citizen.scopes).includes('admin'), `a citizen got ${citizen.scopes}`);
  });

  test('GET /api/v1/me shows masked values only', async () => {
    const r = await bearer(`${base}/api/v1/me`, citizen.token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.name, DEMO.citizen.name);
    assert.match(r.json.id_masked, /^1101\*+002X$/);
    assert.match(r.json.phone_masked, /^138\*+0001$/);
    assertNoFull(r.body, [DEMO.citizen.id_number, DEMO.citizen.phone, DEMO.citizen.id_number.toLowerCase()], '/api/v1/me');
    assert.ok(!/password|totp_secret|_enc|_index/.test(Object.keys(r.json).join(',')), Object.keys(r.json).join(','));
  });

  test('a wrong password and an unknown account get the same answer', async () => {
    const wrong = await apiToken(base, { login: DEMO.citizen.phone, password: 'not the password at all' });
    const unknown = await apiToken(base, { login: '13999999999', password: 'not the password at all' });
    const garbage = await apiToken(base, { login: 'nobody-at-all', password: 'not the password at all' });
    assert.equal(wrong.status, 401, wrong.body);
    for (const r of [unknown, garbage]) {
      assert.equal(r.status, wrong.status, r.body);
      assert.equal(r.json.error.code, 'unauthenticated');
      assert.equal(r.json.error.code, wrong.json.error.code);
      assert.equal(r.json.error.message, wrong.json.error.message);
      assert.equal(r.json.error.detail, wrong.json.error.detail);
      assert.equal(r.headers.get('content-type'), wrong.headers.get('content-type'));
    }
  });

  test('without a token, with a malformed or unknown token: 401', async () => {
    assert.equal((await bearer(`${base}/api/v1/me`, null)).status, 401);
    assert.equal((await bearer(`${base}/api/v1/me`, 'short')).status, 401);
    assert.equal((await bearer(`${base}/api/v1/me`, 'A'.repeat(citizen.token.length))).status, 401);
    const basic = await bearer(`${base}/api/v1/me`, null, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.status, 401);
  });

  test('a session cookie does not authenticate an API call', async () => {
    const s = await pageLogin(base, DEMO.citizen.phone);
    const r = await bearer(`${base}/api/v1/me`, null, { headers: { cookie: s.jar.header() } });
    assert.equal(r.status, 401, r.body);
  });

  test('bad channel or scope words are refused', async () => {
    const r = await apiToken(base, { login: DEMO.citizen.phone, password: DEMO_PASSWORD, channel: 'fax' });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.channel);
    const s = await apiToken(base, { login: DEMO.citizen.phone, password: DEMO_PASSWORD, scopes: 'profile,everything' });
    assert.equal(s.status, 422, s.body);
    assert.ok(s.json.error.fields.scopes);
  });

  test('a citizen asking for the admin scope does not get it', async () => {
    const t = await apiLogin(base, DEMO.citizen.phone, DEMO_PASSWORD, { scopes: 'profile,admin' });
    assert.ok(!String(t.scopes).includes('admin'), `granted ${t.scopes}`);
    const ev = await bearer(`${base}/api/v1/admin/events`, t.token);
    assert.equal(ev.status, 403, ev.body);
  });

  test('a token limited to "profile" is refused on routes needing another scope', async (t0) => {
    const t = await apiLogin(base, DEMO.citizen.phone, DEMO_PASSWORD, { scopes: ['profile'] });
    assert.equal(t.scopes, 'profile');
    assert.equal((await bearer(`${base}/api/v1/me`, t.token)).status, 200);
    // SCOPE_ACCOUNT = 2: the self-service routes (password, tokens, agents).
    const accountRoutes = routeList.filter((r) => (r.scopes & 2) && r.roles.includes('citizen') && r.pattern.startsWith('/api/'));
    if (accountRoutes.length === 0) {
      t0.skip('no route needs the "account" scope yet (only the "profile" half was checked)');
      return;
    }
    for (const rt of accountRoutes) {
      const method = rt.methods.includes('GET') ? 'GET' : rt.methods[0];
      const p = rt.pattern.replace(/\{[^}]+\}/g, String(t.id));
      const denied = await bearer(`${base}${p}`, t.token, { method, json: method === 'GET' ? undefined : {} });
      assert.equal(denied.status, 403, `${method} ${p} with a profile-only token: ${denied.status} ${denied.body}`);
      if (method === 'GET') {
        const full = await bearer(`${base}${p}`, citizen.token, { method });
        assert.ok(![401, 403].includes(full.status), `${method} ${p} with a full token: ${full.status} ${full.body}`);
      }
    }
  });

  test('DELETE /api/v1/auth/token revokes the token', async () => {
    const t = await apiLogin(base, DEMO.citizen.phone);
    assert.equal((await bearer(`${base}/api/v1/me`, t.token)).status, 200);
    const del = await bearer(`${base}/api/v1/auth/token`, t.token, { method: 'DELETE' });
    assert.equal(del.status, 204, del.body);
    const after = await bearer(`${base}/api/v1/me`, t.token);
    assert.equal(after.status, 401, after.body);
    assert.equal(after.json.error.code, 'unauthenticated');
    assert.equal((await bearer(`${base}/api/v1/auth/token`, t.token, { method: 'DELETE' })).status, 401);
    // Other tokens of the same account still work.
    assert.equal((await bearer(`${base}/api/v1/me`, citizen.token)).status, 200);
  });
});

describe('second factor for the administrator', () => {
  test('API: a missing or wrong code is refused, the right one accepted', async () => {
    const none = await apiToken(base, { login: DEMO.admin.phone, password: DEMO_PASSWORD });
    assert.equal(none.status, 401, none.body);
    const right = totp(DEMO_TOTP_SECRET);
    const wrongCode = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    const wrong = await apiToken(base, { login: DEMO.admin.phone, password: DEMO_PASSWORD, totp: wrongCode });
    assert.equal(wrong.status, 401, wrong.body);
    // The same answer as a wrong password: nothing tells which factor failed.
    const badpw = await apiToken(base, { login: DEMO.admin.phone, password: 'wrong password here', totp: right });
    assert.equal(badpw.status, 401);
    assert.equal(wrong.json.error.message, badpw.json.error.message);
    const ok = await apiToken(base, { login: DEMO.admin.phone, password: DEMO_PASSWORD, totp: await freshTotp(DEMO_TOTP_SECRET) });
    assert.equal(ok.status, 201, ok.body);
    assert.match(ok.json.scopes, /admin/);
    const ev = await bearer(`${base}/api/v1/admin/events`, ok.json.token);
    assert.equal(ev.status, 200, ev.body);
    assert.ok(Array.isArray(ev.json.events));
    assert.ok(!ev.body.includes(DEMO_PASSWORD), 'security events contain a password');
  });

  test('pages: password, then the code; the half-done session is anonymous', async () => {
    const c = new Client(base);
    const form = await c.get('/login');
    const pre = c.jar.get('gh_pre');
    let r = await c.post('/login', { login: DEMO.admin.phone, password: DEMO_PASSWORD, _csrf: csrfOf(form.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.match(r.location, /^\/login\/totp/);
    const pendingSid = c.sid;
    assert.ok(pendingSid && pendingSid !== pre, 'no new session cookie after the password');
    assertLoginRequired(await c.get('/admin/events'), 'a session waiting for its code reached an admin page');
    assertLoginRequired(await c.get('/account'), 'expected the log-in page');
    const page = await c.get('/login/totp');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /name="totp"/);
    const right = totp(DEMO_TOTP_SECRET);
    const wrongCode = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    r = await c.post('/login/totp', { totp: wrongCode, _csrf: csrfOf(page.body) });
    assert.ok(r.status >= 400 && r.status < 500, `wrong code: ${r.status}`);
    assert.notEqual(r.status, 403, 'wrong code answered as a CSRF failure');
    assertLoginRequired(await c.get('/admin/events'), 'expected the log-in page');
    const missing = await c.post('/login/totp', { _csrf: csrfOf(page.body) });
    assert.ok(missing.status >= 400 && missing.status < 500, `no code: ${missing.status}`);
    r = await c.post('/login/totp', { totp: await freshTotp(DEMO_TOTP_SECRET), _csrf: csrfOf(page.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/account');
    assert.notEqual(c.sid, pendingSid, 'the session token was not renewed after the second factor');
    const admin = await c.get('/admin/events');
    assert.equal(admin.status, 200, admin.body.slice(0, 300));
    // The pre-factor cookie is dead.
    const old = new Client(base);
    old.jar.set('gh_sid', pendingSid);
    assertLoginRequired(await old.get('/admin/events'), 'expected the log-in page');
  });
});

// ---- log-in through the pages, cookies, CSRF, log-out ----------------------------------------

describe('log-in through the pages', () => {
  test('the log-in form carries a CSRF token and sets the pre-session cookie', async () => {
    const c = new Client(base);
    const r = await c.get('/login');
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assert.match(r.body, /<form[^>]*method="post"/i);
    assert.match(r.body, /name="login"/);
    assert.match(r.body, /name="password"/);
    assert.ok(csrfOf(r.body), 'no _csrf');
    const pre = c.jar.raw.find((s) => s.startsWith('gh_pre='));
    assert.ok(pre, 'no gh_pre cookie');
    assert.match(pre, /HttpOnly/i);
    assert.match(pre, /SameSite=Lax/i);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  });

  test('success: 303 to /account with an HttpOnly, SameSite=Lax session cookie', async () => {
    const c = new Client(base);
    const form = await c.get('/login');
    const pre = c.jar.get('gh_pre');
    const r = await c.post('/login', { login: DEMO.citizen.phone, password: DEMO_PASSWORD, next: '', _csrf: csrfOf(form.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/account');
    const sc = c.jar.raw.find((s) => /^gh_sid=[^;]+/.test(s));
    assert.ok(sc, 'no gh_sid cookie');
    assert.match(sc, /;\s*HttpOnly/i);
    assert.match(sc, /;\s*SameSite=Lax/i);
    assert.match(sc, /;\s*Path=\//i);
    assert.match(sc, new RegExp(`;\\s*Max-Age=${MAX}(;|$)`), `Max-Age is not --session-max: ${sc}`);
    assert.doesNotMatch(sc, /Secure/i, 'Secure without --behind-tls');
    assert.notEqual(c.sid, pre, 'the session token equals the pre-session token');
    const acct = await c.get('/account');
    assert.equal(acct.status, 200, acct.body.slice(0, 300));
    const text = htmlText(acct.body);
    assert.ok(text.includes(DEMO.citizen.name));
    assert.match(text, /1101\*+002X/, 'no masked ID number on /account');
    assertNoFull(acct.body, [DEMO.citizen.id_number, DEMO.citizen.phone], '/account');
    assert.match(acct.headers.get('cache-control') ?? '', /no-store/);
  });

  test('next= is honoured for local paths only', async () => {
    const c = new Client(base);
    const form = await c.get('/login');
    const r = await c.post('/login', { login: DEMO.citizen.phone, password: DEMO_PASSWORD, next: '//evil.example/x', _csrf: csrfOf(form.body) });
    assert.equal(r.status, 303);
    assert.equal(r.location, '/account');
    const c2 = new Client(base);
    const f2 = await c2.get('/login?next=/services');
    const r2 = await c2.post('/login', { login: DEMO.citizen.phone, password: DEMO_PASSWORD, next: '/services', _csrf: csrfOf(f2.body) });
    assert.equal(r2.status, 303);
    assert.equal(r2.location, '/services');
  });

  test('a wrong password and an unknown account get the same 401 page', async () => {
    const answer = async (login) => {
      const c = new Client(base);
      const form = await c.get('/login');
      const r = await c.post('/login', { login, password: 'definitely wrong', _csrf: csrfOf(form.body) });
      // Compare the pages without what legitimately differs: the echoed login and tokens.
      const norm = htmlText(r.body).split(login).join('LOGIN')
        .replace(/<input\b[^>]*name="_csrf"[^>]*>/g, '').replace(/<code>[0-9a-f]+<\/code>/g, '');
      return { r, norm, sid: c.sid };
    };
    const wrong = await answer('13800000001');
    const unknown = await answer('13900000077');
    assert.equal(wrong.r.status, 401, wrong.r.body.slice(0, 300));
    assert.equal(unknown.r.status, 401);
    assert.equal(unknown.norm, wrong.norm, 'the pages differ between a wrong password and an unknown account');
    assert.equal(wrong.sid, undefined, 'a failed log-in set a session cookie');
    assert.ok(!wrong.r.body.includes('definitely wrong'), 'the password is put back into the page');
  });

  test('each log-in issues a new session token and ends the previous one', async () => {
    const c = await pageLogin(base, DEMO.agent.phone);
    const first = c.sid;
    assert.ok(first);
    assert.ok(c.csrf, 'no _csrf (log-out form) on the pages of a logged-in user');
    const r = await c.post('/login', { login: DEMO.agent.phone, password: DEMO_PASSWORD });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.ok(c.sid && c.sid !== first, 'the session token did not change at log-in');
    assert.equal((await c.get('/account')).status, 200);
    const old = new Client(base);
    old.jar.set('gh_sid', first);
    assertLoginRequired(await old.get('/account'), 'the replaced session still works');
    // A session token chosen by an attacker before log-in is never adopted.
    const planted = new Client(base);
    planted.jar.set('gh_sid', 'P'.repeat(43));
    const form = await planted.get('/login');
    const r2 = await planted.post('/login', { login: DEMO.agent.phone, password: DEMO_PASSWORD, _csrf: csrfOf(form.body) });
    assert.equal(r2.status, 303);
    assert.notEqual(planted.sid, 'P'.repeat(43));
  });

  test('log-out ends the session', async () => {
    const c = await pageLogin(base, DEMO.citizen.phone);
    const sid = c.sid;
    const home = await c.get('/');
    const csrf = csrfOf(home.body, '/logout') ?? c.csrf;
    assert.ok(csrf, 'no log-out form with _csrf in the page header');
    assert.match(home.body, /<form[^>]*action="\/logout"/, 'no log-out form in the header');
    const r = await c.post('/logout', { _csrf: csrf });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/');
    assert.ok(c.jar.raw.some((s) => /^gh_sid=;/.test(s) || /^gh_sid=[^;]*;.*Max-Age=0/i.test(s)), 'the cookie is not cleared');
    const old = new Client(base);
    old.jar.set('gh_sid', sid);
    assertLoginRequired(await old.get('/account'), 'the session survived log-out');
  });

  test('POST /account/logout-all ends the other sessions', async (t) => {
    if (!routeList.some((r) => r.pattern === '/account/logout-all')) {
      t.skip('/account/logout-all is not a route yet');
      return;
    }
    const a = await pageLogin(base, DEMO.enterprise.phone);
    const b = await pageLogin(base, DEMO.enterprise.phone);
    const tok = await apiLogin(base, DEMO.enterprise.phone);
    const page = await a.get('/account');
    const r = await a.post('/account/logout-all', { _csrf: csrfOf(page.body, '/account/logout-all') ?? a.csrf });
    assert.ok(r.status === 303 || r.status === 200, `logout-all: ${r.status} ${r.body.slice(0, 300)}`);
    assertLoginRequired(await b.get('/account'), 'another session survived logout-all');
    assert.equal((await bearer(`${base}/api/v1/me`, tok.token)).status, 401, 'a token survived logout-all');
  });
});

describe('CSRF', () => {
  test('an anonymous form without _csrf, with a wrong one, or without its cookie: 403', async () => {
    const c = new Client(base);
    const form = await c.get('/login');
    const good = csrfOf(form.body);
    const body = { login: DEMO.citizen.phone, password: DEMO_PASSWORD };
    const missing = await c.post('/login', { ...body, _csrf: '' });
    assert.equal(missing.status, 403, missing.body.slice(0, 200));
    assert.ok(htmlText(missing.body).includes(CSRF_MESSAGE), 'not the CSRF error page');
    const wrong = await c.post('/login', { ...body, _csrf: good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA') });
    assert.equal(wrong.status, 403);
    const noCookie = await c.post('/login', { ...body, _csrf: good }, { cookies: false });
    assert.equal(noCookie.status, 403);
    // Another visitor's token does not fit this visitor's cookie.
    const other = new Client(base);
    const otherForm = await other.get('/login');
    const cross = await c.post('/login', { ...body, _csrf: csrfOf(otherForm.body) });
    assert.equal(cross.status, 403);
    assert.equal(c.sid, undefined, 'a refused form logged in');
    // Registration is protected the same way.
    const reg = await c.post('/register', { ...newIndividual(), _csrf: '' });
    assert.equal(reg.status, 403);
  });

  test('a logged-in form needs the token of its own session; GET changes nothing', async () => {
    const a = await pageLogin(base, DEMO.enterprise.phone);
    const b = await pageLogin(base, DEMO.enterprise.phone);
    assert.ok(a.csrf && b.csrf, 'no _csrf on the pages of a logged-in user');
    assert.notEqual(a.csrf, b.csrf, 'two sessions share a CSRF token');
    assert.equal((await a.post('/logout', { _csrf: b.csrf })).status, 403, 'another session\'s token accepted');
    assert.equal((await a.post('/logout', { _csrf: '' })).status, 403, 'log-out without a token');
    // The pre-session token of this browser does not count once logged in.
    const anonForm = await new Client(base).get('/login');
    assert.equal((await a.post('/logout', { _csrf: csrfOf(anonForm.body) })).status, 403);
    const viaGet = await a.get('/logout');
    assert.ok([404, 405].includes(viaGet.status), `GET /logout: ${viaGet.status}`);
    assert.equal((await a.get('/account')).status, 200, 'the session ended without a valid token');
    // The header form works, also sent as X-CSRF-Token.
    const ok = await a.request('POST', '/logout', { headers: { 'x-csrf-token': a.csrf } });
    assert.equal(ok.status, 303);
    assertLoginRequired(await a.get('/account'), 'expected the log-in page');
    assert.equal((await b.get('/account')).status, 200, 'log-out ended another session');
  });
});

describe('session expiry', () => {
  let staffId;
  before(async () => { staffId = (await apiLogin(base, DEMO.staffA.phone)).account.id; });
  const now = () => Math.floor(Date.now() / 1000);

  test('an idle session ends (last_seen moved back past --session-idle)', async () => {
    const c = await pageLogin(base, DEMO.staffA.phone);
    assert.equal((await c.get('/account')).status, 200);
    await sql(srv.db, `UPDATE sessions SET last_seen = last_seen - ${IDLE + 60} WHERE account_id = ${staffId}`);
    const r = await c.get('/account');
    assertLoginRequired(r, 'an idle session still works');
    assert.equal(c.sid, undefined, 'the expired cookie is not cleared');
    const left = await sql(srv.db, `SELECT count(*) FROM sessions WHERE account_id = ${staffId}`);
    assert.equal(Number(left), 0, 'the expired session row is kept');
  });

  test('a session ends at --session-max even when active', async () => {
    const c = await pageLogin(base, DEMO.staffA.phone);
    assert.equal((await c.get('/account')).status, 200);
    const row = await sql(srv.db, `SELECT expires_at - created_at FROM sessions WHERE account_id = ${staffId}`);
    assert.equal(Number(row), MAX, 'expires_at is not created_at + --session-max');
    await sql(srv.db, `UPDATE sessions SET expires_at = ${now() - 1}, last_seen = ${now()} WHERE account_id = ${staffId}`);
    assertLoginRequired(await c.get('/account'), 'a session past its absolute end still works');
  });

  test('activity within the idle time keeps the session', async () => {
    const c = await pageLogin(base, DEMO.staffA.phone);
    await sql(srv.db, `UPDATE sessions SET last_seen = last_seen - ${IDLE - 120} WHERE account_id = ${staffId}`);
    assert.equal((await c.get('/account')).status, 200);
    const seen = Number(await sql(srv.db, `SELECT last_seen FROM sessions WHERE account_id = ${staffId}`));
    assert.ok(seen >= now() - 5, 'last_seen not refreshed by activity');
  });
});

describe('throttle after repeated failures (more in login.test.mjs)', () => {
  test('from the 6th wrong password one address waits, even with the right password; the owner elsewhere does not', async () => {
    const p = newIndividual();
    assert.equal((await postJson('/api/v1/accounts/individual', p)).status, 202);
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await apiToken(base, { login: p.phone, password: `wrong ${i} password` }, { ip })).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401]);
    const blocked = await apiToken(base, { login: p.phone, password: p.password }, { ip });
    assert.equal(blocked.status, 429, blocked.body);
    assert.equal(blocked.json.error.code, 'rate_limited');
    const ra = Number(blocked.headers.get('retry-after'));
    assert.ok(ra >= 1 && ra <= 30, `Retry-After ${blocked.headers.get('retry-after')}`);
    // The pages from that address share the block ...
    const c = new Client(base, { ip });
    const form = await c.get('/login');
    const page = await c.post('/login', { login: p.phone, password: p.password, _csrf: csrfOf(form.body) });
    assert.equal(page.status, 429);
    assert.ok(page.headers.get('retry-after'));
    // ... and so does the account's ID number (the block is the account's, not the name's).
    assert.equal((await apiToken(base, { login: p.id_number, password: p.password }, { ip })).status, 429);
    // The owner at another address logs in.
    assert.equal((await apiToken(base, { login: p.id_number, password: p.password })).status, 201);
  });
});
