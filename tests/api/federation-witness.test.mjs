// federation-witness.test.mjs: halls witness each other's transparency logs (C2SP tlog-witness,
// tlog-cosignature), and a certificate issued by one hall verifies at another, at the hub and
// offline from the hub's directory. A hub, Qinghe and Lanshan (both with the demo's accounts) join the
// federation, and a probe hall whose log key this file holds registers a log of its own, so
// that the test can sign checkpoints of any tree and send them to the halls' witnesses with
// real consistency proofs. Merkle trees, checkpoints and cosignatures are computed here apart
// from the server's C code (RFC 6962 hashing, C2SP signed notes), so the server is checked
// against a second implementation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEMO, actOn, apiLogin, applyOnline, bearer, demoCatalog, get, getJson, govhall, htmlText, sql, startServer, tempDir, waitFor,
} from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';
import { addClient as fedAddClient, b64url, joinHall, signedHeaders } from './federation-fixtures.mjs';

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();
const leafHash = (d) => sha([0], d);
const nodeHash = (l, r) => sha([1], l, r);
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
/** MTH(D[0:n]) over leaf hashes (RFC 6962 2.1). */
function mth(h) {
  if (h.length === 1) return h[0];
  const k = split(h.length);
  return nodeHash(mth(h.slice(0, k)), mth(h.slice(k)));
}
/** PROOF(m, D[0:n]) (RFC 6962 2.1.2). */
function consistency(m, h, complete = true) {
  if (m === h.length) return complete ? [] : [mth(h)];
  const k = split(h.length);
  if (m <= k) return [...consistency(m, h.slice(0, k), complete), mth(h.slice(k))];
  return [...consistency(m - k, h.slice(k), false), mth(h.slice(0, k))];
}
const leaves = (tag, n) => Array.from({ length: n }, (_, i) => leafHash(`${tag}-${i}`));

const ORIGIN = 'probe.example/ledger';
const logKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const rawPub = (k) => Buffer.from(k.publicKey.export({ format: 'jwk' }).x, 'base64url');

/** A C2SP checkpoint of (size, root) signed by key under the name origin. */
function checkpoint(size, root, key = logKey, origin = ORIGIN) {
  const body = `${origin}\n${size}\n${root.toString('base64')}\n`;
  const keyId = sha(origin, '\n', [1], rawPub(key)).subarray(0, 4);
  const sig = edSign(null, Buffer.from(body), key.privateKey);
  return `${body}\n\u2014 ${origin} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
}

/** The log key of a hall started by this file (its key file's current key), as a key pair. */
function hallLogKey(h) {
  const lines = readFileSync(`${h.keyFile}.ledger`, 'utf8').split('\n').filter((l) => /^\d+ /.test(l));
  const seed = Buffer.from(lines.at(-1).split(' ')[2], 'hex');
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const addBody = (old, proof, note) => `old ${old}\n${proof.map((p) => `${p.toString('base64')}\n`).join('')}\n${note}`;

/** Checks a cosignature line of witness (name, raw public key) over note: its timestamp. */
function cosignatureTime(line, note, name, pk) {
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(line);
  assert.ok(m, `a signature line: ${JSON.stringify(line)}`);
  assert.equal(m[1], name);
  const raw = Buffer.from(m[2], 'base64');
  assert.equal(raw.length, 76, 'key ID, timestamp and Ed25519 signature');
  assert.deepEqual(raw.subarray(0, 4), sha(name, '\n', [4], pk).subarray(0, 4), 'the cosignature key ID');
  const t = raw.readBigUInt64BE(4);
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' });
  assert.ok(edVerify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${body}`), key, raw.subarray(12)), 'the cosignature verifies');
  return Number(t);
}

let hub;
let hubUrl;
let qinghe;
let qingheUrl;
let lanshan;
let lanshanUrl;
let tmp;

const addClient = (id) => fedAddClient(hub.db, id);

const hallArgs = (port, url, id, secret) => ['--listen', `127.0.0.1:${port}`, '--public-url', url, '--fed-hub-url', hubUrl,
  '--fed-client-id', id, '--fed-client-secret', secret, '--fed-directory-period', '1', '--fed-witness-period', '1', '--fed-timeout', '1500'];

const join = (h, id, name, url) => joinHall({ url: hubUrl, db: hub.db }, h.db, h.keyFile, id, name, url);

const post = (url, body) => fetch(`${url}/add-checkpoint`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
const witnessName = (url) => `${url.replace(/^https?:\/\//, '')}/witness`;
let directory; // Qinghe's copy of the hub's directory

before(async () => {
  const hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  hub = await startServer({ name: 'fwit_hub', demo: false, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub'] });
  const qs = await addClient('qinghe');
  const ls = await addClient('lanshan');
  await addClient('probe');
  await addClient('mimic');
  const qPort = await freePort();
  qingheUrl = `http://127.0.0.1:${qPort}`;
  // Each hall's log is named by its own address (the origin is fixed when the log is made).
  qinghe = await startServer({ name: 'fwit_qinghe', initArgs: ['--public-url', qingheUrl], extraArgs: hallArgs(qPort, qingheUrl, 'qinghe', qs) });
  const lPort = await freePort();
  lanshanUrl = `http://127.0.0.1:${lPort}`;
  lanshan = await startServer({ name: 'fwit_lanshan', initArgs: ['--public-url', lanshanUrl], extraArgs: hallArgs(lPort, lanshanUrl, 'lanshan', ls) });
  await join(qinghe, 'qinghe', '清河市', qingheUrl);
  await join(lanshan, 'lanshan', '兰山市', lanshanUrl);

  // The probe registers a log of its own: its origin and the key this file signs with.
  const msgKey = generateKeyPairSync('ed25519');
  const kid = 'probe-1';
  const reg = JSON.stringify({ id: 'probe', name: '试点', region: '试点', base_url: 'http://127.0.0.1:9',
    keys: [{ kid, x: msgKey.publicKey.export({ format: 'jwk' }).x }], log: { origin: ORIGIN, keys: [rawPub(logKey).toString('base64')] } });
  const url = `${hubUrl}/federation/halls`;
  const r = await fetch(url, { method: 'POST', body: reg, headers: signedHeaders(url, reg, msgKey.privateKey, kid) });
  assert.equal(r.status, 202, await r.text());
  assert.equal((await govhall(['federation', 'hall', 'approve', 'probe', '--db', hub.db])).code, 0);

  for (const u of [qingheUrl, lanshanUrl]) {
    await waitFor(async () => {
      const d = await getJson(`${u}/federation/directory`);
      const ok = d.status === 200 && ['qinghe', 'lanshan', 'probe'].every((id) => d.json.halls.some((h) => h.id === id && h.log));
      if (ok && u === qingheUrl) directory = d.json;
      return ok;
    }, { what: `${u} to hold the directory with the three halls' logs` });
  }
  tmp = await tempDir('govhall-witness-');
});

after(async () => {
  await Promise.allSettled([hub?.stop(), qinghe?.stop(), lanshan?.stop()]);
  await tmp?.remove();
});

const A = leaves('a', 12); // the probe's tree
const B = [...A.slice(0, 8), ...leaves('b', 4)]; // another tree sharing its first 8 leaves

describe('add-checkpoint', () => {
  test('answers as C2SP tlog-witness says: 400, 404, 403, 200 with a cosignature, 409 with the size held, 422', async () => {
    const note5 = checkpoint(5, mth(A.slice(0, 5)));
    // Malformed bodies and an old size above the checkpoint's: 400.
    for (const bad of ['', 'old 01\n\n' + note5, 'old 0\nnot a hash\n\n' + note5, 'old 0\n' + note5, addBody(6, [], note5)]) {
      const res = await post(qingheUrl, bad);
      assert.equal(res.status, 400, JSON.stringify(bad.slice(0, 20)));
      assert.ok((await res.text()).length > 0, 'the refusal says why');
    }
    // A log the directory does not name: 404.
    const foreign = checkpoint(5, mth(A.slice(0, 5))).replaceAll(ORIGIN, 'elsewhere.example/log');
    assert.equal((await post(qingheUrl, addBody(0, [], foreign))).status, 404);
    // Signed by a key the directory does not give the log: 403.
    assert.equal((await post(qingheUrl, addBody(0, [], checkpoint(5, mth(A.slice(0, 5)), otherKey)))).status, 403);

    // The first checkpoint from old size 0: cosigned.
    let res = await post(qingheUrl, addBody(0, [], note5));
    assert.equal(res.status, 200);
    const line = await res.text();
    const qh = directory.halls.find((h) => h.id === 'qinghe');
    const t = cosignatureTime(line, note5, witnessName(qingheUrl), Buffer.from(qh.keys[0].x, 'base64url'));
    assert.ok(Math.abs(t - Date.now() / 1000) < 600, 'a timestamp of now');

    // The old size must be the size the witness holds: 409 with that size.
    res = await post(qingheUrl, addBody(0, [], checkpoint(8, mth(A.slice(0, 8)))));
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'text/x.tlog.size');
    assert.equal(await res.text(), '5\n');

    // A proof that does not lead from the held tree: 422, and nothing changes.
    const note8 = checkpoint(8, mth(A.slice(0, 8)));
    const wrong = consistency(5, B.slice(0, 8)).map((h, i) => (i === 0 ? sha('tampered') : h));
    assert.equal((await post(qingheUrl, addBody(5, wrong, note8))).status, 422);
    assert.equal((await post(qingheUrl, addBody(5, [sha('x')], note8))).status, 422);
    // The right proof: cosigned, and the held size moves on.
    res = await post(qingheUrl, addBody(5, consistency(5, A.slice(0, 8)), note8));
    assert.equal(res.status, 200, await res.clone().text());
    cosignatureTime(await res.text(), note8, witnessName(qingheUrl), Buffer.from(qh.keys[0].x, 'base64url'));
    // The same checkpoint again from its own size: cosigned again.
    assert.equal((await post(qingheUrl, addBody(8, [], note8))).status, 200);
    const held = await sql(qinghe.db, `SELECT size, hall_id FROM witness_logs WHERE origin = '${ORIGIN}'`);
    assert.equal(held, '8|probe');
  });

  test('a planted split view (another checkpoint of the size held) is refused, recorded, alarmed and shown', async () => {
    const other8 = checkpoint(8, mth(B.slice(0, 8).map((h, i) => (i === 7 ? sha('fork') : h))));
    const res = await post(qingheUrl, addBody(8, [], other8));
    assert.equal(res.status, 409);
    assert.equal(await res.text(), '8\n');
    const api = await getJson(`${qingheUrl}/api/v1/witness/splits`);
    assert.equal(api.status, 200);
    const s = api.json.splits.find((x) => x.hall === 'probe' && x.size === 8);
    assert.ok(s, 'the split view is listed');
    assert.equal(s.source, 'witness');
    assert.equal(s.checkpoint_b, other8);
    assert.notEqual(s.root_a, s.root_b);
    // Administrators are told in their inboxes.
    const inbox = await sql(qinghe.db, "SELECT i.title_en FROM inbox i JOIN accounts a ON a.id = i.account_id WHERE i.kind = 'witness_split' AND a.kind = 'admin'");
    assert.ok(inbox.length > 0, 'an administrator has the alarm');
    assert.match(inbox.split('\n')[0], /probe/);
    // The public page shows it.
    const page = await get(`${qingheUrl}/witness/splits`);
    assert.equal(page.status, 200);
    const html = htmlText(page.body);
    assert.ok(html.includes(s.root_b) && html.includes('probe'), 'the page shows the other root and the hall');
    // Sent again: recorded once.
    await post(qingheUrl, addBody(8, [], other8));
    assert.equal((await getJson(`${qingheUrl}/api/v1/witness/splits`)).json.splits.filter((x) => x.hall === 'probe' && x.size === 8).length, 1);
  });

  test('two halls shown different checkpoints of one size find the split view in each other\'s published views', async () => {
    // Qinghe moves from 8 to 12 on tree A; Lanshan, never asked before, takes B's 12 from 0.
    const qa = await post(qingheUrl, addBody(8, consistency(8, A), checkpoint(12, mth(A))));
    assert.equal(qa.status, 200, await qa.clone().text());
    assert.equal((await post(lanshanUrl, addBody(0, [], checkpoint(12, mth(B))))).status, 200);
    const found = await waitFor(async () => {
      const r = await getJson(`${lanshanUrl}/api/v1/witness/splits`);
      return r.json.splits.find((x) => x.hall === 'probe' && x.size === 12 && x.source === 'gossip');
    }, { what: 'Lanshan to find the split view in Qinghe\'s view' });
    assert.equal(found.reported_by, 'qinghe');
    assert.equal(found.root_a, mth(B).toString('base64'));
    assert.equal(found.root_b, mth(A).toString('base64'));
  });
});

test('the hub refuses a second hall that names its log with another hall\'s origin', async () => {
  const key = generateKeyPairSync('ed25519');
  const reg = JSON.stringify({ id: 'mimic', name: '仿冒', region: '仿冒', base_url: 'http://127.0.0.1:9',
    keys: [{ kid: 'mimic-1', x: key.publicKey.export({ format: 'jwk' }).x }], log: { origin: ORIGIN, keys: [rawPub(otherKey).toString('base64')] } });
  const url = `${hubUrl}/federation/halls`;
  const r = await fetch(url, { method: 'POST', body: reg, headers: signedHeaders(url, reg, key.privateKey, 'mimic-1') });
  assert.equal(r.status, 409);
  assert.match((await r.json()).error_description, /origin/);
});

describe('cosignatures of a hall\'s checkpoints', () => {
  test('a hall\'s published checkpoint carries the other halls\' cosignatures, which govhall verify counts against k', async () => {
    assert.equal((await govhall(['ledger', 'checkpoint', '--db', qinghe.db], { keyFile: qinghe.keyFile })).code, 0);
    const lh = directory.halls.find((h) => h.id === 'lanshan');
    const note = await waitFor(async () => {
      const text = (await get(`${qingheUrl}/ledger/checkpoint`)).body;
      return text.includes(`\u2014 ${witnessName(lanshanUrl)} `) ? text : null;
    }, { what: 'Qinghe\'s checkpoint to carry Lanshan\'s cosignature' });
    const line = note.split('\n').find((l) => l.startsWith(`\u2014 ${witnessName(lanshanUrl)} `)) + '\n';
    // The JSON of the checkpoint carries the cosignatures too.
    await waitFor(async () => (await getJson(`${qingheUrl}/api/v1/ledger/checkpoint`)).json.checkpoint.includes(`\u2014 ${witnessName(lanshanUrl)} `),
      { what: 'the JSON checkpoint to carry the cosignature' });
    cosignatureTime(line, note, witnessName(lanshanUrl), Buffer.from(lh.keys[0].x, 'base64url'));

    const cp = path.join(tmp.path, 'checkpoint.txt');
    const dir = path.join(tmp.path, 'directory.json');
    await writeFile(cp, note);
    await writeFile(dir, JSON.stringify(directory));
    let r = await govhall(['verify', cp, '--directory', dir, '--cosigned', '1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^VALID: checkpoint of qinghe/);
    // The probe never cosigns: two cosignatures cannot be had.
    r = await govhall(['verify', cp, '--directory', dir, '--cosigned', '2']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /INVALID: .* carries 1 cosignature\(s\) .*; 2 required/);
    // A cosignature altered by one byte is refused, not merely not counted.
    const bad = note.replace(line, line.replace(/(\S)\n$/, (m, c) => `${c === 'A' ? 'B' : 'A'}\n`));
    await writeFile(cp, bad);
    r = await govhall(['verify', cp, '--directory', dir, '--cosigned', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /INVALID/);
    // Without --directory, a k requirement is a usage error with the fix.
    r = await govhall(['verify', cp, '--cosigned', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--directory/);
  });

  test('the witnesses\' state and the split views are rows the audit covers: an alteration is found', async () => {
    const audit = () => govhall(['audit', '--db', qinghe.db], { keyFile: qinghe.keyFile });
    let r = await audit();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Altered behind the application's back (and put back): each is reported with its row.
    for (const [table, col, where] of [['witness_logs', 'size', `origin = '${ORIGIN}'`], ['witness_splits', 'size', `origin = '${ORIGIN}'`]]) {
      const was = await sql(qinghe.db, `SELECT ${col} FROM ${table} WHERE ${where} ORDER BY 1 LIMIT 1`);
      await sql(qinghe.db, `UPDATE ${table} SET ${col} = ${col} + 1000 WHERE ${where} AND ${col} = ${was}`);
      r = await audit();
      assert.notEqual(r.code, 0, `${table}.${col} altered`);
      assert.match(r.stdout, new RegExp(`${table}:\\S+: the row differs`));
      await sql(qinghe.db, `UPDATE ${table} SET ${col} = ${was} WHERE ${where} AND ${col} = ${Number(was) + 1000}`);
    }
    r = await audit();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cov = await govhall(['audit', '--coverage', '--db', qinghe.db], { keyFile: qinghe.keyFile });
    assert.match(cov.stdout, /witness_logs/);
    assert.match(cov.stdout, /witness_splits/);
  });
});

describe('a hall\'s own log', () => {
  // After the cosignatures above: Lanshan's witness, shown this fork, refuses Qinghe's real
  // checkpoints from then on (422), as a witness must.
  test('a hall finds a split view of its own log in another hall\'s view (its log key used behind its back)', async () => {
    // Someone holding Qinghe's log key shows Lanshan's witness a history of Qinghe's log that
    // shares Qinghe's first leaves and then differs, with a consistency proof that holds.
    const origin = `${new URL(qingheUrl).host}/ledger`;
    const key = hallLogKey(qinghe);
    let forged;
    await waitFor(async () => {
      const view = (await getJson(`${lanshanUrl}/witness/logs`)).json.logs.find((l) => l.origin === origin);
      if (!view) return false;
      const held = view.size;
      const real = [];
      for (let i = 0; i < held; i++) real.push(Buffer.from((await getJson(`${qingheUrl}/api/v1/ledger/leaves/${i}`)).json.leaf_hash, 'base64'));
      const fake = [...real, ...leaves('forged', 3)];
      forged = { size: fake.length, root: mth(fake) };
      const res = await post(lanshanUrl, addBody(held, consistency(held, fake), checkpoint(fake.length, forged.root, key, origin)));
      return res.status === 200; // 409: Qinghe's own checkpoint moved Lanshan on meanwhile; again
    }, { what: 'Lanshan\'s witness to cosign the forged checkpoint of Qinghe\'s log' });
    // Qinghe's duty reads Lanshan's view, and its own tree at that size says otherwise, once
    // its own log is that large: each round grows it (its witness takes the probe's next
    // checkpoint) and signs a checkpoint.
    let probeSize = 12; // what Qinghe holds of the probe's log (tree A) since the tests above
    const found = await waitFor(async () => {
      const T = leaves('a', probeSize + 1);
      if ((await post(qingheUrl, addBody(probeSize, consistency(probeSize, T), checkpoint(T.length, mth(T))))).status === 200) probeSize++;
      await get(`${qingheUrl}/api/v1/ledger/checkpoint?fresh=1`);
      const r = await getJson(`${qingheUrl}/api/v1/witness/splits`);
      return r.json.splits.find((x) => x.origin === origin && x.source === 'gossip');
    }, { what: 'Qinghe to find the split view of its own log' });
    assert.equal(found.hall, 'qinghe');
    assert.equal(found.reported_by, 'lanshan');
    assert.equal(found.size, forged.size);
    assert.equal(found.root_b, forged.root.toString('base64'));
    assert.notEqual(found.root_a, found.root_b);
  });
});

describe('certificates across halls', () => {
  test('a certificate issued by Lanshan verifies at Qinghe, at the hub and offline from the directory', async () => {
    // Lanshan issues a marriage certificate (its department's key is made at the first one).
    const item = demoCatalog().services.find((x) => x.code === 'civ-0001');
    const citizen = (await apiLogin(lanshanUrl, DEMO.citizen.phone)).token;
    const staff = (await apiLogin(lanshanUrl, DEMO.staffB.phone)).token;
    const a = await applyOnline(lanshanUrl, citizen, item);
    assert.equal(a.status, 201, a.body);
    for (const act of ['accept', 'start_review', 'approve']) assert.equal((await actOn(lanshanUrl, staff, a.json.number, act)).status, 200);
    const w = await bearer(`${lanshanUrl}/api/v1/wallet`, citizen);
    const number = w.json.items.find((c) => c.application === a.json.number).number;
    const doc = (await bearer(`${lanshanUrl}/api/v1/certs/${number}`, citizen)).json.document;

    // Before Lanshan's keys are in the directory, Qinghe does not know the certificate.
    assert.equal((await bearer(`${qingheUrl}/api/v1/verify`, null, { method: 'POST', json: doc })).json.status, 'unknown');
    // Lanshan joins again: its registration now carries its keys document with the new key,
    // published at once (the hub's decision on Lanshan stands).
    const again = await govhall(['federation', 'join', '--name', '兰山市', '--region', '兰山市', '--db', lanshan.db, '--fed-hub-url', hubUrl,
      '--fed-client-id', 'lanshan', '--public-url', lanshanUrl], { keyFile: lanshan.keyFile });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged, the hub's decision stands/);
    directory = await waitFor(async () => {
      const d = await getJson(`${qingheUrl}/federation/directory`);
      const l = d.json.halls?.find((h) => h.id === 'lanshan');
      return l && JSON.stringify(l.keys_document ?? {}).includes(doc.signature.key_id) ? d.json : null;
    }, { what: 'Qinghe to hold a directory with Lanshan\'s certificate key' });

    for (const [where, url] of [['Qinghe', qingheUrl], ['the hub', hubUrl]]) {
      const v = await bearer(`${url}/api/v1/verify`, null, { method: 'POST', json: doc });
      assert.equal(v.status, 200, v.body);
      assert.equal(v.json.status, 'valid', `${where}: ${v.body}`);
      assert.equal(v.json.checks.signature, true);
      assert.equal(v.json.checks.inclusion, true);
      assert.equal(v.json.issuer_log, new URL(lanshanUrl).host + '/ledger');
      // Altered by one character: not valid anywhere.
      const forged = structuredClone(doc);
      forged.certificate.holder.name = '李四';
      assert.notEqual((await bearer(`${url}/api/v1/verify`, null, { method: 'POST', json: forged })).json.status, 'valid', where);
    }

    const file = path.join(tmp.path, 'certificate.json');
    const dir = path.join(tmp.path, 'directory.json');
    await writeFile(file, JSON.stringify(doc));
    await writeFile(dir, JSON.stringify(directory));
    const r = await govhall(['verify', file, '--directory', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /signature: ok/);
    const forged = structuredClone(doc);
    forged.certificate.holder.name = '李四';
    await writeFile(file, JSON.stringify(forged));
    assert.equal((await govhall(['verify', file, '--directory', dir])).code, 1);
  });
});
