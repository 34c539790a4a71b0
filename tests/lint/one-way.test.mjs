// One way per task in the C sources: calls the house does not use, each with the one it uses
// instead. JSON text is written by base/jsonout (jsonout_dumps / jsonout_sb: jansson's own text
// for every flag, and the quick path for the compact ones), strings are built with base/sb or
// snprintf, never with the unbounded copies.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { root } from '../api/helpers.mjs';

const RULES = [
  { re: /\bjson_dump(s|b|f|fd|_file|_callback)\s*\(/, use: 'jsonout_dumps / jsonout_sb (base/jsonout.h)', except: ['src/base/jsonout.c'] },
  { re: /\b(strcpy|strcat|sprintf|vsprintf|gets)\s*\(/, use: 'snprintf or base/sb.h', except: [] },
];

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? sources(path.join(dir, e.name)) : /\.[ch]$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

test('the C sources call only the house way of writing JSON text and building strings', () => {
  const files = sources(path.join(root, 'src'));
  assert.ok(files.length > 100, `${files.length} C files found`);
  const bad = [];
  for (const f of files) {
    const rel = path.relative(root, f);
    // Comments are words, not calls.
    const lines = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const r of RULES) {
        if (r.re.test(code) && !r.except.includes(rel)) bad.push(`${rel}:${i + 1}: ${line.trim()} (use ${r.use})`);
      }
    });
  }
  assert.equal(bad.length, 0, bad.join('\n'));
});
