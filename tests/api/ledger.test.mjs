// The transparency log: decisions and catalog versions become leaves; the public API (signed
// tree head, leaf, inclusion and consistency proofs) checked by an independent verifier
// written here (RFC 9162 and Ed25519 from node:crypto); receipts (who may download them, and
// `govhall verify` offline, tampered ones refused); the pages in both languages; and
// `govhall audit`, which must detect each kind of alteration of the stored rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, backend, bearer, DEMO, demoCatalog, freshDb, freshIp, get, govhall, initDb, pageLogin, sql, startServer, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';
import {
  b64, checkCheckpoint, leafHash, verifyConsistency, verifyInclusion,
} from './ledger-verify.mjs';

let srv;
let tmp;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'ledger', extraArgs: ['--trust-proxy', 'true'] });
  tmp = await tempDir('govhall-ledger-');
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => {
  await srv?.stop();
  await tmp?.remove();
});

// ---- applications ----

const catalog = demoCatalog();
const ITEM = catalog.services.find((s) => s.code === 'psb-0001');

function formFor(item) {
  const v = {};
  for (const f of item.form) {
    switch (f.type) {
      case 'id_number': v[f.key] = DEMO.citizen.id_number; break;
      case 'phone': v[f.key] = DEMO.citizen.phone; break;
      case 'uscc': v[f.key] = DEMO.enterprise.uscc; break;
      case 'select': v[f.key] = f.options[0].value; break;
      case 'date': v[f.key] = '2026-01-05'; break;
      case 'number': v[f.key] = '3'; break;
      case 'email': v[f.key] = 'zhang@example.com'; break;
      case 'address': v[f.key] = '清河市和平路 1 号'; break;
      case 'textarea': v[f.key] = '情况说明'; break;
      case 'file': break;
      default: v[f.key] = '张三';
    }
  }
  return v;
}

async function materialsFor(token, item) {
  const out = [];
  for (const [i, m] of item.materials.entries()) {
    if (!m.required) continue;
    const fd = new FormData();
    const pdf = `%PDF-1.4\n% ${Math.random()}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n`;
    fd.append('file', new Blob([pdf], { type: 'application/pdf' }), 'scan.pdf');
    const res = await fetch(`${srv.url}/api/v1/attachments`, {
      method: 'POST', body: fd, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() },
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    out.push({ slot: i, attachments: [JSON.parse(text).id] });
  }
  return out;
}

let seq = 0;
async function applied(token = tok.a) {
  const body = {
    form: formFor(ITEM), materials: await materialsFor(token, ITEM), submit: true, idempotency_key: `ledger-${process.pid}-${++seq}`,
  };
  const r = await bearer(`${srv.url}/api/v1/services/${ITEM.code}/applications`, token, { method: 'POST', json: body });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

async function act(number, action, body = {}) {
  const r = await bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, tok.psb, { method: 'POST', json: body });
  assert.equal(r.status, 200, `${action}: ${r.body}`);
  return r.json;
}

async function keysDoc() {
  const r = await get(`${srv.url}/.well-known/govhall-keys.json`);
  assert.equal(r.status, 200);
  return JSON.parse(r.body);
}

let approved; // {number, receipts}

describe('decisions in the log and receipts', () => {
  test('the background duty signs a tree head of the demo catalog without being asked', async () => {
    // init --demo logged every catalog version; nothing has asked for a checkpoint yet, so one
    // of the head's size can only come from the duty's first pass at start.
    const head = Number(await sql(srv.db, 'SELECT size FROM ledger_head'));
    assert.ok(head > 100);
    const n = await waitFor(async () => Number(await sql(srv.db, `SELECT COUNT(*) FROM ledger_checkpoints WHERE size = ${head}`)),
      { what: "the duty's checkpoint of the demo catalog" });
    assert.equal(n, 1, 'one checkpoint of that size');
  });

  test('every step appends a leaf; the applicant gets a receipt for each', async () => {
    const app = await applied();
    await act(app.number, 'accept');
    await act(app.number, 'start_review');
    await act(app.number, 'approve');
    await act(app.number, 'complete');
    const list = await bearer(`${srv.url}/api/v1/applications/${app.number}/receipts`, tok.a);
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json.receipts.map((x) => x.action), ['submit', 'accept', 'start_review', 'approve', 'complete']);
    const idx = list.json.receipts.map((x) => x.leaf_index);
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i - 1] < idx[i], 'in the order they happened');
    approved = { number: app.number, receipts: list.json.receipts };
  });

  test('a receipt verifies independently: leaf hash, inclusion proof, signed checkpoint', async () => {
    const keys = await keysDoc();
    assert.equal(keys.log.keys[0].algorithm, 'Ed25519');
    for (const rc of approved.receipts) {
      const r = await bearer(`${srv.url}${rc.href}`, tok.a);
      assert.equal(r.status, 200, r.body);
      assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="receipt-/);
      const d = r.json;
      assert.equal(d.type, 'govhall.receipt/v1');
      assert.equal(d.leaf_index, rc.leaf_index);
      assert.ok(leafHash(d.leaf).equals(b64(d.leaf_hash)), 'leaf_hash = SHA-256(0x00 || leaf)');
      const leaf = JSON.parse(d.leaf);
      // The five decisions say so; submission and the start of review are other steps.
      assert.equal(leaf.kind, ['submit', 'start_review'].includes(rc.action) ? 'transition' : 'decision');
      assert.equal(leaf.action, rc.action);
      assert.equal(leaf.application, approved.number);
      // personal fields are salted hashes: no account id, name or ID number in clear
      assert.match(leaf.applicant, /^[0-9a-f]{64}$/);
      assert.ok(!d.leaf.includes(DEMO.citizen.id_number) && !d.leaf.includes(DEMO.citizen.name));
      const cp = checkCheckpoint(d.checkpoint, keys);
      assert.equal(cp.size, d.tree_size);
      assert.ok(cp.root.equals(b64(d.root)));
      assert.ok(verifyInclusion(d.leaf_index, d.tree_size, b64(d.leaf_hash), d.inclusion_proof.map(b64), cp.root),
        'inclusion proof');
    }
  });

  test('govhall verify accepts the receipt offline and refuses tampered ones', async () => {
    const keysFile = await writeJsonFile(tmp.path, 'keys.json', await keysDoc());
    const approval = approved.receipts.find((x) => x.action === 'approve');
    const r = await bearer(`${srv.url}${approval.href}`, tok.a);
    const good = await writeJsonFile(tmp.path, 'receipt.json', r.json);
    let v = await govhall(['verify', good, '--keys', keysFile], { keyFile: false });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /valid receipt/);
    const tampered = [
      { ...r.json, leaf: r.json.leaf.replace('"approve"', '"deny"') },
      { ...r.json, leaf_index: r.json.leaf_index + 1 },
      { ...r.json, inclusion_proof: r.json.inclusion_proof.slice(1) },
      { ...r.json, checkpoint: r.json.checkpoint.replace(/\n(\d+)\n/, (m, n) => `\n${Number(n) + 1}\n`) },
      { ...r.json, type: 'something/else' },
    ];
    for (const [i, doc] of tampered.entries()) {
      const f = await writeJsonFile(tmp.path, `bad-${i}.json`, doc);
      v = await govhall(['verify', f, '--keys', keysFile], { keyFile: false });
      assert.equal(v.code, 1, `tampered receipt ${i} accepted: ${v.stdout}`);
      assert.match(v.stdout, /INVALID/);
    }
    // keys of another hall: the checkpoint's signature is not by a published key
    const other = await keysDoc();
    other.log.keys[0].public_key = Buffer.alloc(32, 7).toString('base64');
    const otherFile = await writeJsonFile(tmp.path, 'other-keys.json', other);
    v = await govhall(['verify', good, '--keys', otherFile], { keyFile: false });
    assert.equal(v.code, 1, v.stdout);
    const notJson = await writeJsonFile(tmp.path, 'garbage.json', 'not a receipt');
    v = await govhall(['verify', notJson, '--keys', keysFile], { keyFile: false });
    assert.notEqual(v.code, 0);
  });

  test('refusal and denial are logged; the reason enters the leaf only as a salted hash', async () => {
    const a1 = await applied();
    await act(a1.number, 'refuse', { reason: '不属于本部门职权范围' });
    const a2 = await applied();
    await act(a2.number, 'accept');
    await act(a2.number, 'start_review');
    await act(a2.number, 'deny', { reason: '不符合申领条件', detail: { legal_basis: '《居民身份证法》第八条' } });
    for (const [number, actions] of [[a1.number, ['submit', 'refuse']], [a2.number, ['submit', 'accept', 'start_review', 'deny']]]) {
      const list = await bearer(`${srv.url}/api/v1/applications/${number}/receipts`, tok.a);
      assert.deepEqual(list.json.receipts.map((x) => x.action), actions);
      const last = list.json.receipts.at(-1);
      const leaf = await get(`${srv.url}/api/v1/ledger/leaves/${last.leaf_index}`);
      assert.equal(leaf.status, 200);
      const text = JSON.parse(leaf.body).leaf;
      assert.ok(!text.includes('不符合') && !text.includes('不属于'), text);
      assert.match(JSON.parse(text).reason, /^[0-9a-f]{64}$/);
    }
  });

  test('only those who may see the application get its receipts', async () => {
    const { number } = approved;
    const href = approved.receipts[0].href;
    for (const [who, status] of [['a', 200], ['psb', 200], ['b', 404], ['civ', 404]]) {
      const l = await bearer(`${srv.url}/api/v1/applications/${number}/receipts`, tok[who]);
      assert.equal(l.status, status, `${who} list: ${l.body}`);
      const r = await bearer(`${srv.url}${href}`, tok[who]);
      assert.equal(r.status, status, `${who} receipt: ${r.body}`);
    }
    assert.equal((await bearer(`${srv.url}/api/v1/applications/${number}/receipts`, null)).status, 401);
    // a leaf index that is not one of this application's
    const other = await bearer(`${srv.url}/api/v1/applications/${number}/receipts/0`, tok.a);
    assert.equal(other.status, 404);
    const bad = await bearer(`${srv.url}/api/v1/applications/${number}/receipts/-1`, tok.a);
    assert.equal(bad.status, 400);
    assert.ok(bad.json.error.message);
  });

  test('the application page links to the receipts page, which offers each download', async () => {
    const c = await pageLogin(srv.url, DEMO.citizen.phone);
    const d = await c.get(`/applications/${approved.number}`);
    assert.equal(d.status, 200);
    assert.ok(d.body.includes(`href="/applications/${approved.number}/receipts"`));
    const p = await c.get(`/applications/${approved.number}/receipts`);
    assert.equal(p.status, 200);
    assert.match(p.body, /办件回执/);
    for (const rc of approved.receipts) assert.ok(p.body.includes(`/applications/${approved.number}/receipts/${rc.leaf_index}`));
    const dl = await c.get(`/applications/${approved.number}/receipts/${approved.receipts[0].leaf_index}`);
    assert.equal(dl.status, 200);
    assert.equal(JSON.parse(dl.body).type, 'govhall.receipt/v1');
    const en = await c.get(`/applications/${approved.number}/receipts?lang=en`);
    assert.match(en.body, /Receipts/);
    const stranger = await pageLogin(srv.url, DEMO.agent.phone);
    assert.equal((await stranger.get(`/applications/${approved.number}/receipts`)).status, 404);
  });
});

describe('public API', () => {
  test('the signed tree head, leaves and proofs verify with the published key', async () => {
    const keys = await keysDoc();
    const cpr = await get(`${srv.url}/api/v1/ledger/checkpoint?fresh=1`);
    assert.equal(cpr.status, 200);
    const head = JSON.parse(cpr.body);
    const cp = checkCheckpoint(head.checkpoint, keys);
    assert.equal(cp.size, head.tree_size);
    assert.ok(head.tree_size > 100, 'the demo catalog versions are in the log');
    const txt = await get(`${srv.url}/ledger/checkpoint`);
    assert.equal(txt.body, head.checkpoint);
    for (const i of [0, 1, Math.floor(head.tree_size / 2), head.tree_size - 1]) {
      const p = JSON.parse((await get(`${srv.url}/api/v1/ledger/proofs/inclusion?index=${i}&size=${head.tree_size}`)).body);
      const l = JSON.parse((await get(`${srv.url}/api/v1/ledger/leaves/${i}`)).body);
      assert.ok(leafHash(l.leaf).equals(b64(l.leaf_hash)));
      assert.equal(p.leaf_hash, l.leaf_hash);
      assert.ok(b64(p.root).equals(cp.root));
      assert.ok(verifyInclusion(i, head.tree_size, b64(l.leaf_hash), p.proof.map(b64), cp.root), `inclusion of ${i}`);
      assert.ok(p.proof.length <= 2 * Math.ceil(Math.log2(head.tree_size)));
    }
    for (const first of [1, 2, 3, 7, 64, head.tree_size - 1, head.tree_size]) {
      const c = JSON.parse((await get(`${srv.url}/api/v1/ledger/proofs/consistency?first=${first}&second=${head.tree_size}`)).body);
      assert.ok(b64(c.second_root).equals(cp.root));
      assert.ok(verifyConsistency(first, head.tree_size, b64(c.first_root), cp.root, c.proof.map(b64)), `consistency ${first}`);
    }
    // a default size: the latest checkpoint
    const d = JSON.parse((await get(`${srv.url}/api/v1/ledger/proofs/inclusion?index=5`)).body);
    const dcp = checkCheckpoint(d.checkpoint, keys);
    assert.ok(verifyInclusion(5, d.tree_size, b64(d.leaf_hash), d.proof.map(b64), dcp.root));
  });

  test('bad requests get a 4xx with a message', async () => {
    const size = JSON.parse((await get(`${srv.url}/api/v1/ledger/checkpoint`)).body).tree_size;
    const cases = [
      ['/api/v1/ledger/leaves/abc', 400], ['/api/v1/ledger/leaves/99999999', 404], ['/api/v1/ledger/leaves/0001', 400],
      ['/api/v1/ledger/leaves/99999999999999999999', 400],
      ['/api/v1/ledger/proofs/inclusion', 400], ['/api/v1/ledger/proofs/inclusion?index=x', 400],
      ['/api/v1/ledger/proofs/inclusion?index=99999999', 404], ['/api/v1/ledger/proofs/inclusion?index=3&size=2', 400],
      [`/api/v1/ledger/proofs/inclusion?index=1&size=${size + 100}`, 400],
      ['/api/v1/ledger/proofs/consistency', 400], ['/api/v1/ledger/proofs/consistency?first=5&second=4', 400],
      ['/api/v1/ledger/proofs/consistency?first=0&second=4', 400],
      [`/api/v1/ledger/proofs/consistency?first=1&second=${size + 100}`, 400],
    ];
    for (const [p, status] of cases) {
      const r = await get(`${srv.url}${p}`);
      assert.equal(r.status, status, `${p}: ${r.body}`);
      assert.ok(JSON.parse(r.body).error.message, p);
    }
  });

  test('the public pages in Chinese and English', async () => {
    const zh = await get(`${srv.url}/ledger`);
    assert.equal(zh.status, 200);
    assert.match(zh.body, /公开日志/);
    assert.match(zh.body, /最新签名树头/);
    const en = await get(`${srv.url}/ledger?lang=en`);
    assert.match(en.body, /Transparency log/);
    const decision = approved.receipts.find((x) => x.action === 'approve');
    const leaf = await get(`${srv.url}/ledger/leaves/${decision.leaf_index}?lang=en`);
    assert.equal(leaf.status, 200);
    assert.match(leaf.body, /Inclusion proof/);
    assert.match(leaf.body, /Decision on an application/);
    const submitted = await get(`${srv.url}/ledger/leaves/${approved.receipts[0].leaf_index}?lang=en`);
    assert.match(submitted.body, /Step of an application/);
    const look = await fetch(`${srv.url}/ledger/leaf?index=3`, { redirect: 'manual' });
    assert.equal(look.status, 303);
    assert.equal(look.headers.get('location'), '/ledger/leaves/3');
    assert.equal((await get(`${srv.url}/ledger/leaves/99999999`)).status, 404);
  });

  test('an imported catalog change is a new catalog_item leaf', async () => {
    const before = JSON.parse((await get(`${srv.url}/api/v1/ledger/checkpoint?fresh=1`)).body).tree_size;
    const changed = { ...catalog.services.find((s) => s.code === 'psb-0002'), name_en: 'A renamed item for the log test' };
    const file = await writeJsonFile(tmp.path, 'change.json', { services: [changed] });
    const r = await govhall(['import', 'catalog', file, '--db', srv.db]);
    assert.equal(r.code, 0, r.stderr);
    const after = JSON.parse((await get(`${srv.url}/api/v1/ledger/checkpoint?fresh=1`)).body).tree_size;
    assert.equal(after, before + 1);
    const leaf = JSON.parse(JSON.parse((await get(`${srv.url}/api/v1/ledger/leaves/${before}`)).body).leaf);
    assert.equal(leaf.kind, 'catalog_item');
    assert.equal(leaf.code, 'psb-0002');
    assert.equal(leaf.version, 2);
    assert.equal(leaf.name_en, 'A renamed item for the log test');
  });
});

describe('govhall audit', () => {
  const audit = () => govhall(['audit', '--db', srv.db]);
  const hex = backend === 'postgres' ? (col) => `encode(${col}, 'hex')` : (col) => `lower(hex(${col}))`;
  const blob = backend === 'postgres' ? (h) => `decode('${h}', 'hex')` : (h) => `X'${h}'`;

  async function expectClean() {
    const r = await audit();
    assert.equal(r.code, 0, `audit of an untouched log:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /0 problem/);
  }

  /** Applies an alteration, expects audit to exit 1 with a line matching re, then restores. */
  async function detects(name, alter, restore, re) {
    await alter();
    const r = await audit();
    assert.equal(r.code, 1, `${name} not detected:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, re, `${name}:\n${r.stdout}`);
    await restore();
    await expectClean();
  }

  test('an untouched log passes; each kind of alteration is reported, one after another', async () => {
    await expectClean();
    const evId = await sql(srv.db, `SELECT e.id FROM application_events e JOIN applications a ON a.id = e.application_id
      WHERE a.number = '${approved.number}' AND e.action = 'approve'`);
    const leafIdx = await sql(srv.db, `SELECT idx FROM ledger_leaves WHERE ref = 'decision:${evId}'`);
    const reason = await sql(srv.db, `SELECT reason FROM application_events WHERE id = ${evId}`);

    // 1. a decision's row changed after the fact
    await detects('event row altered',
      () => sql(srv.db, `UPDATE application_events SET to_state = 'denied' WHERE id = ${evId}`),
      () => sql(srv.db, `UPDATE application_events SET to_state = 'approved' WHERE id = ${evId}`),
      new RegExp(`^application_events:${evId}: the row differs from what its latest logged action says`, 'm'));
    await detects('event reason altered',
      () => sql(srv.db, `UPDATE application_events SET reason = 'rewritten' WHERE id = ${evId}`),
      () => sql(srv.db, `UPDATE application_events SET reason = '${reason.replace(/'/g, "''")}' WHERE id = ${evId}`),
      new RegExp(`^application_events:${evId}: the row differs`, 'm'));
    // 2. the application's applicant swapped
    const appId = await sql(srv.db, `SELECT id FROM applications WHERE number = '${approved.number}'`);
    const applicant = await sql(srv.db, `SELECT applicant_id FROM applications WHERE id = ${appId}`);
    const other = await sql(srv.db, `SELECT id FROM accounts WHERE id <> ${applicant} ORDER BY id LIMIT 1`);
    await detects('applicant swapped',
      () => sql(srv.db, `UPDATE applications SET applicant_id = ${other} WHERE id = ${appId}`),
      () => sql(srv.db, `UPDATE applications SET applicant_id = ${applicant} WHERE id = ${appId}`),
      new RegExp(`^applications:${appId}: the row differs`, 'm'));
    // ... and its state, and its form's content, which no leaf of the first format held
    await detects('state changed',
      () => sql(srv.db, `UPDATE applications SET state = 'denied' WHERE id = ${appId}`),
      () => sql(srv.db, `UPDATE applications SET state = 'completed' WHERE id = ${appId}`),
      new RegExp(`^applications:${appId}: the row differs`, 'm'));
    const form = await sql(srv.db, `SELECT form FROM applications WHERE id = ${appId}`);
    await detects('form content changed',
      () => sql(srv.db, `UPDATE applications SET form = '${form.replace(/'/g, "''").replace(DEMO.citizen.name, '王五')}' WHERE id = ${appId}`),
      () => sql(srv.db, `UPDATE applications SET form = '${form.replace(/'/g, "''")}' WHERE id = ${appId}`),
      new RegExp(`^applications:${appId}: the row differs`, 'm'));
    // 3. a catalog item version rewritten in place
    const name = await sql(srv.db, `SELECT conditions_zh FROM service_items WHERE code = 'psb-0003' AND version = 1`);
    await detects('catalog version altered',
      () => sql(srv.db, `UPDATE service_items SET conditions_zh = 'changed' WHERE code = 'psb-0003' AND version = 1`),
      () => sql(srv.db, `UPDATE service_items SET conditions_zh = ${name === '' ? 'NULL' : `'${name.replace(/'/g, "''")}'`} WHERE code = 'psb-0003' AND version = 1`),
      /^service_items:psb-0003:1: the row differs/m);
    // 4. a leaf's text rewritten (stored as version 0: the text itself after a 0 byte), or its
    // stored bytes made into no leaf at all
    const leafText = (await govhall(['ledger', 'leaf', leafIdx, '--db', srv.db])).stdout.trim();
    assert.equal(leafText, JSON.parse((await get(`${srv.url}/api/v1/ledger/leaves/${leafIdx}`)).body).leaf);
    const stored = await sql(srv.db, `SELECT ${hex('leaf')} FROM ledger_leaves WHERE idx = ${leafIdx}`);
    assert.equal(stored.slice(0, 2), '01', 'a new leaf is stored packed');
    assert.ok(stored.length / 2 < Buffer.byteLength(leafText) / 2, `packed ${stored.length / 2} bytes, text ${leafText.length}`);
    const asText = (t) => blob(`00${Buffer.from(t).toString('hex')}`);
    const restoreLeaf = () => sql(srv.db, `UPDATE ledger_leaves SET leaf = ${blob(stored)} WHERE idx = ${leafIdx}`);
    assert.ok(leafText.includes('"approve"'));
    await detects('leaf text altered',
      () => sql(srv.db, `UPDATE ledger_leaves SET leaf = ${asText(leafText.replace('"approve"', '"deny"'))} WHERE idx = ${leafIdx}`),
      restoreLeaf,
      new RegExp(`the text of leaf ${leafIdx} \\(decision:${evId}\\) no longer hashes to it`));
    await detects('leaf stored form broken',
      () => sql(srv.db, `UPDATE ledger_leaves SET leaf = ${blob(`07${stored.slice(2)}`)} WHERE idx = ${leafIdx}`),
      restoreLeaf,
      new RegExp(`leaf ${leafIdx} \\(decision:${evId}\\): its stored form is not a leaf`));
    // the same text stored as version 0 is the same leaf
    await sql(srv.db, `UPDATE ledger_leaves SET leaf = ${asText(leafText)} WHERE idx = ${leafIdx}`);
    await expectClean();
    await restoreLeaf();
    // 5. a leaf rewritten together with its hash (kept once, in the tile of leaf hashes): the
    // tree no longer matches the signed heads
    const leafTile = Math.floor(Number(leafIdx) / 256);
    const leafTileHex = await sql(srv.db, `SELECT ${hex('hashes')} FROM ledger_tiles WHERE level = 0 AND idx = ${leafTile}`);
    const forged = leafText.replace('"approve"', '"deny"');
    const at = (Number(leafIdx) % 256) * 64;
    const forgedLeafTile = leafTileHex.slice(0, at) + leafHash(forged).toString('hex') + leafTileHex.slice(at + 64);
    await detects('leaf and hash rewritten',
      () => sql(srv.db, `UPDATE ledger_leaves SET leaf = ${asText(forged)} WHERE idx = ${leafIdx};
        UPDATE ledger_tiles SET hashes = ${blob(forgedLeafTile)} WHERE level = 0 AND idx = ${leafTile}`),
      () => sql(srv.db, `UPDATE ledger_leaves SET leaf = ${blob(stored)} WHERE idx = ${leafIdx};
        UPDATE ledger_tiles SET hashes = ${blob(leafTileHex)} WHERE level = 0 AND idx = ${leafTile}`),
      /checkpoint \d+: its root is not the root of the first \d+ leaves/);
    // ... and its salt (16 bytes on PostgreSQL, its hex text on SQLite): the rows it logs no
    // longer match it
    const saltOf = backend === 'postgres' ? hex('salt') : 'salt';
    const saltLit = backend === 'postgres' ? blob : (h) => `'${h}'`;
    const leafSalt = await sql(srv.db, `SELECT ${saltOf} FROM ledger_leaves WHERE idx = ${leafIdx}`);
    assert.match(leafSalt, /^[0-9a-f]{32}$/);
    await detects('leaf salt altered',
      () => sql(srv.db, `UPDATE ledger_leaves SET salt = ${saltLit(leafSalt.replace(/^./, (c) => (c === '0' ? '1' : '0')))} WHERE idx = ${leafIdx}`),
      () => sql(srv.db, `UPDATE ledger_leaves SET salt = ${saltLit(leafSalt)} WHERE idx = ${leafIdx}`),
      new RegExp(`its latest leaf ${leafIdx} \\(by ledger_refs\\) does not log it`));
    // 6. a stored tree hash changed (proofs through it would be wrong): the second leaf hash of
    // the first tile, then the tile cut short
    const tileHex = await sql(srv.db, `SELECT ${hex('hashes')} FROM ledger_tiles WHERE level = 0 AND idx = 0`);
    assert.ok(tileHex.length >= 3 * 64, 'the first tile holds at least three leaf hashes');
    const forgedTile = tileHex.slice(0, 64) + '00'.repeat(32) + tileHex.slice(128);
    await detects('tile altered',
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(forgedTile)} WHERE level = 0 AND idx = 0`),
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(tileHex)} WHERE level = 0 AND idx = 0`),
      /tile 0\/0: its hash of node 0\/1 differs from the recomputed tree/);
    await detects('tile cut short',
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(tileHex.slice(0, 128))} WHERE level = 0 AND idx = 0`),
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(tileHex)} WHERE level = 0 AND idx = 0`),
      /tile 0\/0: holds no hash of node 0\/2/);
    // ... and the rightmost tile of a level grown past the tree (the next append would fail)
    const [lastIdx, lastHex] = (await sql(srv.db,
      `SELECT idx || ':' || ${hex('hashes')} FROM ledger_tiles WHERE level = 0 ORDER BY idx DESC LIMIT 1`)).split(':');
    await detects('tile grown',
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(lastHex + 'ab'.repeat(32))} WHERE level = 0 AND idx = ${lastIdx}`),
      () => sql(srv.db, `UPDATE ledger_tiles SET hashes = ${blob(lastHex)} WHERE level = 0 AND idx = ${lastIdx}`),
      new RegExp(`^tile 0/${lastIdx}: holds \\d+ bytes, beyond the tree of \\d+ leaves`, 'm'));
    await detects('tile above the tree',
      () => sql(srv.db, `INSERT INTO ledger_tiles (level, idx, hashes) VALUES (3, 0, ${blob('cd'.repeat(32))})`),
      () => sql(srv.db, 'DELETE FROM ledger_tiles WHERE level = 3'),
      /^tile 3\/0: holds 32 bytes, beyond the tree/m);
    // 7. the log head's root replaced
    const headHex = await sql(srv.db, `SELECT ${hex('root')} FROM ledger_head`);
    await detects('head altered',
      () => sql(srv.db, `UPDATE ledger_head SET root = ${blob('11'.repeat(32))}`),
      () => sql(srv.db, `UPDATE ledger_head SET root = ${blob(headHex)}`),
      /log head: its root is not the root of the stored leaves/);
    // 8. a forged tree head (not consistent with the tree, not signed by the log key)
    await detects('forged checkpoint',
      () => sql(srv.db, `INSERT INTO ledger_checkpoints (size, root, note, key_id, created_at) VALUES (3, ${blob('22'.repeat(32))},
        'x/ledger\n3\n${Buffer.alloc(32, 0x22).toString('base64')}\n\n\u2014 x/ledger AAAAAAAA\n', 1, 0)`),
      () => sql(srv.db, 'DELETE FROM ledger_checkpoints WHERE size = 3'),
      /checkpoint 3: its root is not the root of the first 3 leaves/);
    // 9. a decision written straight into the database, bypassing the log
    await detects('event without leaf',
      () => sql(srv.db, `INSERT INTO application_events (application_id, at, actor_id, action, from_state, to_state, reason, detail)
        VALUES (${appId}, 1, NULL, 'approve', 'under_review', 'approved', '', '{}')`),
      () => sql(srv.db, `DELETE FROM application_events WHERE application_id = ${appId} AND at = 1`),
      /^application_events:\d+: no leaf in the log for this row/m);
    // 10. a decision's event deleted
    const evRow = await sql(srv.db, `SELECT application_id || '|' || at || '|' || COALESCE(CAST(actor_id AS TEXT), 'NULL') || '|' || detail FROM application_events WHERE id = ${evId}`);
    const [ea, eat, eactor, ...edetail] = evRow.split('|');
    await detects('event deleted',
      () => sql(srv.db, `DELETE FROM application_events WHERE id = ${evId}`),
      () => sql(srv.db, `INSERT INTO application_events (id, application_id, at, actor_id, action, from_state, to_state, reason, detail)
        ${backend === 'postgres' ? 'OVERRIDING SYSTEM VALUE' : ''} VALUES (${evId}, ${ea}, ${eat}, ${eactor}, 'approve', 'under_review', 'approved', '${reason.replace(/'/g, "''")}', '${edetail.join('|').replace(/'/g, "''")}')`),
      new RegExp(`^application_events:${evId}: the row is gone`, 'm'));
    // 11. a leaf deleted
    const row = await sql(srv.db, `SELECT kind || '|' || ref || '|' || salt || '|' || created_at FROM ledger_leaves WHERE idx = ${leafIdx}`);
    const [kind, ref, salt, created] = row.split('|');
    await detects('leaf deleted',
      () => sql(srv.db, `DELETE FROM ledger_leaves WHERE idx = ${leafIdx}`),
      () => sql(srv.db, `INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, created_at) VALUES (${leafIdx}, '${kind}', '${ref}',
        '${salt}', ${blob(stored)}, ${created})`),
      new RegExp(`leaves ${leafIdx}\\.\\.${leafIdx}: missing from ledger_leaves`));
  });
});

describe('command line', () => {
  test('ledger key list and rotate; checkpoints are signed by the current key', async () => {
    const db = await freshDb('ledger_cli');
    try {
      await initDb(db.url, { demo: false, keyFile: db.keyFile });
      let r = await govhall(['ledger', 'key', 'list', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^1\s.*Ed25519 \S+ .*\(current/m);
      const first = await govhall(['ledger', 'checkpoint', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(first.code, 0, first.stderr);
      r = await govhall(['ledger', 'key', 'rotate', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /log key 2 added/);
      r = await govhall(['ledger', 'key', 'list', '--db', db.url], { keyFile: db.keyFile });
      assert.match(r.stdout, /^1\s/m);
      assert.match(r.stdout, /^2\s.*\(current/m);
      const key1 = /^1\s+\S+\s+Ed25519 (\S+)/m.exec(r.stdout)[1];
      const key2 = /^2\s+\S+\s+Ed25519 (\S+)/m.exec(r.stdout)[1];
      // a new checkpoint (the tree grows by a catalog import) is signed by key 2
      const file = await writeJsonFile(tmp.path, 'cli-catalog.json', { departments: catalog.departments, services: catalog.services.slice(0, 2) });
      assert.equal((await govhall(['import', 'catalog', file, '--db', db.url], { keyFile: db.keyFile })).code, 0);
      const second = await govhall(['ledger', 'checkpoint', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(second.code, 0, second.stderr);
      const name = second.stdout.split('\n')[0];
      const doc = (pk) => ({ log: { origin: name, keys: [{ id: 1, name, algorithm: 'Ed25519', public_key: pk }] } });
      // init logged the seeded calendar; the import adds a leaf per item
      const size1 = checkCheckpoint(first.stdout, doc(key1)).size;
      assert.equal(checkCheckpoint(second.stdout, doc(key2)).size, size1 + 2);
      assert.throws(() => checkCheckpoint(second.stdout, doc(key1)));
      // usage errors
      assert.equal((await govhall(['ledger', 'key', 'burn', '--db', db.url], { keyFile: db.keyFile })).code, 2);
      assert.equal((await govhall(['verify'], { keyFile: false })).code, 2);
    } finally {
      await db.drop();
    }
  });

  test('rows stored before the log existed are reported by audit, then logged by backfill', async () => {
    const db = await freshDb('ledger_backfill');
    try {
      await initDb(db.url, { demo: true, keyFile: db.keyFile });
      const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; // SHA-256 of nothing
      const [noBytes, emptyRoot] = backend === 'postgres'
        ? ["decode('', 'hex')", `decode('${EMPTY}', 'hex')`] : ["X''", `X'${EMPTY}'`];
      for (const q of ['DELETE FROM ledger_leaves', 'DELETE FROM ledger_tiles', 'DELETE FROM ledger_checkpoints', 'DELETE FROM ledger_refs']) await sql(db.url, q);
      await sql(db.url, `UPDATE ledger_head SET size = 0, frontier = ${noBytes}, root = ${emptyRoot}, signed_size = 0`);
      let r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^service_items:psb-0001:1: no leaf in the log/m);
      assert.match(r.stdout, /^accounts:1: no leaf in the log/m);
      r = await govhall(['ledger', 'backfill', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /logged \d+ catalog item version/);
      r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
      assert.equal(r.code, 0, r.stdout);
    } finally {
      await db.drop();
    }
  });
});
