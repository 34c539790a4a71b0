// federation-wallet.test.mjs: the wallet across halls. A hub and two halls, Qinghe (A, where
// the citizen is) and Lanshan (B, which issued their certificates); two people log in at both
// halls with the national account. With the person's consent (and not before), Qinghe asks
// the hub, the hub asks Lanshan, and Lanshan's certificates of that person show in Qinghe's
// wallet marked with Lanshan; another person never sees them. One of them, checked with
// Lanshan, stands for a material of a Qinghe application, and Qinghe's staff see it with its
// checks; a revoked one, an unchecked one, a forged one and one asked while Lanshan is down
// are refused with a clear reason; requests not signed by the hub or by a hall the person
// used are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import {
  Client, DEMO, actOn, apiLogin, applyOnline, bearer, csrfOf, demoCatalog, demoMaterials, getJson, govhall, pageLogin, sql,
  waitFor,
} from './helpers.mjs';
import * as fixtures from './federation-fixtures.mjs';
import { b64url, now } from './federation-fixtures.mjs';

let f;
const tok = {};
const catalog = demoCatalog();
const MARRIAGE = catalog.services.filter((s) => s.outcome_ecert === 'marriage_cert' && s.online_depth >= 3);
// A Qinghe item with a working-day deadline and a slot a marriage certificate fills (its
// department's staff: staffA, moved there).
const ITEM = catalog.services.find((s) => s.online_depth >= 3 && s.legal_limit_days > 0 &&
  s.materials.some((m) => m.ecert === 'marriage_cert'));
const SLOT = ITEM.materials.findIndex((m) => m.ecert === 'marriage_cert');
const issued = [];

const W = (p) => `${f.qingheUrl}/api/v1/wallet/federation${p}`;
const wallet = (who) => bearer(W(''), tok[who]);
const consent = (who, method) => bearer(W('/consent'), tok[who], { method });
const fetchCerts = (who) => bearer(W('/fetch'), tok[who], { method: 'POST' });
const check = (who, number, hall = 'lanshan') => bearer(W(`/certificates/${hall}/${number}/check`), tok[who], { method: 'POST' });
const applyWith = async (number, hall = 'lanshan') => {
  const materials = (await demoMaterials(f.qingheUrl, tok.zhang, ITEM)).filter((m) => m.slot !== SLOT);
  materials.push({ slot: SLOT, ecert: 'marriage_cert', ecert_hall: hall, ecert_number: number });
  return applyOnline(f.qingheUrl, tok.zhang, ITEM, { materials });
};

/** A JWT of claims signed by key (node's Ed25519) under kid: the test's own signer. */
function jwt(claims, key, kid) {
  const head = b64url(JSON.stringify({ alg: 'EdDSA', kid, typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(edSign(null, Buffer.from(`${head}.${body}`), key.privateKey))}`;
}

/** person logs in at hall url with the national account (their hub session hubClient). */
async function nationalLogin(url, hubClient) {
  const c = new Client(url);
  const start = await c.get('/login/national');
  assert.equal(start.status, 303, start.body.slice(0, 300));
  const to = new URL(start.location);
  const code = await hubClient.get(to.pathname + to.search);
  assert.equal(code.status, 303, code.body.slice(0, 300));
  const back = new URL(code.location);
  const done = await c.get(back.pathname + back.search);
  assert.equal(done.status, 303, [f.qinghe, f.lanshan, f.hub].map((s) => s.stderr.slice(-6).join('\n')).join('\n----\n'));
}

before(async () => {
  f = await fixtures.federation('fwal', { demo: true, hubDemo: true, ownLogs: true });
  // The fixture registers the halls' clients with a placeholder address; log-ins need the real one.
  for (const [id, url] of [['qinghe', f.qingheUrl], ['lanshan', f.lanshanUrl]]) {
    await sql(f.hub.db, `UPDATE oidc_clients SET redirect_uris = '["${url}/login/national/callback"]' WHERE client_id = '${id}'`);
  }
  for (const person of [DEMO.citizen, DEMO.agent]) {
    const hubClient = await pageLogin(f.hubUrl, person.phone);
    for (const url of [f.qingheUrl, f.lanshanUrl]) await nationalLogin(url, hubClient);
  }
  tok.zhang = (await apiLogin(f.qingheUrl, DEMO.citizen.phone)).token;
  tok.li = (await apiLogin(f.qingheUrl, DEMO.agent.phone)).token;
  const staff = (await govhall(['user', 'list', '--db', f.qingheDb.url], { keyFile: f.qingheDb.keyFile })).stdout
    .split('\n').find((l) => l.includes(DEMO.staffA.phone.slice(-4))).split(/\s+/)[0];
  const moved = await govhall(['user', 'roles', staff, '--department', ITEM.department, '--roles', 'counter,reviewer', '--db', f.qingheDb.url],
    { keyFile: f.qingheDb.keyFile });
  assert.equal(moved.code, 0, moved.stderr);
  tok.staffA = (await apiLogin(f.qingheUrl, DEMO.staffA.phone)).token;
  tok.zhangB = (await apiLogin(f.lanshanUrl, DEMO.citizen.phone)).token;
  tok.civB = (await apiLogin(f.lanshanUrl, DEMO.staffB.phone)).token;
  // Lanshan issues 张三 two marriage certificates, then joins again to publish its department's key.
  for (const item of MARRIAGE.slice(0, 2)) {
    const a = await applyOnline(f.lanshanUrl, tok.zhangB, item);
    assert.equal(a.status, 201, a.body);
    for (const act of ['accept', 'start_review', 'approve']) assert.equal((await actOn(f.lanshanUrl, tok.civB, a.json.number, act)).status, 200);
    const w = await bearer(`${f.lanshanUrl}/api/v1/wallet`, tok.zhangB);
    issued.push(w.json.items.find((c) => c.application === a.json.number).number);
  }
  const again = await govhall(['federation', 'join', '--name', '兰山市', '--region', '兰山市', '--db', f.lanshanDb.url, '--fed-hub-url',
    f.hubUrl, '--fed-client-id', 'lanshan', '--public-url', f.lanshanUrl], { keyFile: f.lanshanDb.keyFile });
  assert.equal(again.code, 0, again.stderr);
  const doc = (await bearer(`${f.lanshanUrl}/api/v1/certs/${issued[0]}`, tok.zhangB)).json.document;
  await waitFor(async () => {
    const d = await getJson(`${f.qingheUrl}/federation/directory`);
    return JSON.stringify(d.json.halls?.find((h) => h.id === 'lanshan')?.keys_document ?? {}).includes(doc.signature.key_id);
  }, { what: 'Qinghe to hold a directory with Lanshan\'s certificate key' });
});

after(() => fixtures.stopFederation(f));

describe('the wallet shows the certificates of other halls, with consent', () => {
  test('nothing is fetched before consent; after it, Lanshan\'s certificates show at Qinghe marked with Lanshan', async () => {
    let w = await wallet('zhang');
    assert.equal(w.status, 200, w.body);
    assert.deepEqual([w.json.consent, w.json.national, w.json.certificates], [false, true, []]);
    const refused = await fetchCerts('zhang');
    assert.equal(refused.status, 409, refused.body);
    assert.match(refused.json.message ?? refused.body, /同意|agree/);
    assert.deepEqual((await wallet('zhang')).json.certificates, []);

    const c = await consent('zhang', 'PUT');
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.consent, true);
    const r = await fetchCerts('zhang');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.halls, [{ hall: 'lanshan', certificates: 2, refused: 0 }]);
    w = await wallet('zhang');
    assert.equal(w.json.consent, true);
    assert.deepEqual(w.json.certificates.map((x) => [x.hall, x.number, x.status]).sort(),
      issued.map((n) => ['lanshan', n, 'valid']).sort());
    for (const x of w.json.certificates) {
      assert.equal(x.cert_type, 'marriage_cert');
      assert.equal(x.document.certificate.holder.name, DEMO.citizen.name);
      // The copy is the document as Lanshan issued it: valid at Qinghe under Lanshan's keys.
      const v = await bearer(`${f.qingheUrl}/api/v1/verify`, null, { method: 'POST', json: x.document });
      assert.equal(v.json.status, 'valid', v.body);
    }
    // The wallet's page shows them with the issuing hall's name.
    const page = await (await pageLogin(f.qingheUrl, DEMO.citizen.phone)).get('/wallet');
    assert.equal(page.status, 200);
    assert.ok(issued.every((n) => page.body.includes(n)), 'both numbers on the wallet\'s page');
    assert.match(page.body, /class="fed-hall">兰山市</);
    // Nothing readable at rest.
    const stored = await sql(f.qingheDb.url, 'SELECT document FROM wallet_fed_certs');
    assert.ok(stored && !stored.includes(DEMO.citizen.name) && !stored.includes(issued[0]), 'the copies are sealed');
  });

  test('another person never sees them, at Qinghe or by asking the hub or Lanshan directly', async () => {
    // 李四 agrees and fetches on the wallet's page (forms with the session's CSRF token).
    const li = await pageLogin(f.qingheUrl, DEMO.agent.phone);
    let page = await li.get('/wallet');
    assert.ok(csrfOf(page.body, '/wallet/federation/consent'), 'the consent form');
    assert.equal((await li.post('/wallet/federation/consent', { consent: 'yes', _csrf: 'wrong' })).status, 403);
    assert.equal((await li.post('/wallet/federation/consent', { consent: 'yes', _csrf: csrfOf(page.body, '/wallet/federation/consent') })).location, '/wallet');
    page = await li.get('/wallet');
    const fetched = await li.post('/wallet/federation/fetch', { _csrf: csrfOf(page.body, '/wallet/federation/fetch') });
    assert.equal(fetched.status, 303, fetched.body.slice(0, 300));
    page = await li.get('/wallet');
    assert.ok(!issued.some((n) => page.body.includes(n)));
    const r = await fetchCerts('li');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.halls, [{ hall: 'lanshan', certificates: 0, refused: 0 }]);
    const w = await wallet('li');
    assert.deepEqual(w.json.certificates, []);
    assert.ok(!w.body.includes(issued[0]));

    // A hall the person never used (the probe, whose key the test holds) asks the hub: refused.
    const subjects = (await sql(f.hub.db, "SELECT subject FROM oidc_subject_halls WHERE client_id = 'lanshan' ORDER BY subject")).split(/\s+/).filter(Boolean);
    assert.equal(subjects.length, 2);
    const ask = (body) => fetch(`${f.hubUrl}/federation/wallet`, { method: 'POST', body, headers: { 'content-type': 'application/jwt' } });
    const t = now();
    let a = await ask(jwt({ iss: 'probe', aud: f.hubUrl, sub: subjects[0], iat: t, exp: t + 60 }, f.probe, f.probe.kid));
    assert.equal(a.status, 403, await a.text());
    // Claiming to be Qinghe with the probe's key, unsigned, or expired: refused.
    a = await ask(jwt({ iss: 'qinghe', aud: f.hubUrl, sub: subjects[0], iat: t, exp: t + 60 }, f.probe, f.probe.kid));
    assert.equal(a.status, 401);
    a = await ask(jwt({ iss: 'probe', aud: f.hubUrl, sub: subjects[0], iat: t - 600, exp: t - 10 }, f.probe, f.probe.kid));
    assert.equal(a.status, 401);
    a = await ask('not.a.jwt');
    assert.equal(a.status, 401);
    // Lanshan answers only the hub's signed requests.
    const forged = jwt({ iss: f.hubUrl, aud: 'lanshan', sub: subjects[0], for: 'probe', iat: t, exp: t + 60 },
      generateKeyPairSync('ed25519'), 'hub-1');
    const h = await fetch(`${f.lanshanUrl}/federation/wallet/holdings`, { method: 'POST', body: forged });
    assert.equal(h.status, 401);
    assert.ok(!(await h.text()).includes(issued[0]));
    // Lanshan's status answers only signed requests of a hall.
    const s = await fetch(`${f.lanshanUrl}/federation/certificates/${issued[0]}/status?hash=x&subject=${subjects[0]}`);
    assert.equal(s.status, 401);
  });

  test('consent taken back: the copies go and nothing more is fetched; the consents are in the log and the person\'s data', async () => {
    assert.equal((await consent('li', 'DELETE')).json.consent, false);
    assert.equal((await fetchCerts('li')).status, 409);
    assert.equal((await wallet('li')).json.consent, false);

    const data = await bearer(`${f.qingheUrl}/api/v1/me/data`, tok.zhang);
    assert.equal(data.json.parts.find((p) => p.name === 'wallet_consent')?.count, 1);
    assert.equal(data.json.parts.find((p) => p.name === 'wallet_other_halls')?.count, 2);
    let r = await govhall(['audit', '--db', f.qingheDb.url], { keyFile: f.qingheDb.keyFile });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // A consent planted behind the application's back is found.
    await sql(f.qingheDb.url, 'UPDATE wallet_fed_consents SET revoked_at = NULL WHERE revoked_at IS NOT NULL');
    r = await govhall(['audit', '--db', f.qingheDb.url], { keyFile: f.qingheDb.keyFile });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /wallet_fed_consents/);
  });
});

describe('a certificate of another hall replaces an upload', () => {
  let number;
  test('unchecked: refused; checked with Lanshan: it stands for the material, and the staff see it verified', async () => {
    const before = await applyWith(issued[0]);
    assert.equal(before.status, 422, before.body);
    assert.match(before.body, /核验|checked/);
    const c = await check('zhang', issued[0]);
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.status, 'valid');
    assert.equal(c.json.checks.signature, true);
    assert.equal(c.json.checks.inclusion, true);
    const a = await applyWith(issued[0]);
    assert.equal(a.status, 201, a.body);
    number = a.json.number;
    assert.equal(a.json.state, 'submitted');
    assert.deepEqual(a.json.materials.find((m) => m.slot === SLOT), { slot: SLOT, ecert: 'marriage_cert', ecert_hall: 'lanshan',
      ecert_hall_name: '兰山市', ecert_number: issued[0], ecert_hash: a.json.materials.find((m) => m.slot === SLOT).ecert_hash, ecert_checked_at: c.json.checked_at });
    const m = await bearer(`${f.qingheUrl}/api/v1/applications/${number}/materials/${SLOT}/certificate`, tok.staffA);
    assert.equal(m.status, 200, m.body);
    assert.equal(m.json.hall, 'lanshan');
    assert.equal(m.json.number, issued[0]);
    assert.equal(m.json.check_status, 'valid');
    assert.equal(m.json.document.certificate.number, issued[0]);
    assert.equal(m.json.verification.status, 'valid');
    const page = await (await pageLogin(f.qingheUrl, DEMO.staffA.phone)).get(`/applications/${number}`);
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`/api/v1/applications/${number}/materials/${SLOT}/certificate`) && /由兰山市签发/.test(page.body),
      'the application\'s page names the issuing hall and links to the certificate');
    // Someone else: as if there were no such application.
    assert.equal((await bearer(`${f.qingheUrl}/api/v1/applications/${number}/materials/${SLOT}/certificate`, tok.li)).status, 404);
    // A certificate not in the wallet, or of another hall than named: refused.
    assert.equal((await applyWith('CIV-20000101-000001')).status, 422);
    assert.equal((await applyWith(issued[0], 'probe')).status, 422);
  });

  test('revoked at Lanshan: the check says so and the application refuses it', async () => {
    const rv = await bearer(`${f.lanshanUrl}/api/v1/certs/${issued[1]}/revoke`, tok.civB, { method: 'POST', json: { reason: '登记信息有误' } });
    assert.equal(rv.status, 200, rv.body);
    const c = await check('zhang', issued[1]);
    assert.equal(c.status, 422, c.body);
    assert.match(c.body, /注销|revoked/);
    const a = await applyWith(issued[1]);
    assert.equal(a.status, 422, a.body);
    assert.match(a.body, /注销|revoked/);
  });

  test('forged at the issuing hall: the copy does not verify and is left out of the wallet', async () => {
    await sql(f.lanshanDb.url, `UPDATE certificates SET document = replace(document, '${DEMO.citizen.name}', '王五') WHERE number = '${issued[0]}'`);
    const r = await fetchCerts('zhang');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.halls, [{ hall: 'lanshan', certificates: 1, refused: 1 }]);
    const w = await wallet('zhang');
    assert.deepEqual(w.json.certificates.map((x) => x.number), [issued[1]]);
    assert.equal((await check('zhang', issued[0])).status, 404);
  });

  test('Lanshan down: "cannot check now", never taken unchecked; a fetch keeps its copies', async () => {
    await f.lanshan.stop();
    const c = await check('zhang', issued[1]);
    assert.equal(c.status, 503, c.body);
    assert.match(c.body, /上传|upload/);
    // A fetch names Lanshan unavailable and keeps what Lanshan gave before.
    const r = await fetchCerts('zhang');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.halls, [{ hall: 'lanshan', error: 'unavailable' }]);
    assert.deepEqual((await wallet('zhang')).json.certificates.map((x) => x.number), [issued[1]]);
  });
});
