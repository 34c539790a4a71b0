// The tree stored as tiles (src/ledger/tiles.c): a log kept in the layout of before, one
// ledger_nodes row per interior node, is upgraded by the tiles migration into exactly the tiles
// that appends one by one make, and stays verifiable (`govhall audit` recomputes every tile
// hash). The migration file is found by its name, so renumbering it changes nothing here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { backend, freshDb, govhall, initDb, root, sql } from './helpers.mjs';

const hex = backend === 'postgres' ? (col) => `encode(${col}, 'hex')` : (col) => `lower(hex(${col}))`;
const blob = backend === 'postgres' ? (h) => `decode('${h}', 'hex')` : (h) => `X'${h}'`;
const nodeHash = (l, r) => createHash('sha256').update(Buffer.concat([Buffer.from([1]), l, r])).digest();

function tilesMigration() {
  const dir = path.join(root, 'src/store/migrations', backend === 'postgres' ? 'postgres' : 'sqlite');
  const names = readdirSync(dir).filter((n) => n.endsWith('_ledger_tiles.sql'));
  assert.equal(names.length, 1, `one tiles migration in ${dir}`);
  // without its comment lines (the sqlite3 command line takes a leading "--" for an option)
  return readFileSync(path.join(dir, names[0]), 'utf8').replace(/^--.*$/gm, '');
}

const tiles = (url) => sql(url, `SELECT level || ':' || idx || ':' || ${hex('hashes')} FROM ledger_tiles ORDER BY level, idx`);

test('a log stored node by node is upgraded into the tiles appends make, and audits clean', async () => {
  const db = await freshDb('ledger_tiles');
  try {
    await initDb(db.url, { keyFile: db.keyFile });
    // beyond two tiles of leaf hashes, so that the level above holds subtrees of 256 leaves
    const seeded = await govhall(['ledger', 'bench-seed', '600', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(seeded.code, 0, seeded.stderr);
    let r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stdout);
    const appended = await tiles(db.url);
    const shape = appended.split('\n').map((t) => t.split(':').slice(0, 2).join('/') + '=' + t.split(':')[2].length / 64);
    const size = Number(await sql(db.url, 'SELECT size FROM ledger_head'));
    assert.ok(size > 512, `the log holds ${size} leaves`);
    assert.deepEqual(shape.filter((s) => s.startsWith('1/')), [`1/0=${Math.floor(size / 256)}`]);

    // The layout of before: each leaf's hash beside it (kept only in the tiles since the lean
    // migration), every perfect subtree of two or more leaves as a row.
    let level = appended.split('\n').filter((t) => t.startsWith('0:')).flatMap((t) => t.split(':')[2].match(/.{64}/g))
      .map((h) => Buffer.from(h, 'hex'));
    assert.equal(level.length, size);
    await sql(db.url, `ALTER TABLE ledger_leaves ADD COLUMN hash ${backend === 'postgres' ? 'BYTEA' : 'BLOB'}`);
    for (let i = 0; i < size; i += 200) {
      const values = level.slice(i, i + 200).map((h, k) => `(${i + k}, ${blob(h.toString('hex'))})`);
      await sql(db.url, `WITH v(i, h) AS (VALUES ${values.join(', ')}) UPDATE ledger_leaves
        SET hash = (SELECT h FROM v WHERE v.i = ledger_leaves.idx) WHERE idx IN (SELECT i FROM v)`);
    }
    const rows = [];
    for (let l = 1; level.length >= 2; l++) {
      const up = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i], level[i + 1]));
      up.forEach((h, i) => rows.push(`(${l}, ${i}, ${blob(h.toString('hex'))})`));
      level = up;
    }
    await sql(db.url, backend === 'postgres'
      ? 'CREATE TABLE ledger_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx))'
      : 'CREATE TABLE ledger_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID');
    for (let i = 0; i < rows.length; i += 200) {
      await sql(db.url, `INSERT INTO ledger_nodes (level, idx, hash) VALUES ${rows.slice(i, i + 200).join(', ')}`);
    }
    await sql(db.url, 'DROP TABLE ledger_tiles');
    await sql(db.url, 'DROP INDEX ledger_leaves_ref');
    await sql(db.url, 'CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref)');
    if (backend === 'postgres') {
      await sql(db.url, 'DROP INDEX ledger_refs_idx');
      await sql(db.url, 'ALTER TABLE ledger_refs ADD PRIMARY KEY (idx, tbl, rkey)');
    }

    // The upgrade: the same tiles, the nodes' table gone, the log verifiable (the leaves'
    // hashes then dropped, as the lean migration does).
    await sql(db.url, tilesMigration());
    await sql(db.url, 'ALTER TABLE ledger_leaves DROP COLUMN hash');
    assert.equal(await tiles(db.url), appended);
    const left = backend === 'postgres'
      ? "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'ledger_nodes'"
      : "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ledger_nodes'";
    assert.equal(await sql(db.url, left), '0');
    if (backend === 'postgres') {
      assert.equal(await sql(db.url, "SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = 'ledger_refs'"), 'ledger_refs_idx');
    }
    // the leaves' ref index keeps only the leaves that have one
    const refIndex = backend === 'postgres'
      ? "SELECT indexdef FROM pg_indexes WHERE indexname = 'ledger_leaves_ref'"
      : "SELECT sql FROM sqlite_master WHERE name = 'ledger_leaves_ref'";
    assert.match(await sql(db.url, refIndex), /WHERE \(?ref IS NOT NULL\)?$/);
    r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stdout);
    // and the log grows on from them
    r = await govhall(['ledger', 'bench-seed', '300', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stderr);
    r = await govhall(['audit', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /0 problem/);
  } finally {
    await db.drop();
  }
});
