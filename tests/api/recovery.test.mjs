// Account recovery and verified phones, black-box (docs/security.md, "Account recovery"):
// - a one-time code by SMS proves the phone at registration and on a change of number; only a
//   verified number receives codes for log-in and recovery; a number nobody proved gives way
//   to the account that proves it;
// - forgot password: the same answer and the same queued SMS row whether or not the name
//   designates an account that may recover; codes are single use, expire (time is injected by
//   ageing the stored rows, never waited for), die after wrong tries, and are limited per
//   address, per account and per number; a reset ends every session and token, forgets the
//   log-in counters (the way out past the ceiling), tells the owner and logs no one in;
// - staff and administrators are reset by another administrator and renew their password and
//   authenticator app at the next log-in.
// The SMS gateway is the stand-in of helpers.mjs (smsGateway).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, apiToken, bearer, Client, csrfOf, DEMO, DEMO_PASSWORD, freshIp, freshTotp, htmlText, newIdNumber,
  newPhone, newUscc, smsGateway, sql, startServer, totp, waitFor,
} from './helpers.mjs';

const SECRET = 'recovery-test-webhook-secret-0123456789';

let srv;
let base;
let sms;
let adminToken;
let seq = Math.floor(Math.random() * 1_000_000);

before(async () => {
  sms = await smsGateway();
  srv = await startServer({
    name: 'recovery',
    extraArgs: ['--trust-proxy', 'true', '--notify-sms-url', sms.url, '--notify-webhook-secret', SECRET, '--job-max-wait', '600000'],
  });
  base = srv.url;
  adminToken = (await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => {
  await srv?.stop();
  await sms?.close();
});

const post = (p, json, { token = null, ip = freshIp() } = {}) =>
  bearer(`${base}${p}`, token, { method: 'POST', json, headers: { 'x-forwarded-for': ip } });

/** Registers a citizen through the API; the code the registration sent is p.code. */
async function register({ phone = newPhone(), kind = 'individual' } = {}) {
  seq++;
  const p = kind === 'individual'
    ? { name: '王五', id_number: newIdNumber(seq), phone, password: `Quiet harbour ${seq} compass` }
    : { name: `清河测试${seq}有限公司`, uscc: newUscc(seq), legal_rep: '赵六', phone, password: `Quiet harbour ${seq} compass` };
  const r = await post(`/api/v1/accounts/${kind}`, p);
  assert.equal(r.status, 202, r.body);
  p.login = phone;
  p.code = await sms.code(phone);
  return p;
}

/** A citizen whose number is verified, logged in through the API (p.token, p.id). */
async function verifiedCitizen(opts) {
  const p = await register(opts);
  const t = await apiLogin(base, p.phone, p.password);
  const v = await post('/api/v1/me/phone/verify', { code: p.code }, { token: t.token });
  assert.equal(v.status, 200, v.body);
  assert.equal(v.json.phone_verified, true);
  return Object.assign(p, { token: t.token, id: t.account.id });
}

async function inboxKinds(token) {
  const r = await bearer(`${base}/api/v1/me/inbox?per_page=100`, token);
  assert.equal(r.status, 200, r.body);
  return (r.json.messages ?? r.json.items).map((m) => m.kind);
}

async function events(kind, account) {
  const r = await bearer(`${base}/api/v1/admin/events?kind=${encodeURIComponent(kind)}&account=${account}`, adminToken);
  assert.equal(r.status, 200, r.body);
  return r.json.events.filter((e) => e.kind === kind);
}

/** The SMS rows queued after outbox row `after`: [{id, account_id, payload}], oldest first. */
async function smsRowsAfter(afterId) {
  const out = await sql(srv.db, `SELECT id, COALESCE(account_id, 0), payload FROM outbox WHERE channel = 'sms' AND id > ${afterId} ORDER BY id`);
  return out ? out.split('\n').map((l) => {
    const [id, account, ...rest] = l.split('|');
    return { id: Number(id), account: Number(account), payload: JSON.parse(rest.join('|')) };
  }) : [];
}
async function lastOutboxId() {
  return Number(await sql(srv.db, 'SELECT COALESCE(MAX(id), 0) FROM outbox'));
}

/** Moves the recovery codes of subject back in time by seconds (the clock, injected). */
async function ageCodes(subjectLike, seconds) {
  await sql(srv.db, `UPDATE one_time_codes SET created_at = created_at - ${seconds}, expires_at = expires_at - ${seconds} WHERE subject LIKE '${subjectLike}'`);
}

describe('verified phones', () => {
  test('registration sends a code; the number is verified only when it comes back, once', async () => {
    const p = await register();
    const t = await apiLogin(base, p.phone, p.password);
    let me = await bearer(`${base}/api/v1/me`, t.token);
    assert.equal(me.json.phone_verified, false);
    const wrong = String((Number(p.code) + 1) % 1_000_000).padStart(6, '0');
    let r = await post('/api/v1/me/phone/verify', { code: wrong }, { token: t.token });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.code);
    r = await post('/api/v1/me/phone/verify', { code: p.code }, { token: t.token });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.phone_verified, true);
    me = await bearer(`${base}/api/v1/me`, t.token);
    assert.equal(me.json.phone_verified, true);
    // Single use.
    r = await post('/api/v1/me/phone/verify', { code: p.code }, { token: t.token });
    assert.equal(r.status, 422);
    assert.equal((await events('phone.verify', t.account.id)).length, 1);
  });

  test('an enterprise verifies its number the same way', async () => {
    const p = await register({ kind: 'enterprise' });
    const t = await apiLogin(base, p.uscc, p.password);
    const r = await post('/api/v1/me/phone/verify', { code: p.code }, { token: t.token });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.kind, 'enterprise');
    assert.equal(r.json.phone_verified, true);
  });

  test('an unverified number receives no recovery code: the request is answered and queued alike', async () => {
    const p = await register();
    const t = await apiLogin(base, p.phone, p.password);
    const mark = await lastOutboxId();
    const r = await post('/api/v1/auth/recovery', { login: p.phone });
    assert.equal(r.status, 202, r.body);
    const rows = await smsRowsAfter(mark);
    assert.equal(rows.length, 1);
    // The code made for it serves nobody.
    const served = await sql(srv.db, `SELECT COUNT(*) FROM one_time_codes WHERE subject = 'acct:${t.account.id}' AND purpose = 'recovery' AND account_id IS NOT NULL`);
    assert.equal(served, '0');
    // The queued row is dropped at delivery: nothing reaches the gateway for it.
    await waitFor(async () => (await sql(srv.db, `SELECT sent_at IS NOT NULL FROM outbox WHERE id = ${rows[0].id}`)) === (srv.db.startsWith('postgres') ? 't' : '1'), { what: 'the row to be delivered' });
    assert.equal(await sql(srv.db, `SELECT last_error FROM outbox WHERE id = ${rows[0].id}`), 'no recipient');
    assert.equal(sms.count(p.phone), 0);
  });

  test('a change of number: current password, a code to the new number, told in the inbox', async () => {
    const p = await verifiedCitizen();
    const fresh = newPhone();
    let r = await post('/api/v1/me/phone', { phone: fresh }, { token: p.token });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.current_password);
    r = await post('/api/v1/me/phone', { phone: fresh, current_password: 'not the password at all' }, { token: p.token });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.current_password);
    r = await post('/api/v1/me/phone', { phone: fresh, current_password: p.password }, { token: p.token });
    assert.equal(r.status, 202, r.body);
    assert.equal(r.json.phone_masked, `${fresh.slice(0, 3)}****${fresh.slice(-4)}`);
    const code = await sms.code(fresh);
    // Until the code comes back the old number is the account's.
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 201);
    r = await post('/api/v1/me/phone/verify', { code }, { token: p.token });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.phone_masked, `${fresh.slice(0, 3)}****${fresh.slice(-4)}`);
    assert.equal(r.json.phone_verified, true);
    assert.equal((await apiToken(base, { login: fresh, password: p.password })).status, 201);
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 401);
    assert.ok((await inboxKinds(p.token)).includes('security_phone_changed'));
    assert.equal((await events('phone.change', p.id)).length, 1);
  });

  test('a number another account verified cannot be taken; one nobody proved gives way', async () => {
    const a = await verifiedCitizen();
    const b = await verifiedCitizen();
    let r = await post('/api/v1/me/phone', { phone: a.phone, current_password: b.password }, { token: b.token });
    assert.equal(r.status, 202, r.body);
    r = await post('/api/v1/me/phone/verify', { code: await sms.code(a.phone) }, { token: b.token });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.phone);
    // A registration with a number held unverified takes it; the former holder is told.
    const squatter = await register();
    const sq = await apiLogin(base, squatter.phone, squatter.password);
    const owner = await register({ phone: squatter.phone });
    const o = await apiLogin(base, owner.id_number, owner.password);
    r = await post('/api/v1/me/phone/verify', { code: owner.code }, { token: o.token });
    assert.equal(r.status, 200, r.body);
    assert.equal((await apiToken(base, { login: owner.phone, password: owner.password })).status, 201);
    const me = await bearer(`${base}/api/v1/me`, sq.token);
    assert.equal(me.json.phone_masked, null);
    assert.ok((await inboxKinds(sq.token)).includes('security_phone_released'));
    // The squatter's own code died with the claim: it proves nothing for them now.
    r = await post('/api/v1/me/phone/verify', { code: squatter.code }, { token: sq.token });
    assert.equal(r.status, 422, r.body);
  });
});

describe('forgot password', () => {
  test('end to end: the same answer and the same queued row for an unknown name; a reset logs no one in', async () => {
    const p = await verifiedCitizen();
    const page = new Client(base);
    await page.get('/login');
    let r = await page.post('/login', { login: p.phone, password: p.password });
    assert.equal(r.status, 303);
    assert.equal((await page.get('/account')).status, 200);

    const mark = await lastOutboxId();
    const known = await post('/api/v1/auth/recovery', { login: p.phone });
    const unknown = await post('/api/v1/auth/recovery', { login: newPhone() });
    const unknownId = await post('/api/v1/auth/recovery', { login: newIdNumber(++seq + 500_000) });
    for (const x of [known, unknown, unknownId]) assert.equal(x.status, 202, x.body);
    assert.deepEqual(unknown.json, known.json);
    assert.deepEqual(unknownId.json, known.json);
    // One SMS row each, alike: no account named, the same kind, number and text sealed, the
    // same lengths.
    const rows = await smsRowsAfter(mark);
    assert.equal(rows.length, 3);
    const shape = (x) => ({ account: x.account, keys: Object.keys(x.payload).sort(), kind: x.payload.kind,
      to: x.payload.sealed_to.length, text: x.payload.sealed_text.length });
    assert.deepEqual(shape(rows[1]), shape(rows[0]));
    assert.deepEqual(shape(rows[2]), shape(rows[0]));
    assert.equal(rows[0].account, 0);
    assert.equal(rows[0].payload.kind, 'otp_recovery');
    // (The whole number: four digits alone turn up by chance in the sealed hex or the time.)
    for (const x of rows) assert.ok(!JSON.stringify(x.payload).includes(p.phone), 'no plain number in the row');
    // The code row of each: only the known account's serves anyone.
    const served = await sql(srv.db, `SELECT COUNT(*) FROM one_time_codes WHERE purpose = 'recovery' AND account_id = ${p.id}`);
    assert.equal(served, '1');

    const code = await sms.code(p.phone);
    assert.match((await sms.all()).find((m) => m.phone === p.phone && m.text.includes(code)).text, /找回密码/);
    const fresh = `Lantern river ${seq} meadow`;
    r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code, password: fresh });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'reset');
    assert.ok(!r.json.token && !r.headers.get('set-cookie'), 'no automatic log-in');
    // Every session and token ended; the old password is gone, the new one works.
    assert.equal((await bearer(`${base}/api/v1/me`, p.token)).status, 401);
    const after = await page.get('/account');
    assert.equal(after.status, 303);
    assert.match(after.location, /^\/login/);
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 401);
    const t = await apiLogin(base, p.phone, fresh);
    assert.ok((await inboxKinds(t.token)).includes('security_password_reset'));
    const ev = await events('password.reset', p.id);
    assert.equal(ev.length, 1);
    assert.equal(ev[0].actor, p.id);
    assert.equal((await events('recovery.request', p.id)).length, 1);
    // Single use.
    r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code, password: `${fresh} again` });
    assert.equal(r.status, 422);
    assert.ok(r.json.error.fields.code);
  });

  test('by ID number, and an enterprise by its credit code', async () => {
    const p = await verifiedCitizen();
    let r = await post('/api/v1/auth/recovery', { login: p.id_number.toLowerCase() });
    assert.equal(r.status, 202, r.body);
    r = await post('/api/v1/auth/recovery/reset', { login: p.id_number, code: await sms.code(p.phone), password: `Copper kettle ${seq} dawn` });
    assert.equal(r.status, 200, r.body);
    const e = await register({ kind: 'enterprise' });
    const et = await apiLogin(base, e.uscc, e.password);
    assert.equal((await post('/api/v1/me/phone/verify', { code: e.code }, { token: et.token })).status, 200);
    r = await post('/api/v1/auth/recovery', { login: e.uscc });
    assert.equal(r.status, 202, r.body);
    r = await post('/api/v1/auth/recovery/reset', { login: e.uscc, code: await sms.code(e.phone), password: `Copper kettle ${seq} dusk` });
    assert.equal(r.status, 200, r.body);
    assert.equal((await apiToken(base, { login: e.uscc, password: `Copper kettle ${seq} dusk` })).status, 201);
  });

  test('codes expire after 10 minutes and die after 5 wrong tries; an unknown name fails alike', async () => {
    const p = await verifiedCitizen();
    assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 202);
    let code = await sms.code(p.phone);
    await ageCodes(`acct:${p.id}`, 601);
    let r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code, password: `Amber window ${seq} tide` });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.code);
    const expired = r.json;
    // A new code (the old one's minute is long over), five wrong tries, then the right one is dead too.
    assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 202);
    code = await sms.code(p.phone);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) {
      r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code: wrong, password: `Amber window ${seq} tide` });
      assert.equal(r.status, 422);
      assert.deepEqual(r.json, expired);
    }
    r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code, password: `Amber window ${seq} tide` });
    assert.equal(r.status, 422);
    // For a name without an account, the same answers.
    const nobody = newPhone();
    assert.equal((await post('/api/v1/auth/recovery', { login: nobody })).status, 202);
    r = await post('/api/v1/auth/recovery/reset', { login: nobody, code: '123456', password: `Amber window ${seq} tide` });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json, expired);
    assert.equal((await apiToken(base, { login: p.phone, password: p.password })).status, 201, 'nothing was reset');
  });

  test('the password rules hold, and a refused password keeps the code', async () => {
    const p = await verifiedCitizen();
    assert.equal((await post('/api/v1/auth/recovery', { login: p.id_number })).status, 202);
    const code = await sms.code(p.phone);
    let r = await post('/api/v1/auth/recovery/reset', { login: p.id_number, code, password: `My number ${p.phone}` });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.password);
    r = await post('/api/v1/auth/recovery/reset', { login: p.id_number, code, password: 'password1234' });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields.password);
    r = await post('/api/v1/auth/recovery/reset', { login: p.id_number, code, password: `Silver orchard ${seq} bell` });
    assert.equal(r.status, 200, r.body);
  });

  test('limits per account, per address and per number, alike for unknown names', async () => {
    // Per account (or name): one code a minute.
    const p = await verifiedCitizen();
    assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 202);
    await sms.code(p.phone);
    const again = await post('/api/v1/auth/recovery', { login: p.id_number });
    assert.equal(again.status, 429, again.body);
    assert.ok(Number(again.headers.get('retry-after')) > 0);
    const nobody = newPhone();
    assert.equal((await post('/api/v1/auth/recovery', { login: nobody })).status, 202);
    const nobodyAgain = await post('/api/v1/auth/recovery', { login: nobody });
    assert.equal(nobodyAgain.status, 429);
    assert.equal(nobodyAgain.json.error.code, again.json.error.code);
    // Per account: 5 an hour (each minute's wait injected by ageing the codes).
    for (let i = 0; i < 4; i++) {
      await ageCodes(`acct:${p.id}`, 61);
      assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 202);
      await sms.code(p.phone);
    }
    await ageCodes(`acct:${p.id}`, 61);
    assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 429);
    // Per number: 10 codes an hour to one number, whatever asked for them (here the codes of
    // the account are aged past the hour, which its number's count is not).
    await ageCodes(`acct:${p.id}`, 3600);
    for (let i = 0; i < 5; i++) {
      await ageCodes(`acct:${p.id}`, 61);
      const r = await post('/api/v1/auth/recovery', { login: p.phone });
      if (r.status === 429) break;
      await sms.code(p.phone);
    }
    await ageCodes(`acct:${p.id}`, 3600);
    const perNumber = await post('/api/v1/auth/recovery', { login: p.phone });
    assert.equal(perNumber.status, 429, perNumber.body);
    // Per address: 10 requests an hour, whatever the names.
    const ip = freshIp();
    for (let i = 0; i < 10; i++) assert.equal((await post('/api/v1/auth/recovery', { login: newPhone() }, { ip })).status, 202);
    assert.equal((await post('/api/v1/auth/recovery', { login: newPhone() }, { ip })).status, 429);
  });

  test('past the ceiling, recovery is the way out: the reset forgets the count', async () => {
    const p = await verifiedCitizen();
    await Promise.all(Array.from({ length: 20 }, async (_, k) => {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) {
        const r = await apiToken(base, { login: p.phone, password: `wrong ${k}-${i} password` }, { ip });
        assert.equal(r.status, 401, r.body);
      }
    }));
    const need = await apiToken(base, { login: p.phone, password: p.password });
    assert.equal(need.json.error.code, 'second_factor_required');
    await sms.code(p.phone); // the log-in code, which the owner does not use here
    assert.equal((await post('/api/v1/auth/recovery', { login: p.phone })).status, 202);
    const fresh = `Juniper lane ${seq} lantern`;
    const r = await post('/api/v1/auth/recovery/reset', { login: p.phone, code: await sms.code(p.phone), password: fresh });
    assert.equal(r.status, 200, r.body);
    assert.equal((await apiToken(base, { login: p.phone, password: fresh })).status, 201, 'the password alone logs in again');
  });

  test('staff and administrators get no code: their way is an administrator', async () => {
    const staff = await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD);
    const mark = await lastOutboxId();
    const r = await post('/api/v1/auth/recovery', { login: DEMO.staffA.phone });
    assert.equal(r.status, 202);
    assert.equal((await smsRowsAfter(mark)).length, 1);
    assert.equal(await sql(srv.db, `SELECT COUNT(*) FROM one_time_codes WHERE purpose = 'recovery' AND subject = 'acct:${staff.account.id}'`), '1');
    assert.equal(await sql(srv.db, `SELECT COUNT(*) FROM one_time_codes WHERE purpose = 'recovery' AND account_id = ${staff.account.id}`), '0');
  });

  // The kiosk's start page links to it as it links to /login and /register (identity's pages,
  // served as on the web); the flow works with the kiosk cookie set.
  test('the kiosk offers forgot password to a citizen not logged in', async () => {
    const p = await verifiedCitizen();
    const c = new Client(base, { lang: 'zh' });
    let r = await c.get('/kiosk');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie') ?? '', /kiosk=1/);
    assert.match(r.body, /href="\/password\/forgot"/);
    r = await c.get('/password/forgot');
    assert.equal(r.status, 200);
    r = await c.post('/password/forgot', { login: p.phone });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    const code = await sms.code(p.phone);
    const fresh = `Kiosk harbour ${seq} light`;
    r = await c.post('/password/reset', { login: p.phone, code, password: fresh, password2: fresh });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assert.ok(!c.sid, 'no session after a reset at the kiosk');
    assert.equal((await apiToken(base, { login: p.phone, password: fresh })).status, 201);
  });

  test('pages: the form, the same notice for anyone, the reset, CSRF', async () => {
    const p = await verifiedCitizen();
    for (const lang of ['zh', 'en']) {
      const c = new Client(base, { lang });
      let r = await c.get('/login');
      assert.match(r.body, /href="\/password\/forgot"/);
      r = await c.get('/password/forgot');
      assert.equal(r.status, 200);
      const noCsrf = await c.post('/password/forgot', { login: p.phone, _csrf: 'x' });
      assert.equal(noCsrf.status, 403);
      r = await c.post('/password/forgot', { login: newPhone(), _csrf: csrfOf(r.body) });
      assert.equal(r.status, 200, r.body.slice(0, 300));
      const notice = /<div class="notice-ok" role="status"><p>([^<]*)<\/p>/.exec(r.body)?.[1];
      assert.ok(notice);
      r = await c.post('/password/forgot', { login: 'not a name at all' });
      assert.equal(r.status, 422);
      if (lang === 'zh') {
        r = await c.post('/password/forgot', { login: p.phone });
        assert.equal(r.status, 200);
        assert.equal(/<div class="notice-ok" role="status"><p>([^<]*)<\/p>/.exec(r.body)?.[1], notice);
        assert.match(r.body, new RegExp(`name="login" value="${p.phone}"`));
        const code = await sms.code(p.phone);
        r = await c.post('/password/reset', { login: p.phone, code, password: `Harbour light ${seq} page`, password2: 'different' });
        assert.equal(r.status, 422);
        r = await c.post('/password/reset', { login: p.phone, code, password: `Harbour light ${seq} page`, password2: `Harbour light ${seq} page` });
        assert.equal(r.status, 200, r.body.slice(0, 300));
        assert.ok(!c.sid, 'no session after a reset');
        assert.match(htmlText(r.body), /新密码已经生效/);
      }
    }
  });

  test('without an SMS gateway recovery says so, for everyone alike', async () => {
    const bare = await startServer({ name: 'recovery-nosms', extraArgs: ['--trust-proxy', 'true'] });
    try {
      const a = await bearer(`${bare.url}/api/v1/auth/recovery`, null, { method: 'POST', json: { login: DEMO.citizen.phone } });
      const b = await bearer(`${bare.url}/api/v1/auth/recovery`, null, { method: 'POST', json: { login: newPhone() } });
      assert.equal(a.status, 503);
      assert.deepEqual(a.json, b.json);
      assert.match(a.json.error.detail, /0588-12345/);
    } finally {
      await bare.stop();
    }
  });
});

describe('an administrator resets staff and administrators', () => {
  async function newStaff({ withTotp = true } = {}) {
    const phone = newPhone();
    const r = await bearer(`${base}/api/v1/admin/accounts`, adminToken, {
      method: 'POST',
      json: { kind: 'staff', name: '孙七', phone, department: DEMO.staffA.department, staff_roles: 'reviewer', totp: withTotp },
    });
    assert.equal(r.status, 201, r.body);
    return { id: r.json.account.id, phone, password: r.json.initial_password, secret: r.json.totp_secret };
  }

  test('a staff member with an authenticator app: reset, then a new password and app at the next log-in', async () => {
    const s = await newStaff();
    const before = await apiLogin(base, s.phone, s.password, { totp: await freshTotp(s.secret) });
    let r = await bearer(`${base}/api/v1/admin/accounts/${s.id}/password-reset`, adminToken, { method: 'POST' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.renew, 'password_and_totp');
    assert.equal(r.json.account.totp_enabled, false);
    const temp = r.json.initial_password;
    assert.equal((await bearer(`${base}/api/v1/me`, before.token)).status, 401, 'tokens revoked');
    const ev = await events('password.admin_reset', s.id);
    assert.equal(ev.length, 1);
    assert.equal(ev[0].actor, (await bearer(`${base}/api/v1/me`, adminToken)).json.id, 'the administrator is named');
    // The API points to the web; the old password is gone.
    r = await apiToken(base, { login: s.phone, password: temp });
    assert.equal(r.status, 403, r.body);
    assert.equal(r.json.error.code, 'renewal_required');
    assert.equal((await apiToken(base, { login: s.phone, password: s.password, totp: await freshTotp(s.secret) })).status, 401);
    // Pages: the renewal first, nothing else.
    const c = new Client(base);
    await c.get('/login');
    r = await c.post('/login', { login: s.phone, password: temp });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/login/renew');
    assert.equal((await c.get('/account')).status, 303);
    assert.equal((await c.get('/login/totp')).location, '/login/renew');
    r = await c.get('/login/renew');
    assert.equal(r.status, 200);
    const secret = /<p class="secret-box"[^>]*><code>([A-Z2-7 ]+)<\/code>/.exec(r.body)?.[1]?.replace(/ /g, '');
    assert.ok(secret, 'the new secret is shown');
    assert.notEqual(secret, s.secret);
    const fresh = `Granite bridge ${seq} owl`;
    r = await c.post('/login/renew', { password: temp, password2: temp, code: totp(secret) });
    assert.equal(r.status, 422, 'not the temporary password');
    r = await c.post('/login/renew', { password: fresh, password2: fresh, code: String((Number(totp(secret)) + 500_000) % 1_000_000).padStart(6, '0') });
    assert.equal(r.status, 422);
    r = await c.post('/login/renew', { password: fresh, password2: fresh, code: await freshTotp(secret) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, '/account?done=renewed');
    assert.equal((await c.get('/account')).status, 200);
    // From now on: the new password with the new app.
    assert.equal((await apiToken(base, { login: s.phone, password: fresh })).status, 401);
    const after = await apiLogin(base, s.phone, fresh, { totp: await freshTotp(secret) });
    assert.ok((await inboxKinds(after.token)).includes('security_admin_reset'));
    assert.equal((await events('password.renew', s.id)).length, 1);
  });

  test('a staff member without one sets a new password only', async () => {
    const s = await newStaff({ withTotp: false });
    const r = await bearer(`${base}/api/v1/admin/accounts/${s.id}/password-reset`, adminToken, { method: 'POST' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.renew, 'password');
    const c = new Client(base);
    await c.get('/login');
    let x = await c.post('/login', { login: s.phone, password: r.json.initial_password });
    assert.equal(x.location, '/login/renew');
    x = await c.get('/login/renew');
    assert.doesNotMatch(x.body, /secret-box/);
    const fresh = `Willow gate ${seq} river`;
    x = await c.post('/login/renew', { password: fresh, password2: fresh });
    assert.equal(x.status, 303, x.body.slice(0, 300));
    assert.equal(x.location, '/account?done=renewed');
    assert.match(htmlText((await c.get(x.location)).body), /新密码已设置/);
    assert.equal((await apiToken(base, { login: s.phone, password: fresh })).status, 201);
  });

  test('who may be reset, and by whom', async () => {
    const me = await bearer(`${base}/api/v1/me`, adminToken);
    let r = await bearer(`${base}/api/v1/admin/accounts/${me.json.id}/password-reset`, adminToken, { method: 'POST' });
    assert.equal(r.status, 403, 'not oneself');
    const citizen = await bearer(`${base}/api/v1/admin/accounts?kind=individual&per_page=1`, adminToken);
    r = await bearer(`${base}/api/v1/admin/accounts/${citizen.json.accounts[0].id}/password-reset`, adminToken, { method: 'POST' });
    assert.equal(r.status, 409, 'citizens recover by SMS');
    r = await bearer(`${base}/api/v1/admin/accounts/99999999/password-reset`, adminToken, { method: 'POST' });
    assert.equal(r.status, 404);
    const staff = await apiLogin(base, DEMO.staffA.phone, DEMO_PASSWORD);
    r = await bearer(`${base}/api/v1/admin/accounts/${me.json.id}/password-reset`, staff.token, { method: 'POST' });
    assert.equal(r.status, 403);
  });

  test('the page: a form on the account, the temporary password shown once', async () => {
    const s = await newStaff();
    const c = new Client(base);
    let r = await c.get('/login');
    r = await c.post('/login', { login: DEMO.admin.phone, password: DEMO_PASSWORD });
    r = await c.get('/login/totp');
    r = await c.post('/login/totp', { totp: await freshTotp(DEMO.admin.totp) });
    assert.equal(r.status, 303);
    r = await c.get(`/admin/accounts/${s.id}`);
    assert.match(r.body, new RegExp(`action="/admin/accounts/${s.id}/reset"`));
    r = await c.post(`/admin/accounts/${s.id}/reset`, { _csrf: csrfOf(r.body, `/admin/accounts/${s.id}/reset`) });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const temp = /id="c-password" type="text" value="([^"]+)"/.exec(r.body)?.[1];
    assert.ok(temp);
    assert.equal((await apiToken(base, { login: s.phone, password: temp })).json.error.code, 'renewal_required');
  });
});
