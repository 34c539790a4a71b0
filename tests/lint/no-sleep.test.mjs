// Tests wait for conditions (an element, a response, a log line, a state), never for a time:
// a fixed sleep is too short on a loaded machine and too long on an idle one. This lint
// refuses sleeps in the test code:
//   - JavaScript (tests/**/*.mjs): a timer that only resolves a promise (setTimeout(r, ms),
//     setTimeout(() => resolve(), ms)), timers/promises, page.waitForTimeout, Atomics.wait,
//     sleep(N)-like calls, running `sleep`. A timer that rejects, kills or aborts is a
//     deadline (the bound of a wait for a condition) and stays allowed.
//   - shell (tests/**/*.sh, scripts/test.sh, pg-test.sh, browser-under-load.sh): `sleep`.
//   - C (tests/**/*.c and .h): sleep, usleep, nanosleep, clock_nanosleep, thrd_sleep.
// Waiting is done by tests/api/helpers.mjs: waitFor(check) (a condition checked until it
// holds, within a deadline), deadline(promise), server.waitForLog(pred), and event-driven
// waits. The one pause between two checks of a condition, inside waitFor (and pg-test.sh's
// wait_until), carries the marker
// `sleep-lint: allow -- <reason>`, which only the shared helpers may use.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = path.relative(root, fileURLToPath(import.meta.url));
/** The only files where the allow marker counts (shared waiting helpers, not tests). */
const MARKER_FILES = new Set(['tests/api/helpers.mjs', 'tests/browser/browser.mjs', 'scripts/pg-test.sh']);
const MARKER = /sleep-lint: allow -- \S/;
/** Names of callbacks that end a wait instead of resolving it after a time: deadlines. */
const DEADLINE = /reject|fail|abort|kill|destroy|expire|timeout|cancel|close|finish/i;

/** Blanks out comments (keeping line breaks and positions), for the kind of source. */
function stripComments(text, kind) {
  if (kind === 'sh') return text.replace(/(^|\s)#.*$/gm, (m, pre) => pre + ' '.repeat(m.length - pre.length));
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, (m) => m.replace(/[^\n]/g, ' '));
}

/**
 * The sleeps in text (the source of one file of kind 'js', 'sh' or 'c'): [{line, what}].
 * markerOk: whether `sleep-lint: allow -- reason` on a line excuses it.
 */
export function findSleeps(text, kind, { markerOk = false } = {}) {
  const code = stripComments(text, kind);
  const rawLines = text.split('\n');
  const found = [];
  const rules = {
    js: [
      [/\bwaitForTimeout\s*\(/g, 'page.waitForTimeout (wait for an element or a response instead)'],
      [/\b(?:setTimeout|setInterval)\s*\(\s*([A-Za-z_$][\w$]*)\s*[,)]/g, 'a timer that resolves a promise after a time', 1],
      [/\b(?:setTimeout|setInterval)\s*\(\s*(?:async\s*)?\(\s*\)\s*=>\s*([A-Za-z_$][\w$]*)\s*\(/g, 'a timer that resolves a promise after a time', 1],
      [/\b(?:setTimeout|setInterval)\s*\(\s*function\s*\(\s*\)\s*\{\s*([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*;?\s*\}/g, 'a timer that resolves a promise after a time', 1],
      [/timers\/promises/g, 'node:timers/promises (its timers are sleeps)'],
      [/\bAtomics\.wait\s*\(/g, 'Atomics.wait'],
      [/\b(?:sleep|delay|pause)\s*\(\s*[\d_]+/g, 'a sleep-like call with a fixed time'],
      [/\b(?:execSync|execFileSync|spawnSync|exec|execFile|spawn)\s*\(\s*['"`]sleep\b/g, 'running sleep'],
    ],
    sh: [[/(^|[\s;&|(`])sleep(\s|$)/gm, 'sleep']],
    c: [[/\b(?:sleep|usleep|nanosleep|clock_nanosleep|thrd_sleep)\s*\(/g, 'a sleep call']],
  }[kind];
  for (const [re, what, nameGroup] of rules) {
    for (const m of code.matchAll(re)) {
      if (nameGroup && DEADLINE.test(m[nameGroup])) continue;
      const line = code.slice(0, m.index).split('\n').length;
      if (markerOk && MARKER.test(rawLines[line - 1])) continue;
      found.push({ line, what });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

function kindOf(rel) {
  if (/\.(mjs|cjs|js)$/.test(rel)) return 'js';
  if (/\.sh$/.test(rel)) return 'sh';
  if (/\.[ch]$/.test(rel)) return 'c';
  return null;
}

describe('no fixed sleeps in test code', () => {
  test('the lint finds sleeps and lets deadlines and condition waits be', () => {
    const js = (t) => findSleeps(t, 'js').length;
    for (const sleep of [
      'await new Promise((r) => setTimeout(r, 100));',
      'await new Promise((res) => setTimeout(res, 2 * recheckMs));',
      'await new Promise((r) => { waiters.push(r); setTimeout(r, 500); });',
      'await new Promise((resolve) => setTimeout(() => resolve(), 50));',
      'setTimeout(function () { done(); }, 10);',
      "import { setTimeout as sleep } from 'node:timers/promises';",
      'await page.waitForTimeout(1000);',
      'await sleep(200);',
      "execSync('sleep 1');",
    ]) assert.equal(js(sleep), 1, sleep);
    for (const fine of [
      'const timer = setTimeout(() => { proc.kill(\'SIGKILL\'); reject(new Error(\'late\')); }, readyTimeout);',
      'timer = setTimeout(() => reject(new Error(`gave up`)), ms);',
      'const t = setTimeout(() => { sock.destroy(); finish(); }, timeout);',
      'await page.locator(\'.results li\').first().waitFor({ state: \'visible\' });',
      'await waitFor(async () => (await get(url)).status === 200, { what: \'the index\' });',
      '// a comment that mentions setTimeout(r, 10) is no sleep',
      'clearTimeout(timer);',
    ]) assert.equal(js(fine), 0, fine);
    assert.equal(findSleeps('await new Promise((r) => setTimeout(r, pause)); // sleep-lint: allow -- between checks', 'js', { markerOk: true }).length, 0);
    assert.equal(findSleeps('await new Promise((r) => setTimeout(r, pause)); // sleep-lint: allow', 'js', { markerOk: true }).length, 1, 'a marker without a reason');
    assert.equal(findSleeps('await new Promise((r) => setTimeout(r, pause)); // sleep-lint: allow -- x', 'js').length, 1, 'the marker outside the helpers');
    assert.equal(findSleeps('for i in 1 2 3; do sleep 0.1; done', 'sh').length, 1);
    assert.equal(findSleeps('pg_ctl -w start # no sleep here', 'sh').length, 0);
    assert.equal(findSleeps('\tusleep(10000);', 'c').length, 1);
    assert.equal(findSleeps('\tnanosleep(&d, NULL);', 'c').length, 1);
    assert.equal(findSleeps('/* No thread and no sleep(): the tests call it */', 'c').length, 0);
    assert.equal(findSleeps('pthread_cond_timedwait(&c, &m, &deadline);', 'c').length, 0);
  });

  test('tests/ and the test scripts hold no sleep', () => {
    const found = [];
    const list = [...files(path.join(root, 'tests'))].map((p) => path.relative(root, p));
    list.push('scripts/test.sh', 'scripts/pg-test.sh', 'scripts/browser-under-load.sh');
    for (const rel of list) {
      const kind = kindOf(rel);
      if (!kind || rel === SELF || rel.startsWith('tests/fuzz/corpus')) continue;
      const text = readFileSync(path.join(root, rel), 'utf8');
      const markerOk = MARKER_FILES.has(rel);
      for (const s of findSleeps(text, kind, { markerOk })) found.push(`${rel}:${s.line}: ${s.what}`);
      if (!markerOk && /sleep-lint: allow/.test(text)) found.push(`${rel}: the allow marker is for the shared helpers only`);
    }
    assert.deepEqual(found, [], 'wait for a condition instead: waitFor(), deadline(), server.waitForLog(), an event');
  });
});
