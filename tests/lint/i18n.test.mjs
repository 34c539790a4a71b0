// The message catalogs and the words in C (tests/lint/i18n.mjs): the project passes, and a copy
// of it with a planted defect of each kind fails with that defect named.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT, check, cjkLines, holdsCJK } from './i18n.mjs';

const copies = [];
after(() => { for (const d of copies) rmSync(d, { recursive: true, force: true }); });

/** A copy of what the check reads (catalogs, sources, templates, scripts, the allow-list). */
function copy() {
  const dir = mkdtempSync(path.join(tmpdir(), 'govhall-i18n-'));
  copies.push(dir);
  for (const p of ['data/i18n', 'src', 'templates', 'static', 'tests/lint/i18n-allow.json']) {
    cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true });
  }
  return dir;
}
const edit = (dir, rel, fn) => writeFileSync(path.join(dir, rel), fn(readFileSync(path.join(dir, rel), 'utf8')));
const editJson = (dir, rel, fn) => edit(dir, rel, (s) => JSON.stringify(fn(JSON.parse(s)), null, 2));

describe('message catalogs', () => {
  test('the project has no problem: keys in both languages, same placeholders, used and present', () => {
    assert.deepEqual(check(), []);
  });

  test('the allow-list only shrinks: no file has fewer Chinese literal lines than allowed', () => {
    const allow = JSON.parse(readFileSync(path.join(ROOT, 'tests/lint/i18n-allow.json'), 'utf8')).files;
    const lines = cjkLines();
    for (const [file, { lines: n }] of Object.entries(allow)) {
      assert.equal(lines.get(file)?.length ?? 0, n, `${file}: lower its allowance in tests/lint/i18n-allow.json`);
    }
  });

  test('a key missing from one language is found', () => {
    const dir = copy();
    editJson(dir, 'data/i18n/en/cases.json', (o) => { delete o.case_event_accept; return o; });
    const found = check(dir);
    assert.ok(found.some((p) => p.includes('"case_event_accept" is in zh') && p.includes('not in en')), found.join('\n'));
  });

  test('a key used in C that no catalog holds is found', () => {
    const dir = copy();
    editJson(dir, 'data/i18n/zh/cases.json', (o) => { delete o.cases_done_action; return o; });
    editJson(dir, 'data/i18n/en/cases.json', (o) => { delete o.cases_done_action; return o; });
    const found = check(dir);
    assert.ok(found.some((p) => p.includes('key "cases_done_action" is in no catalog')), found.join('\n'));
  });

  test('placeholders that differ between the languages are found', () => {
    const dir = copy();
    editJson(dir, 'data/i18n/en/notify.json', (o) => ({ ...o, notify_body_accept: 'Application {num} was accepted.' }));
    const found = check(dir);
    assert.ok(found.some((p) => p.startsWith('"notify_body_accept": placeholders differ')), found.join('\n'));
  });

  test('a catalog entry used nowhere is found', () => {
    const dir = copy();
    editJson(dir, 'data/i18n/zh/http.json', (o) => ({ ...o, planted_unused: '无' }));
    editJson(dir, 'data/i18n/en/http.json', (o) => ({ ...o, planted_unused: 'none' }));
    const found = check(dir);
    assert.ok(found.some((p) => p === 'catalog key "planted_unused" is used nowhere'), found.join('\n'));
  });

  test('a Chinese literal in C beyond the allow-list is found, written or escaped', () => {
    for (const lit of ['"受理"', '"\\u53d7\\u7406"', '"\\xe5\\x8f\\x97"']) {
      const dir = copy();
      edit(dir, 'src/http/msg.c', (s) => `${s}\nstatic const char *planted = ${lit};\n`);
      const found = check(dir);
      assert.ok(found.some((p) => p.startsWith('src/http/msg.c: 1 lines')), `${lit}: ${found.join('\n')}`);
    }
    assert.equal(holdsCJK('hello'), false);
  });
});
