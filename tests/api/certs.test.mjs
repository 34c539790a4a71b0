// E-certificates (电子证照) and the wallet (卡包): approval of an item with an outcome
// certificate issues one (signed, logged); the holder sees it in the wallet, downloads its
// JSON and PDF; anyone verifies it (JSON, PDF, QR link) as valid, revoked or unknown, with the
// inclusion proof checked; tampering is caught; a second application uses it instead of an
// upload (免提交), which shares it with that department only and is recorded; department
// heads revoke it with a reason; keys rotate and old certificates still verify; the pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, apiLogin, bearer, demoCatalog, freshIp, govhall, htmlText, pageLogin, sql, startServer,
} from './helpers.mjs';

let srv;
const tok = {};
const catalog = demoCatalog();
const MARRIAGE = catalog.services.find((s) => s.code === 'civ-0001');
const BIRTH = catalog.services.find((s) => s.code === 'psb-0005');

before(async () => {
  srv = await startServer({ name: 'certs', extraArgs: ['--trust-proxy', 'true'] });
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

function formFor(item) {
  const v = {};
  for (const f of item.form) {
    switch (f.type) {
      case 'id_number': v[f.key] = DEMO.citizen.id_number; break;
      case 'phone': v[f.key] = DEMO.citizen.phone; break;
      case 'select': v[f.key] = f.options[0].value; break;
      case 'date': v[f.key] = '2026-01-05'; break;
      case 'number': v[f.key] = '3'; break;
      default: v[f.key] = '张三';
    }
  }
  return v;
}

function pdf(tag = Math.random().toString(36).slice(2)) {
  return Buffer.from(`%PDF-1.4\n% ${tag}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n`);
}

async function upload(token) {
  const fd = new FormData();
  fd.append('file', new Blob([pdf()], { type: 'application/pdf' }), 'scan.pdf');
  const res = await fetch(`${srv.url}/api/v1/attachments`, {
    method: 'POST', body: fd, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() },
  });
  assert.equal(res.status, 201);
  return (await res.json()).id;
}

let seq = 0;
/** Applies for item with uploads for required slots, except the slots given in ecerts. */
async function apply(token, item, ecerts = {}) {
  const materials = [];
  for (const [i, m] of item.materials.entries()) {
    if (ecerts[i]) materials.push({ slot: i, ecert: ecerts[i] });
    else if (m.required) materials.push({ slot: i, attachments: [await upload(token)] });
  }
  return bearer(`${srv.url}/api/v1/services/${item.code}/applications`, token, {
    method: 'POST', json: { form: formFor(item), materials, submit: true, idempotency_key: `c-${process.pid}-${++seq}` },
  });
}

const act = async (token, number, action, body = {}) => {
  const r = await bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });
  assert.equal(r.status, 200, `${action}: ${r.body}`);
  return r.json;
};

async function approved(token, item, staff) {
  const r = await apply(token, item);
  assert.equal(r.status, 201, r.body);
  for (const a of ['accept', 'start_review', 'approve']) await act(staff, r.json.number, a);
  return r.json.number;
}

const verifyJson = (doc) => bearer(`${srv.url}/api/v1/verify`, null, { method: 'POST', json: doc });

let cert; // the marriage certificate issued in the first test
let doc;

describe('issuance', () => {
  test('approving an item with an outcome certificate puts a signed, logged certificate in the wallet', async () => {
    assert.equal(MARRIAGE.outcome_ecert, 'marriage_cert');
    const before = await bearer(`${srv.url}/api/v1/wallet`, tok.a);
    assert.equal(before.status, 200, before.body);
    const number = await approved(tok.a, MARRIAGE, tok.civ);
    const w = await bearer(`${srv.url}/api/v1/wallet`, tok.a);
    assert.equal(w.json.total, before.json.total + 1);
    cert = w.json.items.find((c) => c.application === number);
    assert.ok(cert, JSON.stringify(w.json));
    assert.equal(cert.cert_type, 'marriage_cert');
    assert.equal(cert.status, 'valid');
    assert.match(cert.number, /^CIV-\d{8}-\d{6}$/);
    assert.equal(typeof cert.leaf_index, 'number');
    const one = await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.a);
    assert.equal(one.status, 200, one.body);
    doc = one.json.document;
    assert.equal(doc.type, 'govhall.certificate/v1');
    assert.equal(doc.certificate.holder.name, DEMO.citizen.name);
    assert.ok(!JSON.stringify(doc).includes(DEMO.citizen.id_number), 'full ID number in the certificate');
    assert.match(doc.certificate.holder.id_masked, /\*/);
    assert.equal(doc.certificate.issuer.code, 'civ');
    assert.equal(doc.signature.algorithm, 'Ed25519');
    assert.ok(doc.certificate.content.some((f) => f.key === 'groom_name' && f.value === '张三'));
    assert.ok(!doc.certificate.content.some((f) => f.key === 'phone'), 'contact details stay out');
    assert.ok(doc.log, 'the document carries its inclusion proof');
    assert.equal(doc.log.leaf_index, cert.leaf_index);
    assert.equal(one.json.verification.signature, true);
    assert.equal(one.json.verification.inclusion, true);
    // Rows: one certificate for the application, leaf recorded.
    assert.equal(await sql(srv.db, `SELECT count(*) FROM certificates WHERE number = '${cert.number}'`), '1');
  });

  test('approving an item without an outcome certificate issues none; others cannot see a certificate', async () => {
    const item = catalog.services.find((s) => s.department === 'civ' && !s.outcome_ecert && s.online_depth >= 3);
    if (item) {
      const n = await sql(srv.db, 'SELECT count(*) FROM certificates');
      await approved(tok.a, item, tok.civ);
      assert.equal(await sql(srv.db, 'SELECT count(*) FROM certificates'), n);
    }
    assert.equal((await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.b)).status, 404);
    assert.equal((await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.psb)).status, 404);
    assert.equal((await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.civ)).status, 200);
    assert.equal((await bearer(`${srv.url}/api/v1/certs/${cert.number}`, null)).status, 401);
    assert.equal((await bearer(`${srv.url}/api/v1/certs/NO-SUCH-1`, tok.a)).status, 404);
  });
});

describe('a department\'s first key', () => {
  test('two first approvals at once in a department without a key both issue, under one key', async () => {
    const item = catalog.services.find((x) => x.code === 'psb-0001');
    assert.equal(await sql(srv.db, "SELECT count(*) FROM cert_keys WHERE department = 'psb'"), '0');
    const numbers = [];
    for (let i = 0; i < 2; i++) {
      const r = await apply(tok.a, item);
      assert.equal(r.status, 201, r.body);
      for (const a of ['accept', 'start_review']) await act(tok.psb, r.json.number, a);
      numbers.push(r.json.number);
    }
    const res = await Promise.all(numbers.map((n) => bearer(`${srv.url}/api/v1/applications/${n}/actions/approve`, tok.psb, { method: 'POST', json: {} })));
    for (const r of res) assert.equal(r.status, 200, r.body);
    assert.equal(await sql(srv.db, "SELECT count(*) FROM cert_keys WHERE department = 'psb'"), '1');
    const keys = await sql(srv.db, "SELECT count(DISTINCT key_id) || ':' || count(*) FROM certificates WHERE department = 'psb'");
    assert.equal(keys, '1:2');
  });
});

describe('verification', () => {
  test('the JSON document verifies as valid, with the inclusion proof checked', async () => {
    const r = await verifyJson(doc);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'valid', r.body);
    assert.equal(r.json.checks.signature, true);
    assert.equal(r.json.checks.inclusion, true);
    assert.equal(r.json.number, cert.number);
  });

  test('an altered document is a verdict (200 unknown); only garbage is a 422 with a message', async () => {
    const forged = structuredClone(doc);
    forged.certificate.holder.name = '李四';
    delete forged.hash;
    const r = await verifyJson(forged);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'unknown');
    assert.match(r.json.reason, /altered|改动/);
    const wrongHash = structuredClone(doc);
    wrongHash.certificate.holder.name = '李四';
    const r2 = await verifyJson(wrongHash);
    assert.equal(r2.status, 200, r2.body);
    assert.equal(r2.json.status, 'unknown');
    assert.match(r2.json.reason, /altered|改动/);
    const unknown = structuredClone(doc);
    unknown.certificate.number = 'CIV-20000101-999999';
    delete unknown.hash;
    assert.equal((await verifyJson(unknown)).json.status, 'unknown');
    for (const body of ['not json', '{"type":"x"}', '[]', '%PDF-1.4 nothing here']) {
      const g = await bearer(`${srv.url}/api/v1/verify`, null, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(g.status, 422, `${body}: ${g.body}`);
    }
  });

  test('the PDF carries the document: it downloads and verifies, and so does the QR link', async () => {
    const res = await fetch(`${srv.url}/api/v1/certs/${cert.number}/pdf`, { headers: { authorization: `Bearer ${tok.a}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    const buf = Buffer.from(await res.arrayBuffer());
    assert.equal(buf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(buf.includes('govhall-certificate:'));
    assert.ok(buf.includes('FontFile'), 'fonts are embedded');
    const v = await bearer(`${srv.url}/api/v1/verify`, null, { method: 'POST', body: buf, headers: { 'content-type': 'application/pdf' } });
    assert.equal(v.status, 200, v.body);
    assert.equal(v.json.status, 'valid', v.body);
    const link = await bearer(`${srv.url}/api/v1/verify/certificates/${cert.number}?h=${doc.hash}`, null);
    assert.equal(link.json.status, 'valid', link.body);
    assert.equal(link.json.checks.inclusion, true);
    const bad = await bearer(`${srv.url}/api/v1/verify/certificates/${cert.number}?h=${'0'.repeat(64)}`, null);
    assert.equal(bad.json.status, 'unknown');
    assert.equal((await bearer(`${srv.url}/api/v1/verify/certificates/${cert.number}`, null)).status, 422);
  });

  test('the published keys list the department key; offline verify accepts the JSON and the PDF', async () => {
    const keys = await bearer(`${srv.url}/.well-known/govhall-keys.json`, null);
    assert.equal(keys.status, 200, keys.body);
    assert.ok(keys.json.departments.some((k) => k.key_id === doc.signature.key_id && k.department === 'civ'));
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/govhall-certs-');
    await writeFile(`${dir}/keys.json`, keys.body);
    await writeFile(`${dir}/cert.json`, JSON.stringify(doc));
    const res = await fetch(`${srv.url}/api/v1/certs/${cert.number}/pdf`, { headers: { authorization: `Bearer ${tok.a}` } });
    await writeFile(`${dir}/cert.pdf`, Buffer.from(await res.arrayBuffer()));
    for (const f of ['cert.json', 'cert.pdf']) {
      const r = await govhall(['verify', `${dir}/${f}`, '--keys', `${dir}/keys.json`], { keyFile: false });
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /valid/);
    }
    const forged = structuredClone(doc);
    forged.certificate.holder.name = '李四';
    delete forged.hash;
    await writeFile(`${dir}/forged.json`, JSON.stringify(forged));
    const r = await govhall(['verify', `${dir}/forged.json`, '--keys', `${dir}/keys.json`], { keyFile: false });
    assert.notEqual(r.code, 0, r.stdout);
  });
});

describe('wallet reuse (免提交)', () => {
  test('a material the wallet holds is satisfied by it, shared with that department only, and recorded', async () => {
    const slot = BIRTH.materials.findIndex((m) => m.ecert === 'marriage_cert');
    assert.ok(slot >= 0);
    assert.equal((await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.psb)).status, 404);
    const r = await apply(tok.a, BIRTH, { [slot]: 'marriage_cert' });
    assert.equal(r.status, 201, r.body);
    const m = r.json.materials.find((x) => x.slot === slot);
    assert.equal(m.ecert, 'marriage_cert');
    assert.equal(m.ecert_number, cert.number);
    // psb handles it: now it sees the certificate, verified.
    const seen = await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.psb);
    assert.equal(seen.status, 200, seen.body);
    assert.equal(seen.json.verification.signature, true);
    const shares = (await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.a)).json.shares;
    assert.ok(shares.some((s) => s.application === r.json.number && s.department === 'psb' && typeof s.leaf_index === 'number'));
    assert.equal(await sql(srv.db, `SELECT count(*) FROM cert_shares s JOIN applications a ON a.id = s.application_id WHERE a.number = '${r.json.number}'`), '1');
    // Staff see the certificate on the application's page instead of an upload.
    const staff = await pageLogin(srv.url, DEMO.staffA.phone);
    const page = await staff.get(`/applications/${r.json.number}`);
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`/certs/${cert.number}?application`), 'link to the certificate');
    const cp = await staff.get(`/certs/${cert.number}?application=${r.json.number}`);
    assert.equal(cp.status, 200);
    assert.match(htmlText(cp.body), /有效|Valid/);
  });

  test('a certificate not held cannot stand in for a material', async () => {
    const slot = BIRTH.materials.findIndex((m) => m.ecert === 'birth_medical_cert');
    const r = await apply(tok.a, BIRTH, { [slot]: 'birth_medical_cert' });
    assert.equal(r.status, 422, r.body);
    const other = await apply(tok.b, BIRTH, { [BIRTH.materials.findIndex((m) => m.ecert === 'marriage_cert')]: 'marriage_cert' });
    assert.equal(other.status, 422, other.body);
  });
});

describe('revocation and keys', () => {
  test('rotation: the old key stays published and its certificates still verify', async () => {
    const rot = await govhall(['cert', 'key', 'rotate', '--department', 'civ', '--db', srv.db]);
    assert.equal(rot.code, 0, rot.stderr);
    const list = await govhall(['cert', 'key', 'list', '--department', 'civ', '--db', srv.db]);
    assert.match(list.stdout, new RegExp(doc.signature.key_id));
    assert.match(list.stdout, /current/);
    assert.equal((await verifyJson(doc)).json.status, 'valid');
    const keys = await bearer(`${srv.url}/.well-known/govhall-keys.json`, null);
    const old = keys.json.departments.find((k) => k.key_id === doc.signature.key_id);
    assert.ok(old && old.valid_until !== null && old.current === false, JSON.stringify(keys.json.departments));
    const number = await approved(tok.a, MARRIAGE, tok.civ);
    const w = await bearer(`${srv.url}/api/v1/wallet`, tok.a);
    const fresh = w.json.items.find((c) => c.application === number);
    const d2 = (await bearer(`${srv.url}/api/v1/certs/${fresh.number}`, tok.a)).json.document;
    assert.notEqual(d2.signature.key_id, doc.signature.key_id);
    assert.equal((await verifyJson(d2)).json.status, 'valid');
  });

  test('only a head of the issuing department revokes, with a reason; then it verifies as revoked', async () => {
    const url = `${srv.url}/api/v1/certs/${cert.number}/revoke`;
    assert.equal((await bearer(url, tok.psb, { method: 'POST', json: { reason: 'x' } })).status, 403);
    assert.equal((await bearer(url, tok.a, { method: 'POST', json: { reason: 'x' } })).status, 403);
    assert.equal((await bearer(url, tok.civ, { method: 'POST', json: { reason: '  ' } })).status, 422);
    const r = await bearer(url, tok.civ, { method: 'POST', json: { reason: '登记信息有误，已重新办理' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'revoked');
    assert.equal((await bearer(url, tok.civ, { method: 'POST', json: { reason: 'again' } })).status, 409);
    const v = await verifyJson(doc);
    assert.equal(v.json.status, 'revoked');
    assert.equal(v.json.revoke_reason, '登记信息有误，已重新办理');
    const leaf = await sql(srv.db, `SELECT revoke_leaf_index FROM certificates WHERE number = '${cert.number}'`);
    assert.match(leaf, /^\d+$/);
  });
});

describe('govhall audit', () => {
  test('altered certificate, revocation and sharing rows are reported; restored, the log is clean', async () => {
    const audit = () => govhall(['audit', '--db', srv.db]);
    const clean = async () => {
      const r = await audit();
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    };
    async function detects(name, alter, restore, re) {
      await alter();
      const r = await audit();
      assert.equal(r.code, 1, `${name} not detected:\n${r.stdout}`);
      assert.match(r.stdout, re, `${name}:\n${r.stdout}`);
      await restore();
      await clean();
    }
    await clean();
    const docText = await sql(srv.db, `SELECT document FROM certificates WHERE number = '${cert.number}'`);
    const id = await sql(srv.db, `SELECT id FROM certificates WHERE number = '${cert.number}'`);
    const row = new RegExp(`^certificates:${id}: the row differs from what its latest logged action says`, 'm');
    const q = (t) => t.replace(/'/g, "''");
    await detects('document altered',
      () => sql(srv.db, `UPDATE certificates SET document = '${q(docText.replace('张三', '李四'))}' WHERE number = '${cert.number}'`),
      () => sql(srv.db, `UPDATE certificates SET document = '${q(docText)}' WHERE number = '${cert.number}'`),
      row);
    await detects('holder changed',
      () => sql(srv.db, `UPDATE certificates SET holder_id = holder_id + 1 WHERE number = '${cert.number}'`),
      () => sql(srv.db, `UPDATE certificates SET holder_id = holder_id - 1 WHERE number = '${cert.number}'`),
      row);
    await detects('revocation undone',
      () => sql(srv.db, `UPDATE certificates SET status = 'valid' WHERE number = '${cert.number}'`),
      () => sql(srv.db, `UPDATE certificates SET status = 'revoked' WHERE number = '${cert.number}'`),
      row);
    await detects('revocation reason rewritten',
      () => sql(srv.db, `UPDATE certificates SET revoke_reason = 'x' WHERE number = '${cert.number}'`),
      () => sql(srv.db, `UPDATE certificates SET revoke_reason = '登记信息有误，已重新办理' WHERE number = '${cert.number}'`),
      row);
    await detects("the revocation's leaf swapped for the issuance's",
      () => sql(srv.db, `UPDATE certificates SET revoke_leaf_index = leaf_index WHERE number = '${cert.number}'`),
      () => sql(srv.db, `UPDATE certificates SET revoke_leaf_index = (SELECT MAX(idx) FROM ledger_leaves WHERE ref = 'certificate_revocation:${cert.number}') WHERE number = '${cert.number}'`),
      new RegExp(`^certificates:${id}: revoke_leaf_index names leaf \\d+, which is not a certificate_revocation leaf`, 'm'));
    await detects('sharing moved to another department',
      () => sql(srv.db, `UPDATE cert_shares SET department = 'civ' WHERE department = 'psb'`),
      () => sql(srv.db, `UPDATE cert_shares SET department = 'psb' WHERE department = 'civ'`),
      /^cert_shares:\d+: the row differs/m);
    const ref = await sql(srv.db, `SELECT ref FROM ledger_leaves WHERE ref LIKE 'certificate:%' ORDER BY idx LIMIT 1`);
    await detects("a leaf's ref rewritten (the certificate would no longer find its leaf)",
      () => sql(srv.db, `UPDATE ledger_leaves SET ref = 'x${ref}' WHERE ref = '${ref}'`),
      () => sql(srv.db, `UPDATE ledger_leaves SET ref = '${ref}' WHERE ref = 'x${ref}'`),
      new RegExp(`x${ref}\\): its ref column is not the ref its text says`));
  });
});

describe('pages', () => {
  test('wallet, certificate page, and public verification by upload and by QR link', async () => {
    const c = await pageLogin(srv.url, DEMO.citizen.phone);
    const w = await c.get('/wallet');
    assert.equal(w.status, 200);
    assert.ok(w.body.includes(cert.number));
    const en = await c.get('/wallet?lang=en');
    assert.match(en.body, /My wallet/);
    const page = await c.get(`/certs/${cert.number}`);
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`/certs/${cert.number}/pdf`));
    const anon = await fetch(`${srv.url}/verify/certificates/${cert.number}?h=${doc.hash}`, { headers: { 'x-forwarded-for': freshIp() } });
    assert.equal(anon.status, 200);
    assert.match(htmlText(await anon.text()), /已注销|Revoked/);
    const form = await c.get('/verify');
    assert.equal(form.status, 200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
    const fd = new FormData();
    fd.append('_csrf', htmlText(csrf));
    fd.append('file', new Blob([JSON.stringify(doc)], { type: 'application/json' }), 'cert.json');
    const res = await fetch(`${srv.url}/verify`, { method: 'POST', body: fd, headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip } });
    assert.equal(res.status, 200);
    assert.match(htmlText(await res.text()), /已注销|Revoked/);
    const fd2 = new FormData();
    fd2.append('_csrf', htmlText(csrf));
    fd2.append('file', new Blob(['hello'], { type: 'text/plain' }), 'x.txt');
    const bad = await fetch(`${srv.url}/verify`, { method: 'POST', body: fd2, headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip } });
    assert.equal(bad.status, 422);
    // The revoke form: staff of the issuing department only, a reason required; without the
    // CSRF token refused.
    const civ = await pageLogin(srv.url, DEMO.staffB.phone);
    const cp = await civ.get(`/certs/${cert.number}`);
    assert.equal(cp.status, 200);
    const empty = await civ.post(`/certs/${cert.number}/revoke`, { reason: '' });
    assert.equal(empty.status, 303);
    assert.match(empty.location, /error=reason/);
    const again = await civ.post(`/certs/${cert.number}/revoke`, { reason: 'twice' });
    assert.equal(again.status, 409);
    const noCsrf = await civ.post(`/certs/${cert.number}/revoke`, { reason: 'x', _csrf: 'nope' });
    assert.equal(noCsrf.status, 403);
    const citizenTry = await c.post(`/certs/${cert.number}/revoke`, { reason: 'x' });
    assert.equal(citizenTry.status, 403);
  });
});
