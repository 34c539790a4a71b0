// Every table of every template sits in a .table-scroll region (site.css): on a narrow screen
// a wide table scrolls inside its own box, never the page. The region is focusable and named,
// so keyboard and screen-reader users can reach and scroll it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { root } from '../api/helpers.mjs';

function templates(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? templates(path.join(dir, e.name)) : e.name.endsWith('.mustache') ? [path.join(dir, e.name)] : []));
}

test('every <table> in the templates is wrapped in a named, focusable .table-scroll region', () => {
  const bad = [];
  let tables = 0;
  for (const f of templates(path.join(root, 'templates'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/<table\b/g)) {
      tables++;
      const before = src.slice(0, m.index);
      const open = before.lastIndexOf('<div class="table-scroll"');
      const close = before.lastIndexOf('</div>');
      const region = open >= 0 ? /^<div class="table-scroll"[^>]*>/.exec(before.slice(open))?.[0] ?? '' : '';
      if (open < 0 || close > open || !/role="region"/.test(region) || !/tabindex="0"/.test(region)
          || !/aria-label(ledby)?="/.test(region)) {
        bad.push(`${path.relative(root, f)}:${before.split('\n').length}`);
      }
    }
  }
  assert.ok(tables > 10, `${tables} tables found`);
  assert.deepEqual(bad, [], 'tables outside a .table-scroll region');
});
