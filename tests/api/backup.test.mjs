// Backup and restore under load. Citizens submit applications without pause while the hall is
// backed up (SQLite: `govhall backup FILE`, the online backup API; PostgreSQL: pg_dump, as
// docs/operations.md says); the backup is restored into a fresh directory or database
// (`govhall restore`; pg_restore), and then `govhall audit` passes on it and every submission
// acknowledged before the backup began is in it. Also: what restore refuses (a database in
// use, one that holds data without --force, a file that is not a govhall database or is newer
// than the binary) and what backup refuses (an existing file).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  DEMO, apiLogin, applyOnline, backend, demoCatalog, freshDb, get, govhall, serve, sql, startServer, tempDir, waitFor,
} from './helpers.mjs';

let srv;
let token;
before(async () => {
  srv = await startServer({ name: 'backup', threads: 2 });
  token = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
});
after(async () => { await srv?.stop(); });

// An item citizens can apply for online; items without required materials make submissions
// cheap, so the load is mostly submissions.
const services = demoCatalog().services.filter((s) => s.online_depth >= 3 && s.audience.includes('individual'));
const ITEM = services.find((s) => !s.materials.some((m) => m.required)) ?? services[0];

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Submissions from `workers` concurrent loops until stop(); acked lists the numbers in order
 * of their answers. */
function load(workers = 4) {
  const acked = [];
  const failures = [];
  let stopping = false;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopping) {
      const r = await applyOnline(srv.url, token, ITEM);
      if (r.status === 201) acked.push(r.json.number);
      else failures.push(`${r.status} ${r.body}`);
    }
  });
  return {
    acked,
    failures,
    /** Resolves once n submissions were acknowledged. */
    async until(n) {
      await waitFor(() => acked.length >= n || failures.length > 0, { what: `${n} acknowledged submissions` });
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** Copies the key files of the served database next to keyFile. */
async function copyKeys(keyFile) {
  await copyFile(srv.keyFile, keyFile);
  await copyFile(`${srv.keyFile}.ledger`, `${keyFile}.ledger`);
}

async function checkRestored(url, keyFile, before) {
  const audit = await govhall(['audit', '--db', url], { keyFile });
  assert.equal(audit.code, 0, `audit of the restored database:\n${audit.stdout}\n${audit.stderr}`);
  const numbers = new Set((await sql(url, 'SELECT number FROM applications WHERE number IS NOT NULL')).split('\n'));
  const lost = before.filter((n) => !numbers.has(n));
  assert.deepEqual(lost, [], 'submissions acknowledged before the backup began are missing');
  // The restored hall serves with the same key files.
  const node = await serve(url, { keyFile, threads: 1 });
  const r = await get(`${node.url}/readyz`);
  assert.equal(r.status, 200);
  const t = (await apiLogin(node.url, DEMO.citizen.phone)).token;
  const mine = await fetch(`${node.url}/api/v1/applications?per_page=100`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal(mine.status, 200);
  const listed = new Set((await mine.json()).items.map((x) => x.number));
  assert.ok(before.slice(-10).every((n) => listed.has(n)), 'the restored hall lists the applicant\'s latest submissions');
  await node.stop();
}

describe('backup under submission load, restore, audit', () => {
  test(`${backend}: nothing acknowledged before the backup is lost, and the log audits`, async () => {
    const l = load();
    await l.until(20);
    assert.deepEqual(l.failures, []);
    const before = [...l.acked];
    const dir = await tempDir('govhall-backup-');
    let restoredUrl;
    let restoredKey;
    let drop = () => dir.remove();
    if (backend === 'postgres') {
      const dump = path.join(dir.path, 'govhall.dump');
      const d = await run('pg_dump', ['--format=custom', `--file=${dump}`, srv.db]);
      const during = l.acked.length - before.length;
      await l.stop();
      assert.equal(d.code, 0, d.stderr);
      assert.deepEqual(l.failures, []);
      const fresh = await freshDb('backup_restored');
      const r = await run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${fresh.url}`, dump]);
      assert.equal(r.code, 0, r.stderr);
      restoredUrl = fresh.url;
      restoredKey = fresh.keyFile;
      drop = async () => { await fresh.drop(); await dir.remove(); };
      assert.ok(during >= 0);
    } else {
      const file = path.join(dir.path, 'govhall-backup.db');
      const b = await govhall(['backup', file, '--db', srv.db], { keyFile: srv.keyFile });
      await l.stop();
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /backup written/);
      assert.deepEqual(l.failures, []);
      // One self-contained file: nothing beside it is needed.
      assert.ok(!existsSync(`${file}-wal`));
      restoredUrl = path.join(dir.path, 'restored', 'govhall.db');
      await run('mkdir', [path.dirname(restoredUrl)]);
      restoredKey = path.join(path.dirname(restoredUrl), 'govhall.key');
      const r = await govhall(['restore', file, '--db', restoredUrl], { keyFile: restoredKey });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /restored/);
    }
    await copyKeys(restoredKey);
    await checkRestored(restoredUrl, restoredKey, before);
    await drop();
  });
});

describe('what backup and restore refuse', { skip: backend !== 'sqlite' && 'SQLite commands' }, () => {
  test('restore refuses a database in use, one with data (unless --force), and files it cannot trust', async () => {
    const dir = await tempDir('govhall-restore-');
    const file = path.join(dir.path, 'b.db');
    const b = await govhall(['backup', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(b.code, 0, b.stderr);
    // An existing file is never overwritten by a backup.
    const again = await govhall(['backup', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists/);

    // The served database is in use.
    const live = await govhall(['restore', file, '--force', '--db', srv.db], { keyFile: srv.keyFile });
    assert.notEqual(live.code, 0);
    assert.match(live.stderr, /in use/);
    assert.equal((await get(`${srv.url}/readyz`)).status, 200);

    // A stopped database that holds data: only with --force.
    const target = path.join(dir.path, 'target.db');
    assert.equal((await govhall(['restore', file, '--db', target], { keyFile: path.join(dir.path, 'k') })).code, 0);
    const count = await sql(target, 'SELECT COUNT(*) FROM applications');
    await sql(target, 'CREATE TABLE marker (x INTEGER)');
    const full = await govhall(['restore', file, '--db', target], { keyFile: path.join(dir.path, 'k') });
    assert.notEqual(full.code, 0);
    assert.match(full.stderr, /already holds a database.*--force/);
    const forced = await govhall(['restore', file, '--force', '--db', target], { keyFile: path.join(dir.path, 'k') });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await sql(target, 'SELECT COUNT(*) FROM applications'), count);
    assert.equal(await sql(target, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'marker'"), '0');

    // Not a govhall database; not a database at all; newer than this binary.
    const other = path.join(dir.path, 'other.db');
    await sql(other, 'CREATE TABLE t (x INTEGER)');
    const notours = await govhall(['restore', other, '--db', path.join(dir.path, 'n1.db')], { keyFile: path.join(dir.path, 'k') });
    assert.notEqual(notours.code, 0);
    assert.match(notours.stderr, /not a govhall database/);
    assert.ok(!existsSync(path.join(dir.path, 'n1.db')), 'a refused restore left a file behind');
    const junk = path.join(dir.path, 'junk.db');
    await writeFile(junk, 'this is not a database file at all, just text '.repeat(100));
    const bad = await govhall(['restore', junk, '--db', path.join(dir.path, 'n2.db')], { keyFile: path.join(dir.path, 'k') });
    assert.notEqual(bad.code, 0);
    const newer = path.join(dir.path, 'newer.db');
    await copyFile(file, newer);
    await sql(newer, "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'later')");
    const nw = await govhall(['restore', newer, '--db', path.join(dir.path, 'n3.db')], { keyFile: path.join(dir.path, 'k') });
    assert.notEqual(nw.code, 0);
    assert.match(nw.stderr, /schema version 9999, newer than this govhall/);
    assert.notEqual((await govhall(['restore', path.join(dir.path, 'missing.db'), '--db', path.join(dir.path, 'n4.db')])).code, 0);
    await dir.remove();
  });
});

describe('PostgreSQL databases', { skip: backend !== 'postgres' && 'PostgreSQL only' }, () => {
  test('backup and restore name PostgreSQL\'s own tools instead', async () => {
    for (const cmd of [['backup', '/tmp/x.db'], ['restore', '/tmp/x.db']]) {
      const r = await govhall([...cmd, '--db', srv.db], { keyFile: srv.keyFile });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /pg_dump --format=custom/);
      assert.match(r.stderr, /pg_restore/);
    }
  });
});
