// Secrets never reach the log: drive registration, log-ins (right and wrong, pages and API,
// with a second factor), token use, a profile fetch, a password change attempt and log-out
// with the server logging at debug level, stop it, and look for every secret that went over
// the wire in its whole stderr: passwords, bearer tokens, session cookies, CSRF tokens, full
// ID numbers, credit codes and phone numbers (masked forms are fine), the TOTP secret and
// codes. `govhall init --demo` prints the demo password on purpose, on stdout, as a report
// for the operator: it must not look like a log line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshTotp,
  apiLogin, apiToken, bearer, Client, csrfOf, DEMO, DEMO_PASSWORD, DEMO_TOTP_SECRET, newIdNumber, newPhone,
  newUscc, pageLogin, startServer, totp,
} from './helpers.mjs';

let srv;
const secrets = new Map(); // value -> what it is
function secret(value, what) {
  if (value && String(value).length >= 6) secrets.set(String(value), what);
  return value;
}

before(async () => {
  srv = await startServer({ name: 'logs', extraArgs: ['--trust-proxy', 'true', '--log-level', 'debug'] });
  const base = srv.url;
  const post = (p, json) => bearer(`${base}${p}`, null, { method: 'POST', json });

  // Registration: an individual, an enterprise, a duplicate and an invalid one.
  const ind = { name: '日志测试', id_number: secret(newIdNumber(777_001), 'ID number'), phone: secret(newPhone(), 'phone'), password: secret('Log check paper lantern 1', 'password') };
  assert.equal((await post('/api/v1/accounts/individual', ind)).status, 202);
  const ent = { name: '日志测试有限公司', uscc: secret(newUscc(777_002), 'credit code'), legal_rep: '王五', phone: secret(newPhone(), 'phone'), password: secret('Log check harbour kite 2', 'password') };
  assert.equal((await post('/api/v1/accounts/enterprise', ent)).status, 202);
  assert.equal((await post('/api/v1/accounts/individual', { ...ind, password: secret('Duplicate attempt secret 3', 'password') })).status, 202);
  const badId = secret(`${ind.id_number.slice(0, 17)}${ind.id_number.endsWith('0') ? '1' : '0'}`, 'ID number (invalid)');
  assert.equal((await post('/api/v1/accounts/individual', { ...ind, id_number: badId, password: secret('Invalid reg secret 4', 'password') })).status, 422);
  // A page registration.
  const pc = new Client(base);
  await pc.get('/register');
  const pageReg = { name: '页面注册', id_number: secret(newIdNumber(777_003), 'ID number'), phone: secret(newPhone(), 'phone'), password: secret('Page register secret 5', 'password') };
  await pc.post('/register', { ...pageReg, password2: pageReg.password });

  secret(DEMO_PASSWORD, 'demo password');
  secret(DEMO_TOTP_SECRET, 'TOTP secret');
  for (const d of [DEMO.citizen, DEMO.agent, DEMO.enterprise]) {
    secret(d.phone, 'phone');
    secret(d.id_number ?? d.uscc, 'ID number / credit code');
  }
  secret(DEMO.admin.phone, 'phone');

  // Log-ins through the API: right, wrong password, unknown account, with scopes.
  const t1 = await apiLogin(base, ind.phone, ind.password);
  secret(t1.token, 'bearer token');
  const t2 = await apiLogin(base, DEMO.citizen.id_number, DEMO_PASSWORD, { scopes: 'profile' });
  secret(t2.token, 'bearer token');
  assert.equal((await apiToken(base, { login: ind.phone, password: secret('Wrong password attempt 6', 'password') })).status, 401);
  assert.equal((await apiToken(base, { login: secret('13912345678', 'phone'), password: secret('Unknown account attempt 7', 'password') })).status, 401);
  assert.equal((await apiToken(base, { login: ent.uscc, password: secret('Wrong enterprise attempt 8', 'password') })).status, 401);
  const code = secret(await freshTotp(DEMO_TOTP_SECRET), 'TOTP code');
  const t3 = await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: code });
  secret(t3.token, 'bearer token');

  // Token use: profile, a refused scope, a password change attempt, admin API, revocation.
  assert.equal((await bearer(`${base}/api/v1/me`, t1.token)).status, 200);
  await bearer(`${base}/api/v1/me/tokens`, t2.token);
  await bearer(`${base}/api/v1/me/password`, t1.token, { method: 'POST', json: { current_password: ind.password, new_password: 'tiny' } });
  await bearer(`${base}/api/v1/admin/accounts`, t3.token);
  await bearer(`${base}/api/v1/me`, secret('Z'.repeat(43), 'bogus token'));
  assert.equal((await bearer(`${base}/api/v1/auth/token`, t1.token, { method: 'DELETE' })).status, 204);

  // Pages: log-in, wrong log-in, second factor, account page, log-out.
  const c = await pageLogin(base, DEMO.citizen.phone);
  secret(c.sid, 'session cookie');
  secret(c.jar.get('gh_pre'), 'pre-session cookie');
  secret(c.csrf, 'CSRF token');
  await c.get('/account');
  await c.post('/logout', { _csrf: c.csrf });
  const w = new Client(base);
  const f = await w.get('/login');
  secret(w.jar.get('gh_pre'), 'pre-session cookie');
  await w.post('/login', { login: DEMO.agent.phone, password: secret('Wrong page password 9', 'password'), _csrf: csrfOf(f.body) });
  const a = new Client(base);
  const af = await a.get('/login');
  const r = await a.post('/login', { login: DEMO.admin.phone, password: DEMO_PASSWORD, _csrf: csrfOf(af.body) });
  secret(a.sid, 'half-done session cookie');
  if (r.status === 303) {
    const tp = await a.get('/login/totp');
    await a.post('/login/totp', { totp: '000000', _csrf: csrfOf(tp.body) ?? '' });
    await a.post('/login/totp', { totp: await freshTotp(DEMO_TOTP_SECRET), _csrf: csrfOf(tp.body) ?? '' });
    secret(a.sid, 'session cookie');
    await a.get('/admin/events');
  }
  // Stopped here so its last lines are in; a failed stop is reported by its own test.
  stopError = await srv.stop().then(() => null, (e) => e);
});
after(async () => { await srv?.stop().catch(() => {}); });
let stopError = null;

describe('logs', () => {
  test('the server stopped cleanly', () => {
    assert.equal(stopError, null, stopError?.message?.slice(-3000));
  });

  test('the server logged requests (the check below is not vacuous)', () => {
    const lines = srv.logs();
    assert.ok(lines.length >= 30, `only ${lines.length} JSON log lines`);
    assert.ok(lines.some((l) => l.route === 'identity.api_token' && l.status === 401), 'no failed log-in logged');
    assert.ok(lines.some((l) => l.route === 'identity.login_post'), 'no page log-in logged');
  });

  test('no stderr line contains a password, token, cookie, full personal number or TOTP secret', () => {
    const found = [];
    for (const line of srv.stderr) {
      for (const [value, what] of secrets) {
        // A short code (a TOTP code: 6 digits) counts only as a value of its own, not inside a
        // longer run of letters and digits such as a request id, where it turns up by chance.
        const hit = /^\d{1,8}$/.test(value)
          ? new RegExp(`(?<![0-9A-Za-z])${value}(?![0-9A-Za-z])`).test(line)
          : line.includes(value);
        if (hit) found.push(`${what} "${value.slice(0, 4)}…" in: ${line.slice(0, 200)}`);
      }
      // Any 18-character ID number or credit code, or 11-digit phone, in the clear: a value of
      // its own, not a run of digits inside a longer word of letters and digits (a request id
      // is random hex, so "…f13500000012" turns up in it by chance about once in 80 runs).
      const id = /(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])/.exec(line);
      if (id) found.push(`an ID number-like value in: ${line.slice(0, 200)}`);
      const phone = /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/.exec(line);
      if (phone) found.push(`a phone-like value in: ${line.slice(0, 200)}`);
    }
    assert.equal(found.length, 0, found.join('\n'));
  });

  test('requests of logged-in users are logged with their account id, not their name or number', () => {
    const lines = srv.logs().filter((l) => l.user !== undefined);
    assert.ok(lines.length > 0, 'no log line carries a user id');
    for (const l of lines) assert.equal(typeof l.user, 'number', JSON.stringify(l));
  });

  test('`govhall init --demo` reports on stdout, not as log lines; its stderr holds no secret', () => {
    const out = srv.init.stdout.split('\n').filter(Boolean);
    assert.ok(out.length > 0, 'init printed nothing');
    for (const line of out) {
      let parsed = null;
      try { parsed = JSON.parse(line); } catch { /* a plain line */ }
      assert.ok(!(parsed && typeof parsed === 'object' && 'level' in parsed), `init stdout line looks like a log line: ${line}`);
    }
    for (const [value, what] of [[DEMO_PASSWORD, 'demo password'], [DEMO_TOTP_SECRET, 'TOTP secret']]) {
      assert.ok(!srv.init.stderr.includes(value), `init stderr (the log) contains the ${what}`);
    }
  });
});
