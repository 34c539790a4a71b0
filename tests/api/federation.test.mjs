// federation.test.mjs: one national identity. A hub (role = hub) is driven by the maintained
// third-party OpenID Connect client (openid-client) through discovery, the code flow with PKCE,
// the token endpoint and userinfo; a hall logs people in with the national account through its
// own relying-party code against the hub process; a second hall is pointed at a counterfeit hub
// (here, in this file) whose ID tokens are wrong in one way each, and must refuse every one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { generateKeyPairSync, sign as edSign, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import {
  Client, DEMO, DEMO_PASSWORD, csrfOf, govhall, htmlText, newIdNumber, newPhone, pageLogin, sql, startServer,
} from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';
import { registerHall } from './federation-fixtures.mjs';

let hub;
let hall;
let fakeHall;
let fake;
let hubUrl;
let hallUrl;
let fakeHallUrl;
const testRedirect = 'http://127.0.0.1:9/oidc-test/callback';
const testLogout = 'http://127.0.0.1:9/oidc-test/bye';
let testSecret;

async function addClient(db, id, redirect, logout) {
  const args = ['federation', 'client', 'add', id, '--name', `${id} hall`, '--redirect', redirect, '--db', db];
  if (logout) args.push('--logout', logout);
  const r = await govhall(args);
  assert.equal(r.code, 0, r.stderr);
  const m = /client_secret: (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return m[1];
}

const b64url = (b) => Buffer.from(b).toString('base64url');

/** A counterfeit hub: discovery, keys, and a token endpoint whose ID token is wrong as the code says. */
async function counterfeitHub() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const good = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const next = generateKeyPairSync('ed25519');
  const jwk = (pair, kid) => ({ kty: 'OKP', crv: 'Ed25519', x: pair.publicKey.export({ format: 'jwk' }).x, kid, use: 'sig', alg: 'EdDSA' });
  // rotated: the hub publishes a new key (k2) and signs with it.
  const state = { nonce: null, clientId: null, rotated: false, jwksFetches: 0 };
  const jwt = (claims, { key = state.rotated ? next.privateKey : good.privateKey, alg = 'EdDSA' } = {}) => {
    const h = b64url(JSON.stringify({ alg, kid: state.rotated ? 'k2' : 'k1', typ: 'JWT' }));
    const p = b64url(JSON.stringify(claims));
    const sig = alg === 'none' ? '' : b64url(edSign(null, Buffer.from(`${h}.${p}`), key));
    return `${h}.${p}.${sig}`;
  };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const u = new URL(req.url, url);
    const json = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, { issuer: url, authorization_endpoint: `${url}/authorize`, token_endpoint: `${url}/token`,
        userinfo_endpoint: `${url}/userinfo`, jwks_uri: `${url}/jwks` });
    }
    if (u.pathname === '/jwks') {
      state.jwksFetches++;
      return json(200, { keys: state.rotated ? [jwk(next, 'k2'), jwk(good, 'k1')] : [jwk(good, 'k1')] });
    }
    if (u.pathname === '/userinfo') return json(200, { sub: 'person-1', name: '赵六', id_number: newIdNumber(777), assurance_level: 1 });
    if (u.pathname === '/token') {
      const f = new URLSearchParams(body);
      const now = Math.floor(Date.now() / 1000);
      const base = { iss: url, sub: 'person-1', aud: state.clientId, iat: now, exp: now + 300, nonce: state.nonce };
      const mode = f.get('code');
      const claims = {
        good: base,
        issuer: { ...base, iss: 'http://127.0.0.1:1/not-the-hub' },
        audience: { ...base, aud: 'another-hall' },
        expired: { ...base, iat: now - 7200, exp: now - 3600 },
        nonce: { ...base, nonce: 'not-this-log-in' },
      }[mode] ?? base;
      const opts = mode === 'signature' ? { key: other.privateKey } : mode === 'none' ? { alg: 'none' } : {};
      return json(200, { access_token: 'a'.repeat(43), token_type: 'Bearer', expires_in: 600, id_token: jwt(claims, opts) });
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

before(async () => {
  const hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  hub = await startServer({ name: 'fed_hub', extraArgs: ['--trust-proxy', 'true', '--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub'] });
  const hallPort = await freePort();
  hallUrl = `http://127.0.0.1:${hallPort}`;
  const hallSecret = await addClient(hub.db, 'qinghe', `${hallUrl}/login/national/callback`);
  testSecret = await addClient(hub.db, 'oidc-test', testRedirect, testLogout);
  hall = await startServer({ name: 'fed_hall', extraArgs: ['--trust-proxy', 'true', '--listen', `127.0.0.1:${hallPort}`, '--public-url', hallUrl,
    '--fed-hub-url', hubUrl, '--fed-client-id', 'qinghe', '--fed-client-secret', hallSecret] });
  fake = await counterfeitHub();
  fake.state.clientId = 'lanshan';
  const fakePort = await freePort();
  fakeHallUrl = `http://127.0.0.1:${fakePort}`;
  fakeHall = await startServer({ name: 'fed_fake', extraArgs: ['--trust-proxy', 'true', '--listen', `127.0.0.1:${fakePort}`, '--public-url', fakeHallUrl,
    '--fed-hub-url', fake.url, '--fed-client-id', 'lanshan', '--fed-client-secret', 'not-a-real-secret'] });
});

after(async () => {
  await Promise.allSettled([hub?.stop(), hall?.stop(), fakeHall?.stop(), fake?.close()]);
});

async function discover() {
  return oidc.discovery(new URL(hubUrl), 'oidc-test', testSecret, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** Runs the hub's authorization endpoint as the browser c; resolves the redirect's URL. */
async function authorize(c, config, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: testRedirect, scope: 'openid profile', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const r = await c.get(url.pathname + url.search);
  return { r, verifier, state, nonce, location: r.location ? new URL(r.location, hubUrl) : null };
}

describe('the hub as an OpenID Connect provider, driven by openid-client', () => {
  test('discovery, code with PKCE, token, ID token claims, userinfo by GET and POST', async () => {
    const config = await discover();
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, hubUrl);
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['EdDSA']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    const keys = await (await fetch(meta.jwks_uri)).json();
    assert.equal(keys.keys[0].kty, 'OKP');
    assert.equal(keys.keys[0].crv, 'Ed25519');
    assert.equal(keys.keys[0].d, undefined, 'the key set publishes no private part');

    const c = await pageLogin(hubUrl, DEMO.citizen.phone);
    const a = await authorize(c, config);
    assert.equal(a.r.status, 303, a.r.body.slice(0, 300));
    assert.equal(a.location.origin + a.location.pathname, testRedirect);
    assert.equal(a.location.searchParams.get('iss'), hubUrl);
    const tokens = await oidc.authorizationCodeGrant(config, a.location, {
      pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, hubUrl);
    assert.equal(claims.aud, 'oidc-test');
    assert.equal(claims.nonce, a.nonce);
    assert.equal(claims.assurance_level, 1);
    assert.equal(claims.acr, 'urn:govhall:assurance:1');
    assert.ok(claims.exp > claims.iat && claims.auth_time <= claims.iat, JSON.stringify(claims));
    const [h] = tokens.id_token.split('.');
    assert.equal(JSON.parse(Buffer.from(h, 'base64url')).alg, 'EdDSA');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);
    assert.equal(info.name, DEMO.citizen.name);
    assert.equal(info.id_number, DEMO.citizen.id_number);
    const post = await fetch(meta.userinfo_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: tokens.access_token }) });
    assert.equal(post.status, 200);
    assert.equal((await post.json()).sub, claims.sub);

    // The same code again is refused, and the token it gave is revoked (RFC 6749 §4.1.2).
    await assert.rejects(oidc.authorizationCodeGrant(config, a.location, {
      pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce,
    }), (e) => e.error === 'invalid_grant');
    const revoked = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(revoked.status, 401);
  });

  test('a wrong PKCE verifier, a wrong secret and an unknown code are refused', async () => {
    const config = await discover();
    const c = await pageLogin(hubUrl, DEMO.citizen.phone);
    const a = await authorize(c, config);
    await assert.rejects(oidc.authorizationCodeGrant(config, a.location, {
      pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: a.state, expectedNonce: a.nonce,
    }), (e) => e.error === 'invalid_grant');
    const wrong = await oidc.discovery(new URL(hubUrl), 'oidc-test', 'not-the-secret', undefined, { execute: [oidc.allowInsecureRequests] });
    const b = await authorize(c, config);
    await assert.rejects(oidc.authorizationCodeGrant(wrong, b.location, {
      pkceCodeVerifier: b.verifier, expectedState: b.state, expectedNonce: b.nonce,
    }), (e) => e.status === 401 && JSON.stringify(e.cause).includes('invalid_client'));
    const c2 = await authorize(c, config);
    c2.location.searchParams.set('code', oidc.randomState());
    await assert.rejects(oidc.authorizationCodeGrant(config, c2.location, {
      pkceCodeVerifier: c2.verifier, expectedState: c2.state, expectedNonce: c2.nonce,
    }), (e) => e.error === 'invalid_grant');
  });

  test('errors go back to the client by redirect; an unknown client or redirect URI is told here', async () => {
    const config = await discover();
    const anon = new Client(hubUrl);
    const none = await authorize(anon, config, { prompt: 'none' });
    assert.equal(none.r.status, 303);
    assert.equal(none.location.searchParams.get('error'), 'login_required');
    assert.equal(none.location.searchParams.get('state'), none.state);
    const plain = await authorize(anon, config, { code_challenge_method: 'plain' });
    assert.equal(plain.location.searchParams.get('error'), 'invalid_request');
    const noOpenid = await authorize(anon, config, { scope: 'profile' });
    assert.equal(noOpenid.location.searchParams.get('error'), 'invalid_scope');
    const token = await authorize(anon, config, { response_type: 'token' });
    assert.equal(token.location.searchParams.get('error'), 'unsupported_response_type');
    // Anonymous without prompt=none: to the hub's log-in page, back here afterwards.
    const login = await authorize(anon, config);
    assert.equal(login.r.status, 303);
    assert.equal(login.location.pathname, '/login');
    assert.match(login.location.searchParams.get('next'), /^\/oidc\/authorize\?/);

    const elsewhere = await authorize(anon, config, { redirect_uri: 'http://127.0.0.1:9/oidc-test/callback/x' });
    assert.equal(elsewhere.r.status, 400);
    assert.equal(elsewhere.r.location, null);
    const stranger = await anon.get('/oidc/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=' +
      encodeURIComponent(testRedirect));
    assert.equal(stranger.status, 400);
    assert.equal(stranger.location, null);
  });

  test('only individuals log in to halls with the national account: staff are told so', async () => {
    const config = await discover();
    const staff = await pageLogin(hubUrl, DEMO.staffA.phone);
    const a = await authorize(staff, config);
    assert.equal(a.r.status, 403, a.r.body.slice(0, 300));
    assert.equal(a.location, null);
    const none = await authorize(staff, config, { prompt: 'none' });
    assert.equal(none.location.searchParams.get('error'), 'login_required');
  });

  test('prompt=login and max_age ask for a fresh log-in; the log-in then yields a code', async () => {
    const config = await discover();
    const c = await pageLogin(hubUrl, DEMO.citizen.phone);
    const fresh = await authorize(c, config, { prompt: 'login' });
    assert.equal(fresh.location.pathname, '/login');
    assert.equal(fresh.location.searchParams.get('again'), '1');
    const next = fresh.location.searchParams.get('next');
    const form = await c.get(fresh.location.pathname + fresh.location.search);
    assert.equal(form.status, 200, 'the log-in form is shown although a session exists');
    const r = await c.post('/login', { login: DEMO.citizen.phone, password: DEMO_PASSWORD, next, _csrf: csrfOf(form.body) });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(r.location, next);
    // Straight from the hub's form, the way on is a new navigation (Refresh and a link): the
    // form's page allows no redirect of its answer to another site (form-action 'self').
    const back = await c.get(r.location);
    assert.equal(back.status, 200, back.body.slice(0, 300));
    const refresh = /^0; url=(.+)$/.exec(back.headers.get('refresh') ?? '');
    assert.ok(refresh, `Refresh: ${back.headers.get('refresh')}`);
    const loc = new URL(refresh[1]);
    const link = /<a class="button" href="([^"]+)"/.exec(back.body);
    assert.equal(htmlText(link?.[1] ?? ''), refresh[1], 'the page links to the same address');
    assert.equal(loc.origin + loc.pathname, testRedirect);
    assert.ok(loc.searchParams.get('code'));

    // A session that began long ago does not satisfy max_age; a recent one does.
    const old = await authorize(c, config, { max_age: '3600' });
    assert.ok(old.location.searchParams.get('code'), 'a recent log-in satisfies max_age=3600');
    await sql(hub.db, 'UPDATE sessions SET created_at = created_at - 7200');
    const stale = await authorize(c, config, { max_age: '3600' });
    assert.equal(stale.location.pathname, '/login');
    const staleNone = await authorize(c, config, { max_age: '3600', prompt: 'none' });
    assert.equal(staleNone.location.searchParams.get('error'), 'login_required');
  });

  test('logout ends the hub session with a valid id_token_hint and goes to a registered address', async () => {
    const config = await discover();
    const c = await pageLogin(hubUrl, DEMO.citizen.phone);
    const a = await authorize(c, config);
    const tokens = await oidc.authorizationCodeGrant(config, a.location, {
      pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce,
    });
    const noHint = await c.get('/oidc/logout');
    assert.equal(noHint.status, 400);
    const elsewhere = await c.get(`/oidc/logout?id_token_hint=${tokens.id_token}&post_logout_redirect_uri=${encodeURIComponent('http://evil.example/')}`);
    assert.equal(elsewhere.status, 400);
    assert.equal((await c.get('/account')).status, 200, 'refused log-outs leave the session');
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: testLogout, state: 'bye-1' });
    const out = await c.get(url.pathname + url.search);
    assert.equal(out.status, 303);
    assert.equal(out.location, `${testLogout}?state=bye-1`);
    const after = await c.get('/account');
    assert.equal(after.status, 303, 'the hub session ended');
  });

  test('key rotate publishes a new key beside the old one; tokens signed before still verify against the set', async () => {
    const config = await discover();
    const c = await pageLogin(hubUrl, DEMO.citizen.phone);
    const a = await authorize(c, config);
    const tokens = await oidc.authorizationCodeGrant(config, a.location, {
      pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce,
    });
    const kid = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).kid;
    const r = await govhall(['federation', 'key', 'rotate', '--db', hub.db]);
    assert.equal(r.code, 0, r.stderr);
    const fresh = /new signing key (\S+):/.exec(r.stdout)?.[1];
    assert.ok(fresh && fresh !== kid, r.stdout);
    const keys = (await (await fetch(`${hubUrl}/oidc/jwks`)).json()).keys.map((k) => k.kid);
    assert.deepEqual(keys.slice(0, 2), [fresh, kid]);
  });

  test('a hall answers 404 on the provider routes, the hub on discovery only when it is one', async () => {
    assert.equal((await fetch(`${hallUrl}/.well-known/openid-configuration`)).status, 404);
    assert.equal((await fetch(`${hallUrl}/oidc/jwks`)).status, 404);
    assert.equal((await fetch(`${hubUrl}/login/national`, { redirect: 'manual' })).status, 404);
  });
});

/** Logs in at the hall with the national account: the hall's page, the hub (browser hubClient), back. */
async function nationalLogin(hubClient, { lang, next } = {}) {
  const c = new Client(hallUrl, { lang });
  const login = await c.get('/login');
  assert.match(login.body, /href="\/login\/national"/, 'the log-in page offers the national account');
  const start = await c.get(next === undefined ? '/login/national' : `/login/national?next=${encodeURIComponent(next)}`);
  assert.equal(start.status, 303, start.body.slice(0, 300));
  const to = new URL(start.location);
  assert.equal(to.origin, hubUrl);
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  const code = await hubClient.get(to.pathname + to.search);
  assert.equal(code.status, 303, code.body.slice(0, 300));
  const back = new URL(code.location);
  assert.equal(back.origin, hallUrl);
  return { c, back, to };
}

describe('a hall logs people in with the national account', () => {
  test('the demo citizen is linked to the hall\'s account with the same ID number; local log-in keeps working', async () => {
    const accountsBefore = await sql(hall.db, "SELECT count(*) FROM accounts WHERE kind = 'individual'");
    const hubClient = await pageLogin(hubUrl, DEMO.citizen.phone);
    const { c, back } = await nationalLogin(hubClient);
    const done = await c.get(back.pathname + back.search);
    assert.equal(done.status, 303, done.body.slice(0, 400));
    assert.equal(done.location, '/account');
    const account = await c.get('/account');
    assert.equal(account.status, 200);
    assert.match(account.body, new RegExp(DEMO.citizen.name));
    assert.equal(await sql(hall.db, "SELECT count(*) FROM accounts WHERE kind = 'individual'"), accountsBefore);
    assert.equal(await sql(hall.db, 'SELECT count(*) FROM fed_links'), '1');
    // The same answer again: the state was used.
    const again = await c.get(back.pathname + back.search);
    assert.equal(again.status, 400);
    // The local account still logs in with its password.
    const local = await pageLogin(hallUrl, DEMO.citizen.phone);
    assert.equal(local.landing, '/account');
  });

  test('the log-in page\'s national link keeps the page the person was going to', async () => {
    const c = new Client(hallUrl);
    const page = await c.get(`/login?next=${encodeURIComponent('/services?q=1&x=2')}`);
    const href = /href="(\/login\/national[^"]*)"/.exec(page.body)?.[1];
    assert.equal(htmlText(href ?? ''), `/login/national?next=${encodeURIComponent('/services?q=1&x=2')}`);
    const start = await c.get(htmlText(href));
    assert.equal(start.status, 303);
    // The local log-in form keeps working beside it.
    assert.match(page.body, /<form[^>]*action="\/login"/);
  });

  test('a person the hall does not know gets a local account, found again next time', async () => {
    const person = { name: '王五', id_number: newIdNumber(4242), phone: newPhone(), password: 'Lanshan-hub-2026!' };
    const reg = await fetch(`${hubUrl}/api/v1/accounts/individual`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(person) });
    assert.equal(reg.status, 202, await reg.text());
    const hubClient = await pageLogin(hubUrl, person.phone, person.password);
    // The first time back to a page of the hall; the second asks for another site: /account.
    for (const [next, want] of [['/services?q=1', '/services?q=1'], ['//evil.example/x', '/account']]) {
      const { c, back } = await nationalLogin(hubClient, { next });
      const done = await c.get(back.pathname + back.search);
      assert.equal(done.status, 303, done.body.slice(0, 400));
      assert.equal(done.location, want);
      assert.match((await c.get('/account')).body, /王五/);
    }
    const n = await sql(hall.db, "SELECT count(*) FROM accounts WHERE name = '王五'");
    assert.equal(n, '1', 'one local account, linked on the second log-in');
  });

  test('a replayed code, a foreign state and a hub error are refused with clear words', async () => {
    const hubClient = await pageLogin(hubUrl, DEMO.citizen.phone);
    const first = await nationalLogin(hubClient, { lang: 'en' });
    assert.equal((await first.c.get(first.back.pathname + first.back.search)).status, 303);
    // A new log-in at the hall, answered with the first (used) code: the hub refuses it.
    const second = await first.c.get('/login/national');
    const state2 = new URL(second.location).searchParams.get('state');
    const replay = await first.c.get(`/login/national/callback?code=${first.back.searchParams.get('code')}&state=${state2}`);
    assert.equal(replay.status, 401, replay.body.slice(0, 300));
    assert.match(replay.body, /refused this log-in/);
    // The answer to someone else's log-in, in a browser that did not start it.
    const other = await nationalLogin(hubClient, { lang: 'en' });
    const stranger = new Client(hallUrl, { lang: 'en' });
    const foreign = await stranger.get(other.back.pathname + other.back.search);
    assert.equal(foreign.status, 400);
    assert.match(foreign.body, /not started in this browser/);
    // The hub's refusal (prompt=none for nobody) is shown, not followed.
    const c = new Client(hallUrl, { lang: 'en' });
    const s = await c.get('/login/national');
    const st = new URL(s.location).searchParams.get('state');
    const refused = await c.get(`/login/national/callback?error=login_required&state=${st}`);
    assert.equal(refused.status, 401);
    assert.match(refused.body, /login_required/);
  });
});

test('one address starts at most 60 national log-ins an hour (each writes a row and calls the hub)', async () => {
  const c = new Client(fakeHallUrl, { lang: 'en' });
  const answers = [];
  for (let i = 0; i < 61; i++) answers.push((await c.get('/login/national')).status);
  assert.deepEqual(answers.slice(0, 60), Array(60).fill(303));
  assert.equal(answers[60], 429);
  // Another address is not affected.
  assert.equal((await new Client(fakeHallUrl).get('/login/national')).status, 303);
});

describe('a hall refuses ID tokens that are wrong in any way', () => {
  async function attempt(mode) {
    const c = new Client(fakeHallUrl, { lang: 'en' });
    const start = await c.get('/login/national');
    assert.equal(start.status, 303, start.body.slice(0, 300));
    const to = new URL(start.location);
    assert.equal(to.origin, fake.url);
    fake.state.nonce = to.searchParams.get('nonce');
    const r = await c.get(`/login/national/callback?code=${mode}&state=${to.searchParams.get('state')}`);
    return { r, c };
  }
  for (const [mode, words] of [
    ['issuer', /not issued by the national platform/], ['audience', /issued for another site/],
    ['expired', /expired/], ['nonce', /does not belong to this log-in/], ['signature', /signature does not verify/],
    ['none', /signature does not verify/],
  ]) {
    test(`${mode}: refused with a clear error, nobody logged in`, async () => {
      const { r, c } = await attempt(mode);
      assert.equal(r.status, 401, r.body.slice(0, 300));
      assert.match(r.body, words);
      assert.equal(c.sid, undefined);
      assert.equal((await c.get('/account')).status, 303);
    });
  }
  test('the same counterfeit hub with a right token logs in (the checks are what refuse)', async () => {
    const { r, c } = await attempt('good');
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.match((await c.get('/account')).body, /赵六/);
  });
  test('a key the hall has not seen makes it fetch the keys again, once', async () => {
    assert.equal((await attempt('good')).r.status, 303);
    const before = fake.state.jwksFetches;
    fake.state.rotated = true;
    const { r } = await attempt('good');
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.equal(fake.state.jwksFetches, before + 1, 'the keys were fetched again for the new key id');
    assert.equal((await attempt('good')).r.status, 303);
    assert.equal(fake.state.jwksFetches, before + 1, 'and kept afterwards');
    fake.state.rotated = false;
  });
});

describe('the hub administrator decides on registrations on a page', () => {
  test('pending registrations are listed; approve and refuse need an administrator and the form\'s token; the directory follows', async () => {
    await addClient(hub.db, 'pagehall', 'http://127.0.0.1:9/pagehall/callback');
    await registerHall(hubUrl, 'pagehall', { name: '页面市', region: '页面' });
    const admin = await pageLogin(hubUrl, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO.admin.totp });
    let page = await admin.get('/admin/federation/halls');
    assert.equal(page.status, 200);
    const row = (html, id) => new RegExp(`<tr data-hall="${id}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
    assert.match(row(page.body, 'pagehall'), /data-state="pending"/);
    assert.match(row(page.body, 'pagehall'), /页面市/);
    assert.match(row(page.body, 'pagehall'), /pagehall-1/, 'the key id is shown');
    const directory = async () => JSON.parse(Buffer.from((await (await fetch(`${hubUrl}/.well-known/govhall-directory`)).text()).split('.')[1], 'base64url')).halls.map((h) => h.id);
    assert.ok(!(await directory()).includes('pagehall'));

    const action = '/admin/federation/halls/pagehall/decision';
    // Without the form's token; as a citizen; on a hall (not the hub): refused, nothing changes.
    let r = await admin.post(action, { decision: 'approve', _csrf: 'forged' });
    assert.equal(r.status, 403);
    const citizen = await pageLogin(hubUrl, DEMO.citizen.phone);
    r = await citizen.post(action, { decision: 'approve' });
    assert.equal(r.status, 403);
    assert.equal((await citizen.get('/admin/federation/halls')).status, 403);
    const hallAdmin = await pageLogin(hallUrl, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO.admin.totp });
    assert.equal((await hallAdmin.get('/admin/federation/halls')).status, 404);
    r = await admin.post(action, { decision: 'maybe' });
    assert.equal(r.status, 400);
    assert.match(htmlText(r.body), /批准或拒绝|approve or refuse/);
    assert.ok(!(await directory()).includes('pagehall'));

    r = await admin.post(action, { decision: 'approve' });
    assert.equal(r.status, 303);
    assert.equal(r.location, '/admin/federation/halls?done=approved');
    page = await admin.get(r.location);
    assert.match(row(page.body, 'pagehall'), /data-state="approved"/);
    assert.match(page.body, /role="status"/);
    assert.ok((await directory()).includes('pagehall'));
    r = await admin.post(action, { decision: 'approve' });
    assert.equal(r.status, 409, 'a decision taken already is not taken again');
    const listed = await govhall(['federation', 'hall', 'list', '--db', hub.db]);
    assert.match(listed.stdout, /^pagehall\tapproved\t/m, 'the page and the command record the same decision');

    r = await admin.post(action, { decision: 'refuse' });
    assert.equal(r.status, 303);
    assert.ok(!(await directory()).includes('pagehall'));
    const audit = () => govhall(['audit', '--db', hub.db]);
    let a = await audit();
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    // Each covered column of the hall's row altered behind the hub's back is found; restored, not.
    const where = "hall_id = 'pagehall'";
    for (const [col, changed] of [['name', "'冒名市'"], ['region', "'别处'"], ['base_url', "'http://evil.example'"],
      ['keys', `'[{"kid":"x","x":"${'A'.repeat(43)}"}]'`], ['state', "'approved'"], ['decided_at', 'decided_at + 1']]) {
      const was = (await sql(hub.db, `SELECT ${col} FROM fed_halls WHERE ${where}`)).trim();
      await sql(hub.db, `UPDATE fed_halls SET ${col} = ${changed} WHERE ${where}`);
      a = await audit();
      assert.notEqual(a.code, 0, `fed_halls.${col} altered is found`);
      assert.match(`${a.stdout}${a.stderr}`, /fed_halls/);
      await sql(hub.db, `UPDATE fed_halls SET ${col} = ${/^\d+$/.test(was) ? was : `'${was.replace(/'/g, "''")}'`} WHERE ${where}`);
      a = await audit();
      assert.equal(a.code, 0, `fed_halls.${col} restored: ${a.stdout}\n${a.stderr}`);
    }
  });
});
