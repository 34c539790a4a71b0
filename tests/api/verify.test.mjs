// Verification (POST /api/v1/verify and the /verify page) of certificates and receipts: a
// document that can be read always gets a verdict (200: valid, revoked or unknown with the
// reason), whatever was done to it — altered fields, a stated hash that no longer fits, a
// wrong or malformed signature, a key the hall did not sign with, a receipt of another hall,
// a forged checkpoint — and only a file that is not such a document at all is a 422.
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, Client, actOn, apiLogin, applyOnline, bearer, csrfOf, demoCatalog, freshIp, htmlText, startServer,
} from './helpers.mjs';

const MARRIAGE = demoCatalog().services.find((s) => s.code === 'civ-0001');
let srv;
let other; // a second hall: its own keys and origin
const tok = {};
let doc; // a certificate document of srv
let receipt; // a receipt of srv
let otherReceipt; // a genuine receipt of the other hall

/** Files and approves a marriage registration; returns its number. */
async function approvedApplication(server, citizen, staff) {
  const r = await applyOnline(server.url, citizen, MARRIAGE);
  assert.equal(r.status, 201, r.body);
  for (const a of ['accept', 'start_review', 'approve']) {
    const x = await actOn(server.url, staff, r.json.number, a);
    assert.equal(x.status, 200, `${a}: ${x.body}`);
  }
  return r.json.number;
}

/** The receipt of the application's last logged step. */
async function lastReceipt(server, token, number) {
  const list = await bearer(`${server.url}/api/v1/applications/${number}/receipts`, token);
  assert.equal(list.status, 200, list.body);
  const href = list.json.receipts.at(-1).href;
  const r = await bearer(`${server.url}${href}`, token);
  assert.equal(r.status, 200, r.body);
  return r.json;
}

before(async () => {
  [srv, other] = await Promise.all([
    startServer({ name: 'verify' }),
    // The log's origin is fixed when init creates it, so the other hall is made under its URL.
    startServer({ name: 'verify_other', initArgs: ['--public-url', 'http://other-hall.example'], extraArgs: ['--public-url', 'http://other-hall.example'] }),
  ]);
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
    tok[`other_${who}`] = (await apiLogin(other.url, acc.phone)).token;
  }
  const number = await approvedApplication(srv, tok.a, tok.civ);
  const wallet = await bearer(`${srv.url}/api/v1/wallet`, tok.a);
  const cert = wallet.json.items.find((c) => c.application === number);
  doc = (await bearer(`${srv.url}/api/v1/certs/${cert.number}`, tok.a)).json.document;
  receipt = await lastReceipt(srv, tok.a, number);
  otherReceipt = await lastReceipt(other, tok.other_a, await approvedApplication(other, tok.other_a, tok.other_civ));
});
after(async () => { await Promise.all([srv?.stop(), other?.stop()]); });

const verify = (body, server = srv) => bearer(`${server.url}/api/v1/verify`, null,
  typeof body === 'string' ? { method: 'POST', body, headers: { 'content-type': 'application/json' } } : { method: 'POST', json: body });
const edit = (d, fn) => { const x = structuredClone(d); fn(x); return x; };
const leafHash = (leaf) => createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(leaf)])).digest('base64');

/** Asserts a 200 verdict of kind and status; returns the verdict. */
async function verdict(body, kind, status, what) {
  const r = await verify(body);
  assert.equal(r.status, 200, `${what}: ${r.body}`);
  assert.equal(r.json.kind, kind, what);
  assert.equal(r.json.status, status, `${what}: ${r.body}`);
  if (status === 'unknown') assert.ok(r.json.reason?.length > 5, `${what}: an unknown verdict says why`);
  return r.json;
}

describe('certificates', () => {
  test('the genuine document is valid, with every check', async () => {
    const v = await verdict(doc, 'certificate', 'valid', 'genuine');
    assert.equal(v.number, doc.certificate.number);
    assert.equal(v.checks.signature, true);
    assert.equal(v.checks.inclusion, true);
    assert.equal(v.reason, undefined);
  });

  test('altered fields are unknown, whether the stated hash is kept, dropped or recomputed', async () => {
    const alterations = {
      'holder name': (d) => { d.certificate.holder.name = '李四'; },
      'a content value': (d) => { d.certificate.content[0].value = '王五'; },
      'the issue day': (d) => { d.certificate.issued_on = '2020-01-01'; },
      'the validity': (d) => { d.certificate.valid_until = '2099-12-31'; },
      'the issuer name': (d) => { d.certificate.issuer.name_en = 'Somewhere else'; },
    };
    for (const [what, fn] of Object.entries(alterations)) {
      const kept = await verdict(edit(doc, fn), 'certificate', 'unknown', `${what}, hash kept`);
      assert.match(kept.reason, /altered|改动/, what);
      await verdict(edit(doc, (d) => { fn(d); delete d.hash; }), 'certificate', 'unknown', `${what}, hash dropped`);
      const recomputed = edit(doc, (d) => { fn(d); d.hash = '0'.repeat(64); });
      await verdict(recomputed, 'certificate', 'unknown', `${what}, another hash`);
    }
  });

  test('a wrong, malformed or foreign signature is unknown', async () => {
    const other64 = Buffer.alloc(64, 7).toString('base64');
    const wrong = await verdict(edit(doc, (d) => { d.signature.value = other64; }), 'certificate', 'unknown', 'wrong signature');
    assert.equal(wrong.checks.signature, false);
    await verdict(edit(doc, (d) => { d.signature.value = 'not base64!'; }), 'certificate', 'unknown', 'malformed signature');
    await verdict(edit(doc, (d) => { d.signature.algorithm = 'RSA'; }), 'certificate', 'unknown', 'another algorithm');
    await verdict(edit(doc, (d) => { delete d.signature; }), 'certificate', 'unknown', 'no signature');
    const key = await verdict(edit(doc, (d) => { d.signature.key_id = 'AAAAAAAAAAAAAAAA'; }), 'certificate', 'unknown', 'unknown key');
    assert.match(key.reason, /key|密钥/);
  });

  test('a malformed log proof, or a number the hall never issued, is unknown', async () => {
    await verdict(edit(doc, (d) => { d.log.inclusion_proof = 'x'; }), 'certificate', 'unknown', 'proof not a list');
    await verdict(edit(doc, (d) => { d.log.leaf_index = -1; }), 'certificate', 'unknown', 'negative leaf index');
    const none = await verdict(edit(doc, (d) => { d.certificate.number = 'CIV-20000101-999999'; delete d.hash; }),
      'certificate', 'unknown', 'unknown number');
    assert.match(none.reason, /No certificate|没有签发/);
  });

  test('only what is not a certificate document is a 422 with a message', async () => {
    const bodies = {
      'not JSON': 'not json',
      'another type': '{"type":"x"}',
      'a list': '[]',
      'no content': JSON.stringify(edit(doc, (d) => { delete d.certificate; })),
      'no number': JSON.stringify(edit(doc, (d) => { delete d.certificate.number; })),
      'a PDF without a certificate': '%PDF-1.4 nothing here',
    };
    for (const [what, body] of Object.entries(bodies)) {
      const r = await verify(body);
      assert.equal(r.status, 422, `${what}: ${r.body}`);
      assert.equal(r.json.error.code, 'validation_failed', what);
      assert.ok(r.json.error.detail, `${what}: the 422 says what is wrong`);
    }
  });
});

describe('receipts', () => {
  test('a genuine receipt is valid: every check of the log passes', async () => {
    const v = await verdict(receipt, 'receipt', 'valid', 'genuine');
    assert.deepEqual(v.checks, { leaf_hash: true, origin: true, signature: true, inclusion: true, in_log: true });
    assert.equal(v.leaf_index, receipt.leaf_index);
    assert.equal(v.origin, receipt.origin);
    assert.equal(v.leaf_kind, receipt.kind);
  });

  test('altered receipts are unknown, each with the check that failed', async () => {
    const leaf = JSON.parse(receipt.leaf);
    const forged = JSON.stringify({ ...leaf, action: leaf.action === 'deny' ? 'approve' : 'deny' });
    const cases = [
      ['the record', (r) => { r.leaf = forged; }, 'leaf_hash'],
      ['the record with its hash recomputed', (r) => { r.leaf = forged; r.leaf_hash = leafHash(forged); }, 'inclusion'],
      ['the tree size', (r) => { r.tree_size += 1; }, 'signature'],
      ['the root', (r) => { r.root = Buffer.alloc(32, 1).toString('base64'); }, 'signature'],
      ['the checkpoint signature', (r) => {
        const lines = r.checkpoint.split('\n');
        const i = lines.findIndex((l) => l.startsWith('— '));
        const sig = Buffer.from(lines[i].split(' ').at(-1), 'base64');
        sig[sig.length - 1] ^= 1;
        lines[i] = `${lines[i].split(' ').slice(0, -1).join(' ')} ${sig.toString('base64')}`;
        r.checkpoint = lines.join('\n');
      }, 'signature'],
      ['the proof', (r) => { r.inclusion_proof = [...r.inclusion_proof].reverse().concat([Buffer.alloc(32).toString('base64')]); }, 'inclusion'],
    ];
    if (receipt.leaf_index > 0) cases.push(['the index', (r) => { r.leaf_index -= 1; }, 'inclusion']);
    for (const [what, fn, check] of cases) {
      const v = await verdict(edit(receipt, fn), 'receipt', 'unknown', what);
      assert.equal(v.checks[check], false, `${what}: ${JSON.stringify(v.checks)}`);
    }
  });

  test("another hall's receipt is unknown here, and valid there", async () => {
    assert.notEqual(otherReceipt.origin, receipt.origin);
    const v = await verdict(otherReceipt, 'receipt', 'unknown', "another hall's receipt");
    assert.equal(v.checks.origin, false);
    assert.match(v.reason, /another|其他/);
    const there = await verify(otherReceipt, other);
    assert.equal(there.json.status, 'valid', there.body);
    // Relabelled as ours, it still names the other log in its signed checkpoint.
    const relabelled = await verdict(edit(otherReceipt, (r) => { r.origin = receipt.origin; }), 'receipt', 'unknown', 'relabelled');
    assert.equal(relabelled.checks.origin, false);
  });

  test('a receipt with members missing or unreadable is a 422', async () => {
    const broken = {
      'no index': (r) => { delete r.leaf_index; },
      'a proof that is not a list': (r) => { r.inclusion_proof = 'x'; },
      'a hash that is not base64': (r) => { r.leaf_hash = '%%%'; },
      'no checkpoint': (r) => { delete r.checkpoint; },
      'a size not above the index': (r) => { r.tree_size = r.leaf_index; },
    };
    for (const [what, fn] of Object.entries(broken)) {
      const r = await verify(edit(receipt, fn));
      assert.equal(r.status, 422, `${what}: ${r.body}`);
      assert.match(r.json.error.detail, /receipt|回执/, what);
    }
  });
});

describe('the /verify page', () => {
  async function upload(name, text, lang = 'zh') {
    const c = new Client(srv.url, { ip: freshIp(), lang });
    const form = await c.get('/verify');
    assert.equal(form.status, 200);
    const fd = new FormData();
    fd.append('_csrf', csrfOf(form.body));
    fd.append('file', new Blob([text], { type: 'application/json' }), name);
    const res = await fetch(`${srv.url}/verify`, { method: 'POST', body: fd, headers: { cookie: c.jar.header(), 'x-forwarded-for': c.ip } });
    return { status: res.status, text: htmlText(await res.text()) };
  }

  test('takes a receipt as well as a certificate, and shows each check', async () => {
    const ok = await upload('receipt.json', JSON.stringify(receipt), 'en');
    assert.equal(ok.status, 200);
    assert.match(ok.text, /Application receipt/);
    assert.match(ok.text, /data-status="valid"/);
    assert.match(ok.text, /✔ The hall's log still holds this very record/);
    const bad = await upload('receipt.json', JSON.stringify(edit(receipt, (r) => { r.tree_size += 1; })));
    assert.equal(bad.status, 200);
    assert.match(bad.text, /data-status="unknown"/);
    assert.match(bad.text, /✖ 日志检查点由本厅公布的日志密钥签名/);
    const cert = await upload('cert.json', JSON.stringify(doc), 'en');
    assert.match(cert.text, /data-status="valid"/);
    const junk = await upload('x.json', '{"type":"something else"}', 'en');
    assert.equal(junk.status, 422);
    assert.match(junk.text, /not a certificate or a receipt/);
  });
});
