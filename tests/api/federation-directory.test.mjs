// federation-directory.test.mjs: the hub's signed directory of halls. A hall joins by a
// registration signed with HTTP Message Signatures (RFC 9421; signed here by this file's own
// signer, so the hub's checks are tried against a second implementation), the hub's
// administrator approves it, the hub publishes the approved halls as a signed JWT and every hall
// refreshes its copy; a hall pointed at a counterfeit hub refuses expired, unsigned, wrongly
// signed and foreign directories and keeps its last good copy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign as edSign, verify as edVerify } from 'node:crypto';
import { get, getJson, govhall, startServer, waitFor } from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';
import { b64url, now, signedHeaders } from './federation-fixtures.mjs';

let hub;
let hall;
let hubUrl;
let hallUrl;
let fake;
let fakeHall;


async function addClient(db, id, redirect) {
  const r = await govhall(['federation', 'client', 'add', id, '--name', `${id} hall`, '--redirect', redirect, '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  return /client_secret: (\S+)/.exec(r.stdout)[1];
}

/** Checks a compact JWS with EdDSA against a JWKS; returns the claims. */
function verifyJwt(token, jwks) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  assert.equal(header.alg, 'EdDSA');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `key ${header.kid} is published`);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  assert.ok(edVerify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'the directory verifies');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

async function hubDirectory() {
  const r = await get(`${hubUrl}/.well-known/govhall-directory`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/jwt');
  const jwks = (await getJson(`${hubUrl}/oidc/jwks`)).json;
  return verifyJwt(r.body, jwks);
}

before(async () => {
  const hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  hub = await startServer({ name: 'fdir_hub', demo: false, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub'] });
  const hallPort = await freePort();
  hallUrl = `http://127.0.0.1:${hallPort}`;
  const secret = await addClient(hub.db, 'qinghe', `${hallUrl}/login/national/callback`);
  await addClient(hub.db, 'lanshan', 'http://127.0.0.1:9/login/national/callback');
  hall = await startServer({ name: 'fdir_hall', demo: false, extraArgs: ['--listen', `127.0.0.1:${hallPort}`, '--public-url', hallUrl,
    '--fed-hub-url', hubUrl, '--fed-client-id', 'qinghe', '--fed-client-secret', secret, '--fed-directory-period', '1'] });
});

after(async () => {
  await Promise.allSettled([hub?.stop(), hall?.stop(), fakeHall?.stop(), fake?.close()]);
});

describe('registration and the signed directory', () => {
  test('a hall joins by a signed registration the administrator approves; the directory is signed, listed and refreshed', async () => {
    // Before anyone joins: an empty directory, signed, valid for a day, which the hall holds.
    const empty = await hubDirectory();
    assert.equal(empty.iss, hubUrl);
    assert.equal(empty.exp - empty.iat, 86400);
    assert.deepEqual(empty.halls, []);
    await waitFor(async () => (await get(`${hallUrl}/federation/directory`)).status === 200, { what: 'the hall to hold a directory' });

    const join = ['federation', 'join', '--name', '清河市', '--region', '清河', '--db', hall.db, '--fed-hub-url', hubUrl,
      '--fed-client-id', 'qinghe', '--public-url', hallUrl];
    let r = await govhall(join);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /waiting for the hub's administrator/);
    const kid = /key (\S+)\)/.exec(r.stdout)[1];

    // Waiting: listed at the hub, not in the directory.
    r = await govhall(['federation', 'hall', 'list', '--db', hub.db]);
    assert.match(r.stdout, /^qinghe\tpending\t清河\t清河市\t/m);
    assert.deepEqual((await hubDirectory()).halls, []);

    r = await govhall(['federation', 'hall', 'approve', 'qinghe', '--db', hub.db]);
    assert.equal(r.code, 0, r.stderr);
    r = await govhall(['federation', 'hall', 'approve', 'qinghe', '--db', hub.db]);
    assert.equal(r.code, 1, 'a decision taken already is not taken again');
    assert.match(r.stderr, /no registration of qinghe waits/);
    r = await govhall(['federation', 'hall', 'approve', 'nobody', '--db', hub.db]);
    assert.equal(r.code, 1);

    const d = await hubDirectory();
    assert.equal(d.halls.length, 1);
    assert.deepEqual({ ...d.halls[0], keys: undefined, log: undefined, keys_document: undefined },
      { id: 'qinghe', name: '清河市', region: '清河', base_url: hallUrl, keys: undefined, log: undefined, keys_document: undefined });
    // The hall's transparency log and keys document, for the other halls' witnesses and certificates.
    assert.equal(d.halls[0].log.origin, d.halls[0].keys_document.log.origin);
    assert.equal(d.halls[0].keys[0].kid, kid);
    assert.equal(Buffer.from(d.halls[0].keys[0].x, 'base64url').length, 32);

    // The hall's duty fetches it again (period 1 s) and now holds itself in it.
    const seen = await waitFor(async () => {
      const x = await getJson(`${hallUrl}/federation/directory`);
      return x.status === 200 && x.json.halls.some((h) => h.id === 'qinghe') ? x.json : null;
    }, { what: 'the hall to refresh its directory' });
    assert.equal(seen.hub, hubUrl);
    assert.equal(seen.hall, 'qinghe');
    assert.equal(seen.halls[0].keys[0].kid, kid);
    assert.ok(seen.expires_at > now());

    // The same registration again leaves the decision standing.
    r = await govhall(join);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /unchanged/);
    assert.equal((await hubDirectory()).halls.length, 1);
    // A changed one waits again, out of the directory.
    r = await govhall([...join.slice(0, 3), '清河新区', ...join.slice(4)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /waiting/);
    assert.deepEqual((await hubDirectory()).halls, []);
    r = await govhall(['federation', 'hall', 'approve', 'qinghe', '--db', hub.db]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await hubDirectory()).halls[0].name, '清河新区');
  });

  test('registrations unsigned, tampered, expired, signed by a key they do not name, or of an unknown hall are refused', async () => {
    const url = `${hubUrl}/federation/halls`;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const x = publicKey.export({ format: 'jwk' }).x;
    const reg = (id, extra = {}) => JSON.stringify({ id, name: '兰山市', region: '兰山', base_url: 'http://127.0.0.2:9', keys: [{ kid: 'lanshan-1', x }], ...extra });
    const post = (body, headers) => fetch(url, { method: 'POST', body, headers });
    const body = reg('lanshan');

    let r = await post(body, { 'content-type': 'application/json' });
    assert.equal(r.status, 401, 'unsigned');
    // Signed, then the body changed: the digest no longer matches.
    r = await post(reg('lanshan', { region: '清河' }), signedHeaders(url, body, privateKey, 'lanshan-1'));
    assert.equal(r.status, 401, 'tampered body');
    // The digest changed with it: the signature no longer verifies.
    const h = signedHeaders(url, body, privateKey, 'lanshan-1');
    const tampered = reg('lanshan', { region: '清河' });
    r = await post(tampered, { ...h, 'content-digest': `sha-256=:${createHash('sha256').update(tampered).digest('base64')}:` });
    assert.equal(r.status, 401, 'tampered body and digest');
    r = await post(body, { ...h, 'idempotency-key': '"another"' });
    assert.equal(r.status, 401, 'another idempotency key');
    r = await post(body, signedHeaders(url, body, privateKey, 'lanshan-1', { created: now() - 900, expires: now() - 600 }));
    assert.equal(r.status, 401, 'expired');
    r = await post(body, signedHeaders(`${hubUrl}/elsewhere`, body, privateKey, 'lanshan-1'));
    assert.equal(r.status, 401, 'signed for another address');
    r = await post(body, signedHeaders(url, body, other.privateKey, 'lanshan-1'));
    assert.equal(r.status, 401, 'signed by another key');
    r = await post(body, signedHeaders(url, body, other.privateKey, 'lanshan-2'));
    assert.equal(r.status, 401, 'a key the registration does not name');
    const unknown = reg('nobody');
    r = await post(unknown, signedHeaders(url, unknown, privateKey, 'lanshan-1'));
    assert.equal(r.status, 403, 'a hall the hub does not know');
    const bad = JSON.stringify({ id: 'lanshan', name: '兰山市', region: '兰山', base_url: 'ftp://x', keys: [{ kid: 'lanshan-1', x }] });
    r = await post(bad, signedHeaders(url, bad, privateKey, 'lanshan-1'));
    assert.equal(r.status, 422, 'not an http(s) base_url');
    const listed = await govhall(['federation', 'hall', 'list', '--db', hub.db]);
    assert.doesNotMatch(listed.stdout, /^lanshan/m, 'nothing refused was recorded');

    r = await post(body, signedHeaders(url, body, privateKey, 'lanshan-1'));
    assert.equal(r.status, 202);
    assert.deepEqual(await r.json(), { hall: 'lanshan', state: 'pending' });
    assert.match((await govhall(['federation', 'hall', 'list', '--db', hub.db])).stdout, /^lanshan\tpending\t兰山/m);
    const refused = await govhall(['federation', 'hall', 'refuse', 'lanshan', '--db', hub.db]);
    assert.equal(refused.code, 0, refused.stderr);
    assert.ok(!(await hubDirectory()).halls.some((x2) => x2.id === 'lanshan'));
  });
});

/** A counterfeit hub whose directory is as state.mode says. */
async function counterfeitHub() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const good = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const state = { mode: 'good', fetches: 0, halls: [] };
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: good.publicKey.export({ format: 'jwk' }).x, kid: 'k1', use: 'sig', alg: 'EdDSA' };
  const jwt = (claims, { key = good.privateKey, alg = 'EdDSA', kid = 'k1' } = {}) => {
    const h = b64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
    const p = b64url(JSON.stringify(claims));
    return `${h}.${p}.${alg === 'none' ? '' : b64url(edSign(null, Buffer.from(`${h}.${p}`), key))}`;
  };
  const server = http.createServer((req, res) => {
    const json = (v) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    if (req.url === '/.well-known/openid-configuration') {
      return json({ issuer: url, authorization_endpoint: `${url}/authorize`, token_endpoint: `${url}/token`, userinfo_endpoint: `${url}/userinfo`, jwks_uri: `${url}/jwks` });
    }
    if (req.url === '/jwks') return json({ keys: [jwk] });
    if (req.url === '/.well-known/govhall-directory') {
      state.fetches++;
      const t = now();
      const base = { iss: url, iat: t, exp: t + 86400, halls: state.halls };
      const token = {
        good: () => jwt(base),
        expired: () => jwt({ ...base, iat: t - 90000, exp: t - 3600 }),
        future: () => jwt({ ...base, iat: t + 3600, exp: t + 7200 }),
        none: () => jwt(base, { alg: 'none' }),
        wrongkey: () => jwt(base, { key: other.privateKey }),
        unknownkey: () => jwt(base, { key: other.privateKey, kid: 'k9' }),
        issuer: () => jwt({ ...base, iss: 'http://127.0.0.1:1/not-the-hub' }),
        malformed: () => jwt({ ...base, halls: [{ id: 'Bad Id', name: 'x', region: 'x', base_url: 'http://x', keys: [] }] }),
        garbage: () => 'not a directory',
      }[state.mode]();
      res.writeHead(200, { 'content-type': 'application/jwt' });
      return res.end(token);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('a hall checks the directory it fetches', () => {
  test('expired, unsigned, wrongly signed, foreign or malformed directories are refused; the last good copy stays', async () => {
    fake = await counterfeitHub();
    const key = b64url(randomBytes(32));
    const entry = (id) => ({ id, name: `${id}市`, region: id, base_url: `http://${id}.example`, keys: [{ kid: `${id}-1`, x: key }] });
    fake.state.halls = [entry('qinghe')];
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    fakeHall = await startServer({ name: 'fdir_fake', demo: false, extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', url,
      '--fed-hub-url', fake.url, '--fed-client-id', 'lanshan', '--fed-client-secret', 'not-a-real-secret', '--fed-directory-period', '1'] });
    const held = async () => { const r = await getJson(`${url}/federation/directory`); return r.status === 200 ? r.json : null; };
    const first = await waitFor(held, { what: 'the first directory' });
    assert.deepEqual(first.halls.map((h) => h.id), ['qinghe']);

    // Each wrong directory, fetched twice over: the hall keeps the good copy it had (the one
    // naming only qinghe: the hub's halls change only once it serves wrong ones).
    fake.state.mode = 'expired';
    fake.state.halls = [entry('qinghe'), entry('lanshan')];
    let n = fake.state.fetches;
    await waitFor(() => fake.state.fetches >= n + 2, { what: 'two fetches of the expired directory' });
    const ref = await held();
    for (const mode of ['expired', 'future', 'none', 'wrongkey', 'unknownkey', 'issuer', 'malformed', 'garbage']) {
      fake.state.mode = mode;
      n = fake.state.fetches;
      await waitFor(() => fake.state.fetches >= n + 2, { what: `two fetches of the ${mode} directory` });
      const kept = await held();
      assert.ok(kept, `${mode}: a directory is still held`);
      assert.deepEqual(kept.halls.map((h) => h.id), ['qinghe'], `${mode}: the last good copy stays in use`);
      assert.equal(kept.fetched_at, ref.fetched_at, `${mode}: not replaced`);
    }
    assert.ok(fakeHall.stderr.some((l) => l.includes('directory is refused')), 'refusals are logged');

    // A good one again is taken.
    fake.state.mode = 'good';
    const next = await waitFor(async () => { const d = await held(); return d?.halls.length === 2 ? d : null; }, { what: 'the new directory' });
    assert.deepEqual(next.halls.map((h) => h.id), ['qinghe', 'lanshan']);
  });
});
