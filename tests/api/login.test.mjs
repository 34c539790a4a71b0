// The log-in throttle and the job queue's admission, black-box (docs/security.md, "Log-in
// throttle"; docs/architecture.md, "The job pool"):
// - wrong passwords slow down the address they come from, never the owner elsewhere;
// - wrong second-factor codes are counted per account whatever the address, a right password
//   does not reset that count, and the 10th refuses the factor, tells the owner (inbox) and
//   shows administrators a security event;
// - past 100 consecutive wrong passwords the password alone no longer logs in: the second
//   factor's code must come with it (TOTP, or a code the hall sends by SMS), and the owner
//   logs in with it;
// - a flood of log-ins from one address gets 503 with Retry-After at once, and a log-in from
//   another address is served meanwhile.
// Counters are driven by requests, never by waiting: no test here depends on the clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, apiToken, bearer, Client, csrfOf, DEMO, DEMO_PASSWORD, freshIp, freshTotp, htmlText,
  newIdNumber, newPhone, smsGateway, startServer, totp,
} from './helpers.mjs';

const SECRET = 'login-test-webhook-secret-0123456789';

let srv;
let base;
let sms;
let adminToken;
let seq = Math.floor(Math.random() * 1_000_000);

before(async () => {
  sms = await smsGateway();
  srv = await startServer({
    name: 'login',
    // The throttle's tests send many log-ins in parallel: the queue's admission (tested on a
    // server of its own below) must not refuse them on a loaded machine.
    extraArgs: ['--trust-proxy', 'true', '--notify-sms-url', sms.url, '--notify-webhook-secret', SECRET, '--job-max-wait', '600000'],
  });
  base = srv.url;
  adminToken = (await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => {
  await srv?.stop();
  await sms?.close();
});

async function newCitizen() {
  const p = { name: '李四', id_number: newIdNumber(++seq), phone: newPhone(), password: `Willow creek ${seq} lantern` };
  const r = await bearer(`${base}/api/v1/accounts/individual`, null, { method: 'POST', json: p });
  assert.equal(r.status, 202, r.body);
  p.verifyCode = await sms.code(p.phone); // registration sends the code that proves the number
  return p;
}

async function newTotpStaff() {
  const phone = newPhone();
  const r = await bearer(`${base}/api/v1/admin/accounts`, adminToken, {
    method: 'POST',
    json: { kind: 'staff', name: '周八', phone, department: DEMO.staffA.department, staff_roles: 'reviewer', totp: true },
  });
  assert.equal(r.status, 201, r.body);
  assert.ok(r.json.totp_secret, r.body);
  return { id: r.json.account.id, phone, password: r.json.initial_password, secret: r.json.totp_secret };
}

function wrongCode(secret) {
  return String((Number(totp(secret)) + 500_000) % 1_000_000).padStart(6, '0');
}

async function inboxKinds(token) {
  const r = await bearer(`${base}/api/v1/me/inbox?per_page=100`, token);
  assert.equal(r.status, 200, r.body);
  return (r.json.messages ?? r.json.items).map((m) => m.kind);
}

/** The security events of kind on account (newest first; .total counts them all). */
async function events(kind, account) {
  const r = await bearer(`${base}/api/v1/admin/events?kind=${encodeURIComponent(kind)}&account=${account}`, adminToken);
  assert.equal(r.status, 200, r.body);
  return Object.assign(r.json.events.filter((e) => e.kind === kind), { total: r.json.total });
}

describe('wrong passwords slow down their address, not the owner', () => {
  test('an attacker hammering one address cannot lock the owner out', async () => {
    const p = await newCitizen();
    const attacker = freshIp();
    const statuses = [];
    for (let i = 0; i < 30; i++) {
      const r = await apiToken(base, { login: p.phone, password: `guess ${i} of the password` }, { ip: attacker });
      statuses.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1, 'a block without Retry-After');
    }
    assert.deepEqual(statuses.slice(0, 6), [401, 401, 401, 401, 401, 401], 'the first six guesses are answered');
    assert.ok(statuses.slice(6).every((s) => s === 429), `then the address waits: ${statuses.slice(6)}`);
    // From the attacker's address even the right password waits (the pair is blocked)...
    const there = await apiToken(base, { login: p.phone, password: p.password }, { ip: attacker });
    assert.equal(there.status, 429);
    // ... and the ID number names the same account, so it shares the block.
    assert.equal((await apiToken(base, { login: p.id_number, password: p.password }, { ip: attacker })).status, 429);
    // The owner, elsewhere, logs in at once, through the API and the pages.
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 201);
    const c = new Client(base);
    const form = await c.get('/login');
    const page = await c.post('/login', { login: p.phone, password: p.password, _csrf: csrfOf(form.body) });
    assert.equal(page.status, 303, page.body.slice(0, 300));
    assert.equal(page.location, '/account');
  });

  test('an unknown name is throttled exactly like an account (no enumeration)', async () => {
    const ip = freshIp();
    const phone = newPhone();
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await apiToken(base, { login: phone, password: `guess ${i} password` }, { ip })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429]);
    // Other names from that address are counted apart (up to the address's own limit of 50).
    assert.equal((await apiToken(base, { login: newPhone(), password: 'another guess here' }, { ip })).status, 401);
  });
});

describe('second factor: counted per account, whatever the address', () => {
  test('ten wrong TOTP codes from ten addresses stop the guessing; the owner and administrators are told', async () => {
    const s = await newTotpStaff();
    // The owner's own token, from before (to read the inbox once codes are refused).
    const own = await apiLogin(base, s.phone, s.password, { totp: await freshTotp(s.secret) });
    // Someone who knows the password guesses codes, each from another address.
    for (let i = 0; i < 8; i++) {
      const r = await apiToken(base, { login: s.phone, password: s.password, totp: wrongCode(s.secret) });
      assert.equal(r.status, 401, `guess ${i + 1}: ${r.body}`);
    }
    // The right password alone never resets the count: not through the API...
    assert.equal((await apiToken(base, { login: s.phone, password: s.password })).status, 401);
    // ... nor through the pages, whose password step succeeds and asks for the code.
    const c = new Client(base);
    let form = await c.get('/login');
    let r = await c.post('/login', { login: s.phone, password: s.password, _csrf: csrfOf(form.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.match(r.location, /^\/login\/totp/);
    let page = await c.get('/login/totp');
    r = await c.post('/login/totp', { totp: wrongCode(s.secret), _csrf: csrfOf(page.body) }); // the 9th
    assert.ok(r.status >= 400 && r.status < 500 && r.status !== 429, `9th: ${r.status}`);
    r = await apiToken(base, { login: s.phone, password: s.password, totp: wrongCode(s.secret) }); // the 10th
    assert.equal(r.status, 401, r.body);
    // Now even the right code is refused, from any address, through the API and the pages.
    const locked = await apiToken(base, { login: s.phone, password: s.password, totp: await freshTotp(s.secret) });
    assert.equal(locked.status, 429, locked.body);
    assert.ok(Number(locked.headers.get('retry-after')) > 60, `Retry-After ${locked.headers.get('retry-after')}`);
    r = await c.post('/login/totp', { totp: await freshTotp(s.secret), _csrf: csrfOf(page.body) });
    assert.equal(r.status, 429);
    const c2 = new Client(base);
    form = await c2.get('/login');
    r = await c2.post('/login', { login: s.phone, password: s.password, _csrf: csrfOf(form.body) });
    assert.equal(r.status, 429, 'the password step says the codes are refused');
    // A wrong password stays an ordinary failure.
    assert.equal((await apiToken(base, { login: s.phone, password: 'certainly not it', totp: await freshTotp(s.secret) })).status, 401);
    // The owner is told in the inbox; administrators see the event (without any code in it).
    assert.ok((await inboxKinds(own.token)).includes('security_factor_locked'));
    const ev = await events('login.factor_locked', s.id);
    assert.equal(ev.length, 1, JSON.stringify(ev));
    assert.match(ev[0].detail, /"factor":"totp"/);
    assert.match(ev[0].detail, /"failures":10/);
    const fails = await events('login.factor_fail', s.id);
    assert.equal(fails.length, 10, 'every wrong code is a security event');
  });
});

describe('past 100 consecutive wrong passwords the code comes with the password', () => {
  /** 100 wrong passwords for login from 20 addresses, 5 each: no address is ever slowed. */
  async function hundredFailures(login) {
    await Promise.all(Array.from({ length: 20 }, async (_, k) => {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) {
        const r = await apiToken(base, { login, password: `wrong ${k}-${i} password` }, { ip });
        assert.equal(r.status, 401, r.body);
      }
    }));
  }

  test('a citizen without an authenticator app logs in with the code sent by SMS', async () => {
    const p = await newCitizen();
    const own = await apiLogin(base, p.phone, p.password);
    const id = own.account.id;
    // Codes go only to a verified number: the citizen proves it with the code of the registration.
    const v = await bearer(`${base}/api/v1/me/phone/verify`, own.token, { method: 'POST', json: { code: p.verifyCode } });
    assert.equal(v.status, 200, v.body);
    assert.equal(v.json.phone_verified, true);
    await hundredFailures(p.phone);
    // The password alone no longer logs in; a code goes to the registered phone.
    const need = await apiToken(base, { login: p.phone, password: p.password });
    assert.equal(need.status, 401, need.body);
    assert.equal(need.json.error.code, 'second_factor_required');
    const msg = await sms.next(p.phone);
    const code = /\b(\d{6})\b/.exec(msg.text)?.[1];
    assert.ok(code, msg.text);
    const other = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    // Any failure answers alike: a wrong password with the code, the password with a wrong code.
    const badPw = await apiToken(base, { login: p.phone, password: 'not the password at all', code });
    const badCode = await apiToken(base, { login: p.phone, password: p.password, code: other });
    assert.equal(badPw.status, 401);
    assert.equal(badCode.status, 401);
    assert.equal(badPw.json.error.code, badCode.json.error.code);
    assert.equal(badPw.json.error.message, badCode.json.error.message);
    // The owner, with password and code, from yet another address.
    const ok = await apiToken(base, { login: p.phone, password: p.password, code });
    assert.equal(ok.status, 201, ok.body);
    // A code works once; and the success ended the count, so the password alone works again.
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 201);
    // The owner was told when the account reached the ceiling; administrators see it.
    assert.ok((await inboxKinds(own.token)).includes('security_ceiling'));
    assert.equal((await events('login.ceiling', id)).length, 1);
    assert.equal((await events('login.fail', id)).total, 101, 'every wrong password is a security event');
  });

  test('pages: the form asks for the code; a staff member types the one of the authenticator app', async () => {
    const s = await newTotpStaff();
    await hundredFailures(s.phone);
    const c = new Client(base);
    const form = await c.get('/login');
    let r = await c.post('/login', { login: s.phone, password: s.password, _csrf: csrfOf(form.body) });
    assert.equal(r.status, 401, r.body.slice(0, 300));
    assert.match(r.body, /name="code"/);
    assert.ok(!c.sid, 'no session before the code');
    // A wrong password with the right code: the ordinary failure, still no session.
    r = await c.post('/login', { login: s.phone, password: 'not the password at all', code: await freshTotp(s.secret), _csrf: csrfOf(r.body) });
    assert.equal(r.status, 401);
    assert.match(htmlText(r.body), /账号、密码或验证码不正确/);
    assert.ok(!c.sid);
    // Password and code together: logged in at once (the code came with the password).
    r = await c.post('/login', { login: s.phone, password: s.password, code: await freshTotp(s.secret), _csrf: csrfOf(r.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/account');
    assert.equal((await c.get('/account')).status, 200);
  });

  test('an unknown name past the ceiling is asked for a code too (no enumeration)', async () => {
    const phone = newPhone();
    await hundredFailures(phone);
    const r = await apiToken(base, { login: phone, password: 'whatever password' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'second_factor_required');
    assert.equal((await apiToken(base, { login: phone, password: 'whatever password', code: '123456' })).status, 401);
  });
});

describe('the job queue: a flood from one address does not deny another', () => {
  let q;
  before(async () => {
    q = await startServer({ name: 'login-queue', extraArgs: ['--trust-proxy', 'true', '--job-threads', '1', '--job-queue-per-address', '4'] });
  });
  after(async () => { await q?.stop(); });

  test('the flood gets 503 with Retry-After at once; a log-in from another address is served', async () => {
    const flood = freshIp();
    const answers = [];
    let busy;
    const sawBusy = new Promise((resolve) => { busy = resolve; });
    const all = Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const r = await apiToken(q.url, { login: newPhone(), password: `flood ${i} password` }, { ip: flood });
      answers.push(r);
      if (r.status === 503) busy();
    }));
    // Once the flood's share of the queue is full (a 503 came back), another address logs in.
    await Promise.race([sawBusy, all]);
    const ok = await apiToken(q.url, { login: DEMO.citizen.phone, password: DEMO_PASSWORD });
    assert.equal(ok.status, 201, ok.body);
    await all;
    const refused = answers.filter((r) => r.status === 503);
    assert.ok(refused.length >= 1, `no 503 among ${answers.map((r) => r.status)}`);
    for (const r of refused) {
      assert.equal(r.json?.error?.code, 'busy', r.body);
      const ra = r.headers.get('retry-after');
      assert.match(ra ?? '', /^[1-9][0-9]*$/, `Retry-After ${ra}`);
    }
    assert.ok(answers.every((r) => [401, 503].includes(r.status)), answers.map((r) => r.status).join(','));
  });
});
