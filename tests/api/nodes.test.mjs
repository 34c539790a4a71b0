// Stateless nodes: two `govhall serve` processes on one database (PostgreSQL in the PostgreSQL
// run, one SQLite file in the SQLite run). A file uploaded through one node is served by the
// other (attachments of applications, large enough to take several chunks, and of published
// information); a second `init` without the key files refuses and makes no key; a node whose
// key files differ from the ones the database publishes refuses to start and says what to
// copy; `init` with the right key files only upgrades; files an earlier version kept on disk
// are moved in by `govhall uploads import`; and, on PostgreSQL, one node holds exactly the
// connections docs/operations.md lists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEMO, DEMO_PASSWORD, apiLogin, backend, bearer, demoCatalog, demoForm, freshDb, freshIp, freshTotp, get, govhall,
  initDb, samplePdf, serve, sql, tempDir, uploadAttachment, waitFor,
} from './helpers.mjs';

let db;
let nodeA;
let nodeB;
const tok = {};

before(async () => {
  db = await freshDb('nodes');
  await initDb(db.url, { keyFile: db.keyFile });
  [nodeA, nodeB] = await Promise.all([
    serve(db.url, { keyFile: db.keyFile }),
    serve(db.url, { keyFile: db.keyFile }),
  ]);
  tok.citizen = (await apiLogin(nodeA.url, DEMO.citizen.phone)).token;
  tok.psb = (await apiLogin(nodeA.url, DEMO.staffA.phone)).token;
  tok.admin = (await apiLogin(nodeB.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await db?.drop();
});

const ITEM = demoCatalog().services.find((s) => s.department === 'psb' && s.online_depth >= 3 && s.materials.some((m) => m.required));
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Applies through node with one file for every required material; the first file given. */
async function applyWith(node, file) {
  const materials = [];
  let first = null;
  for (const [i, m] of ITEM.materials.entries()) {
    if (!m.required) continue;
    const up = await uploadAttachment(node.url, tok.citizen, first ? samplePdf() : file);
    assert.equal(up.status, 201, up.body);
    first ??= up.json.id;
    materials.push({ slot: i, attachments: [up.json.id] });
  }
  const r = await bearer(`${node.url}/api/v1/services/${ITEM.code}/applications`, tok.citizen, {
    method: 'POST', json: { form: demoForm(ITEM), materials, submit: true, idempotency_key: `nodes-${Math.random()}` },
  });
  assert.equal(r.status, 201, r.body);
  return { number: r.json.number, attachment: first };
}

async function download(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), buf: Buffer.from(await res.arrayBuffer()) };
}

describe('any node serves any file', () => {
  test('an attachment uploaded through one node is served by the other, byte for byte', async () => {
    // Larger than two chunks of 256 KiB, so the other node reassembles it from several rows.
    const file = samplePdf(600 * 1024);
    const { number, attachment } = await applyWith(nodeA, file);
    const href = `/api/v1/applications/${number}/attachments/${attachment}`;
    for (const [node, token] of [[nodeB, tok.citizen], [nodeB, tok.psb], [nodeA, tok.citizen]]) {
      const r = await download(`${node.url}${href}`, token);
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/pdf');
      assert.equal(r.buf.length, file.length);
      assert.equal(sha256(r.buf), sha256(file));
    }
    // No node keeps files of its own: the database holds them.
    assert.equal(await sql(db.url, `SELECT COUNT(*) FROM blobs WHERE sha256 = '${sha256(file)}'`), '1');
    assert.equal(await sql(db.url, `SELECT COUNT(*) FROM blob_chunks WHERE sha256 = '${sha256(file)}'`), '3');
    // Access rules are the same on every node.
    const stranger = (await apiLogin(nodeB.url, DEMO.agent.phone)).token;
    assert.ok([403, 404].includes((await download(`${nodeB.url}${href}`, stranger)).status));
  });

  test('a file of published information uploaded through one node is served by the other', async () => {
    const created = await bearer(`${nodeA.url}/api/v1/publish`, tok.psb, {
      method: 'POST', json: { category: 'announcement', title_zh: '多节点附件', body_zh: '正文' },
    });
    assert.equal(created.status, 201, created.body);
    const id = created.json.id;
    const file = samplePdf(300 * 1024);
    const fd = new FormData();
    fd.append('file', new Blob([file]), 'notice.pdf');
    const up = await fetch(`${nodeA.url}/api/v1/publish/${id}/attachments`, {
      method: 'POST', body: fd, headers: { authorization: `Bearer ${tok.psb}`, 'x-forwarded-for': freshIp() },
    });
    assert.equal(up.status, 201, await up.text());
    assert.equal((await bearer(`${nodeA.url}/api/v1/publish/${id}/actions/submit`, tok.psb, { method: 'POST', json: {} })).status, 200);
    const ok = await bearer(`${nodeB.url}/api/v1/publish/${id}/actions/approve`, tok.admin, { method: 'POST', json: {} });
    assert.equal(ok.status, 200, ok.body);
    const doc = await bearer(`${nodeB.url}/api/v1/publish/${id}`, null);
    const r = await download(`${nodeB.url}${doc.json.attachments[0].href}`);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.buf), sha256(file));
  });
});

describe('keys', () => {
  test('a second init without the key files refuses, names them and makes none', async () => {
    const dir = await tempDir('govhall-nodes-nokey-');
    const keyFile = path.join(dir.path, 'govhall.key');
    const r = await govhall(['init', '--db', db.url], { keyFile });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /initialised/);
    assert.ok(r.stderr.includes(keyFile), r.stderr);
    assert.match(r.stderr, /scp -p/);
    assert.ok(!existsSync(keyFile) && !existsSync(`${keyFile}.ledger`), 'init made a key for an initialised database');
    // The database still publishes one key of each kind, the original ones.
    assert.equal(await sql(db.url, 'SELECT COUNT(*) FROM hall_keys'), '2');
    // With the key files copied over, init upgrades and succeeds.
    await copyFile(db.keyFile, keyFile);
    await copyFile(`${db.keyFile}.ledger`, `${keyFile}.ledger`);
    const again = await govhall(['init', '--db', db.url], { keyFile });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await sql(db.url, 'SELECT COUNT(*) FROM hall_keys'), '2');
    await dir.remove();
  });

  test('a node whose key file differs refuses to start, and says which file to copy', async () => {
    // Another hall's key files: made by init of another database.
    const other = await freshDb('nodes_other');
    await initDb(other.url, { demo: false, keyFile: other.keyFile });
    const dir = await tempDir('govhall-nodes-mixed-');
    const cases = [
      { name: 'both differ', data: other.keyFile, ledger: `${other.keyFile}.ledger`, want: /key 1 in .*govhall\.key is not/ },
      { name: 'the log key differs', data: db.keyFile, ledger: `${other.keyFile}.ledger`, want: /log signing key 1 in .*\.ledger is not/ },
      { name: 'the data key differs', data: other.keyFile, ledger: `${db.keyFile}.ledger`, want: /key 1 in .*govhall\.key is not/ },
    ];
    for (const c of cases) {
      const keyFile = path.join(dir.path, c.name.replace(/ /g, '-'), 'govhall.key');
      await mkdir(path.dirname(keyFile));
      await copyFile(c.data, keyFile);
      await copyFile(c.ledger, `${keyFile}.ledger`);
      const r = await govhall(['serve', '--db', db.url, '--listen', '127.0.0.1:0', '--threads', '1'], { keyFile, timeout: 60_000 });
      assert.notEqual(r.code, 0, `${c.name}: it started`);
      assert.ok(!/listening on/.test(r.stdout), c.name);
      assert.match(r.stderr, c.want, c.name);
      assert.ok(r.stderr.includes(`scp -p NODE:${keyFile}`), r.stderr);
      // init refuses too, and changes nothing.
      const i = await govhall(['init', '--db', db.url], { keyFile });
      assert.notEqual(i.code, 0, c.name);
    }
    // A key file with a key the database does not publish (rotated against another database).
    const extra = path.join(dir.path, 'extra', 'govhall.key');
    await mkdir(path.dirname(extra));
    await copyFile(db.keyFile, extra);
    await copyFile(`${db.keyFile}.ledger`, `${extra}.ledger`);
    await writeFile(extra, `2 ${'ab'.repeat(32)}\n`, { flag: 'a' });
    const r = await govhall(['serve', '--db', db.url, '--listen', '127.0.0.1:0', '--threads', '1'], { keyFile: extra, timeout: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /holds key 2, which the database does not publish/);
    // Commands that seal with the keys refuse the same way.
    const u = await govhall(['user', 'list', '--db', db.url], { keyFile: path.join(dir.path, 'both-differ', 'govhall.key') });
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /is not the one the database publishes/);
    // Both running nodes are untouched and still answer sessions.
    assert.equal((await bearer(`${nodeB.url}/api/v1/me`, tok.citizen)).status, 200);
    await dir.remove();
    await other.drop();
  });

  test('a rotation publishes the new key; nodes with the old file refuse until they have it', async () => {
    const d = await freshDb('nodes_rotate');
    await initDb(d.url, { demo: false, keyFile: d.keyFile });
    const dir = await tempDir('govhall-nodes-rot-');
    const old = path.join(dir.path, 'govhall.key');
    await copyFile(d.keyFile, old);
    await copyFile(`${d.keyFile}.ledger`, `${old}.ledger`);
    const rot = await govhall(['key', 'rotate', '--db', d.url], { keyFile: d.keyFile });
    assert.equal(rot.code, 0, rot.stderr);
    const lrot = await govhall(['ledger', 'key', 'rotate', '--db', d.url], { keyFile: d.keyFile });
    assert.equal(lrot.code, 0, lrot.stderr);
    assert.equal(await sql(d.url, "SELECT COUNT(*) FROM hall_keys WHERE key_id = 2"), '2');
    const r = await govhall(['serve', '--db', d.url, '--listen', '127.0.0.1:0', '--threads', '1'], { keyFile: old, timeout: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lacks (key|log signing key) 2, which the database publishes/);
    const node = await serve(d.url, { keyFile: d.keyFile, threads: 1 });
    assert.equal((await get(`${node.url}/readyz`)).status, 200);
    await node.stop();

    // A third key: the key file may leave out key 2, which seals nothing any more, but never
    // the first key (blind indexes, tokens) nor the current one.
    assert.equal((await govhall(['key', 'rotate', '--db', d.url], { keyFile: d.keyFile })).code, 0);
    const lines = (await readFile(d.keyFile, 'utf8')).split('\n').filter((l) => /^\d+ /.test(l));
    assert.equal(lines.length, 3);
    const trimmed = async (keep) => {
      const kf = path.join(dir.path, `k-${keep.join('')}`, 'govhall.key');
      await mkdir(path.dirname(kf));
      await writeFile(kf, `${lines.filter((l) => keep.includes(Number(l.split(' ')[0]))).join('\n')}\n`, { mode: 0o600 });
      await copyFile(`${d.keyFile}.ledger`, `${kf}.ledger`);
      return kf;
    };
    const without2 = await serve(d.url, { keyFile: await trimmed([1, 3]), threads: 1 });
    assert.equal((await get(`${without2.url}/readyz`)).status, 200);
    await without2.stop();
    for (const keep of [[2, 3], [1, 2]]) {
      const r2 = await govhall(['serve', '--db', d.url, '--listen', '127.0.0.1:0', '--threads', '1'], { keyFile: await trimmed(keep), timeout: 60_000 });
      assert.notEqual(r2.code, 0, `key file with keys ${keep}`);
      assert.match(r2.stderr, /lacks key [13], which the database publishes/);
    }
    await dir.remove();
    await d.drop();
  });
});

describe('a database initialised before it published keys', () => {
  test('the first node to open it must hold the key that opens its personal data; its keys are then published', async () => {
    const d = await freshDb('nodes_legacy');
    await initDb(d.url, { keyFile: d.keyFile }); // --demo: accounts with sealed phone numbers
    await sql(d.url, 'DELETE FROM hall_keys');
    const other = await freshDb('nodes_legacy_other');
    await initDb(other.url, { demo: false, keyFile: other.keyFile });
    const r = await govhall(['serve', '--db', d.url, '--listen', '127.0.0.1:0', '--threads', '1'], { keyFile: other.keyFile, timeout: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not open the personal data this database holds/);
    assert.equal(await sql(d.url, 'SELECT COUNT(*) FROM hall_keys'), '0');
    const node = await serve(d.url, { keyFile: d.keyFile, threads: 1 });
    assert.equal(await sql(d.url, 'SELECT COUNT(*) FROM hall_keys'), '2');
    assert.equal((await apiLogin(node.url, DEMO.citizen.phone)).token.length > 0, true);
    await node.stop();
    await other.drop();
    await d.drop();
  });
});

describe('files an earlier version kept on disk', () => {
  test('govhall uploads import moves them into the database; init says when some are missing', async () => {
    const file = samplePdf(1000);
    const { number, attachment } = await applyWith(nodeA, file);
    const hex = sha256(file);
    // As an earlier version left it: the row names the file, the bytes are on disk only.
    await sql(db.url, `DELETE FROM blob_chunks WHERE sha256 = '${hex}'`);
    await sql(db.url, `DELETE FROM blobs WHERE sha256 = '${hex}'`);
    const href = `/api/v1/applications/${number}/attachments/${attachment}`;
    assert.equal((await download(`${nodeB.url}${href}`, tok.citizen)).status, 404);
    const dir = await tempDir('govhall-nodes-uploads-');
    await mkdir(path.join(dir.path, hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
    await writeFile(path.join(dir.path, hex.slice(0, 2), hex.slice(2, 4), hex), file);
    const init = await govhall(['init', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /1 attachment\(s\) are kept on disk/);
    const st = await govhall(['uploads', 'status', '--db', db.url], { keyFile: db.keyFile });
    assert.match(st.stdout, /1 attachment\(s\) name a file the database does not hold/);
    const imp = await govhall(['uploads', 'import', dir.path, '--db', db.url], { keyFile: db.keyFile });
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /1 file\(s\) copied/);
    assert.match(imp.stdout, /0 attachment\(s\) name a file the database does not hold/);
    const r = await download(`${nodeB.url}${href}`, tok.citizen);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.buf), hex);
    await dir.remove();
  });
});

describe('connections', { skip: backend !== 'postgres' && 'PostgreSQL only' }, () => {
  const names = (url) => sql(url, "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
    + "AND pid <> pg_backend_pid() ORDER BY application_name");

  /** The node's connections, once those made at start and closed (the key check, the search
   * index, the calendar), which may linger in pg_stat_activity for a moment, are gone. */
  async function settled(url, n) {
    let got;
    try {
      await waitFor(async () => {
        got = (await names(url)).split('\n').filter(Boolean);
        return got.length === n;
      }, { what: `${n} connections`, timeout: 30_000 });
    } catch { /* the caller's assertion shows what was there */ }
    return got;
  }

  test('one node holds one connection per worker, the writer and the duties thread', async () => {
    const d = await freshDb('nodes_conns');
    await initDb(d.url, { demo: false, keyFile: d.keyFile });
    const threads = 3;
    let node = await serve(d.url, { keyFile: d.keyFile, threads });
    let want = [...Array(threads).fill('govhall worker'), 'govhall writer', 'govhall duties'].sort();
    assert.deepEqual(await settled(d.url, want.length), want);
    await node.stop();
    // With a delivery channel on, notification delivery has a thread and a connection of its own.
    node = await serve(d.url, {
      keyFile: d.keyFile, threads: 1,
      extraArgs: ['--notify-webhook-url', 'http://127.0.0.1:9/hook', '--notify-webhook-secret', 'a-secret-of-16-chars'],
    });
    want = ['govhall duties', 'govhall notify', 'govhall worker', 'govhall writer'];
    assert.deepEqual(await settled(d.url, want.length), want);
    await node.stop();
    await d.drop();
  });
});
