// The layers of src/ (docs/architecture.md, "Rooms and layers"), checked on every `make test`.
// Which folder may include which is stated once, in LAYERS and DOMAINS below:
//   - base includes only base; http, store and view include base and each other as LAYERS
//     says, never a domain; store knows no requests (no http);
//   - src/app.h (struct app, shared by all) includes only base; main.c and cover_all.c wire
//     the modules together and may include anything;
//   - a domain includes base, http, store, view, app.h and the public headers of the domains
//     listed before it in DOMAINS, never one after it: so the domains form no cycle, and an
//     edge that would close one is refused where it is written;
//   - a folder's private headers (*_impl.h) are included only inside that folder;
//   - every folder of src/ is in LAYERS or DOMAINS (a new domain takes its place in the order).
// An include is resolved as the compiler does here: against src/, then the including file's
// folder. Run alone: node --test tests/lint/layers.test.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The layers below every domain, and what each may include (besides itself). */
export const LAYERS = {
  base: [],
  view: ['base'],
  store: ['base', 'app.h'],
  http: ['base', 'store', 'view', 'app.h'],
};

/** The domains, lowest first: each may include the public headers of those before it. */
export const DOMAINS = [
  'identity', 'catalog', 'cases', 'notify', 'ledger', 'stats', 'certs', 'open311', 'ops', 'search',
  'publish', 'booking', 'pay', 'federation', 'interact', 'remote', 'fedwallet', 'scale', 'help', 'privacy', 'demo',
];

/** Files at the top of src/: what each may include ('*': anything). */
export const TOP = { 'app.h': ['base'], 'main.c': '*', 'cover_all.c': '*' };

/**
 * Edges still broken on purpose, each with the reason: "from -> to" of folders. An entry that no
 * longer occurs is itself reported, so the list only shrinks.
 */
export const PENDING = {};

const INCLUDE = /^\s*#\s*include\s+"([^"]+)"/gm;

/** The .c and .h files below dir: { 'cases/store.c': text, 'main.c': text, ... }. */
export function readTree(dir) {
  const out = {};
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, r)).isDirectory()) walk(r);
      else if (/\.[ch]$/.test(name)) out[r] = readFileSync(path.join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
}

const folderOf = (rel) => (rel.includes('/') ? rel.split('/')[0] : null);

/** What `from` (a folder, or a file at the top) may include of folder or top file `to`. */
function allowed(from, to) {
  if (from === to) return true;
  if (from in TOP) return TOP[from] === '*' || TOP[from].includes(to);
  if (from in LAYERS) return LAYERS[from].includes(to);
  if (to in LAYERS || to === 'app.h') return true;
  const a = DOMAINS.indexOf(from), b = DOMAINS.indexOf(to);
  return a >= 0 && b >= 0 && b < a;
}

/**
 * The violations in files (as readTree gives them): an array of strings, one a violation,
 * naming the include that makes it. PENDING edges are left out; PENDING entries that no longer
 * occur are reported.
 */
export function checkLayers(files, pending = PENDING) {
  const bad = [];
  const used = new Set();
  for (const dir of new Set(Object.keys(files).map(folderOf).filter(Boolean))) {
    if (!(dir in LAYERS) && !DOMAINS.includes(dir))
      bad.push(`src/${dir}/ is neither a layer nor a domain: give it its place in DOMAINS (tests/lint/layers.test.mjs)`);
  }
  for (const [rel, text] of Object.entries(files)) {
    const me = folderOf(rel) ?? rel;
    for (const m of text.matchAll(INCLUDE)) {
      const inc = m[1];
      const local = path.posix.normalize(path.posix.join(path.posix.dirname(rel), inc));
      const target = inc in files ? inc : local in files ? local : null;
      if (!target) continue; // a system or generated header
      const to = folderOf(target) ?? target;
      if (target.endsWith('_impl.h') && to !== me) {
        bad.push(`${rel} includes ${target}, private to src/${to}/`);
        continue;
      }
      if (allowed(me, to)) continue;
      const edge = `${me} -> ${to}`;
      if (edge in pending) {
        used.add(edge);
        continue;
      }
      const why = me in LAYERS || me in TOP ? `${me} may include only ${[...(LAYERS[me] ?? TOP[me])].join(', ') || 'itself'}`
        : DOMAINS.includes(to) ? `${to} comes after ${me} in DOMAINS (a domain includes only those before it)`
          : `${me} may not include ${to}`;
      bad.push(`${rel} includes ${target}: ${why}`);
    }
  }
  for (const edge of Object.keys(pending))
    if (!used.has(edge)) bad.push(`PENDING lists "${edge}", which no longer occurs: remove it`);
  return bad;
}

describe('layers of src/', () => {
  test('the source tree keeps its layers', () => {
    assert.deepEqual(checkLayers(readTree(path.join(root, 'src'))), []);
  });

  const ok = {
    'app.h': '#include "base/config.h"\n',
    'base/util.h': '', 'base/util.c': '#include "base/util.h"\n',
    'store/db.h': '#include "base/util.h"\n#include "app.h"\n',
    'http/http.h': '#include "store/db.h"\n',
    'view/view.h': '#include "base/util.h"\n',
    'identity/identity.h': '#include "http/http.h"\n',
    'cases/cases.h': '#include "identity/identity.h"\n',
    'cases/cases_impl.h': '#include "cases/cases.h"\n',
    'cases/store.c': '#include "cases_impl.h"\n#include <stdio.h>\n#include "gen/sql.h"\n',
    'main.c': '#include "cases/cases.h"\n',
  };
  const check = (extra) => checkLayers({ ...ok, ...extra }, {});

  test('a clean tree passes', () => {
    assert.deepEqual(check({}), []);
  });

  test('base including anything else is refused', () => {
    const bad = check({ 'base/log.c': '#include "store/db.h"\n' });
    assert.equal(bad.length, 1);
    assert.match(bad[0], /^base\/log\.c includes store\/db\.h: base may include only itself/);
  });

  test('a layer including a domain is refused, and store including http', () => {
    assert.match(check({ 'view/x.c': '#include "cases/cases.h"\n' })[0], /view may include only base/);
    assert.match(check({ 'store/group.c': '#include "http/http.h"\n' })[0], /store may include only base, app\.h/);
  });

  test('a domain including one after it (a cycle in the making) is refused', () => {
    const bad = check({ 'identity/session.c': '#include "cases/cases.h"\n' });
    assert.deepEqual(bad, ['identity/session.c includes cases/cases.h: cases comes after identity in DOMAINS (a domain includes only those before it)']);
  });

  test('another folder\'s private header is refused, by either spelling', () => {
    assert.match(check({ 'identity/x.c': '#include "cases/cases_impl.h"\n' })[0], /private to src\/cases\//);
    assert.match(check({ 'ledger/x.c': '#include "../cases/cases_impl.h"\n' }).join(), /private to src\/cases\//);
  });

  test('a folder the rules do not know is refused', () => {
    assert.match(check({ 'unplaced/x.c': '#include "cases/cases.h"\n' })[0], /src\/unplaced\/ is neither a layer nor a domain/);
  });

  test('app.h stays below everything', () => {
    assert.match(check({ 'app.h': '#include "http/http.h"\n' })[0], /app\.h may include only base/);
  });

  test('a pending edge is excused while it occurs, and reported once it is gone', () => {
    const planted = { ...ok, 'store/group.c': '#include "http/http.h"\n' };
    assert.deepEqual(checkLayers(planted, { 'store -> http': 'reason' }), []);
    assert.deepEqual(checkLayers(ok, { 'store -> http': 'reason' }), ['PENDING lists "store -> http", which no longer occurs: remove it']);
  });
});
