// Search and the guided service in a real browser (Debian chromium through playwright-core):
// the header's search box leads to highlighted results; suggestions appear as one types and
// the keyboard opens one; the guided service goes from the first question to an answer by
// links; the pages work with script off; axe finds no serious or critical violations in either
// language; no CSP violations or broken assets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../api/helpers.mjs';
import { axeCheck, launchBrowser, skip, submit, watchProblems } from './browser.mjs';

let srv;
let browser;
let problems = [];

before(async () => {
  if (skip) return;
  srv = await startServer({ name: 'browser_search' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function newPage(opts = {}) {
  const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 }, ...opts });
  const page = await ctx.newPage();
  watchProblems(page, problems);
  return page;
}

function takeProblems() {
  const p = problems;
  problems = [];
  return p;
}

describe('search in the browser', { skip }, () => {
  test('header search box -> highlighted results -> the item', async () => {
    const page = await newPage();
    try {
      await page.goto(`${srv.url}/services`);
      await page.fill('#site-q', '身份证丢了');
      await submit(page, page.locator('.site-search button[type=submit]'));
      assert.match(page.url(), /\/search\?q=/);
      const first = page.locator('.search-results li').first();
      assert.match(await first.locator('a').first().getAttribute('href'), /\/services\/psb-0003/);
      assert.ok(await first.locator('mark').count() > 0, 'the match is highlighted');
      await submit(page, first.locator('a').first());
      assert.match(page.url(), /\/services\/psb-0003/);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.context().close();
    }
  });

  test('suggestions as one types; arrow keys and Enter open one', async () => {
    const page = await newPage();
    try {
      await page.goto(`${srv.url}/`);
      await page.locator('#site-q').pressSequentially('gjj', { delay: 30 });
      const list = page.locator('.site-search .suggest-list');
      await list.locator('[role=option]').first().waitFor({ state: 'visible' });
      assert.equal(await page.locator('#site-q').getAttribute('aria-expanded'), 'true');
      const label = await list.locator('[role=option]').first().innerText();
      assert.match(label, /公积金/);
      await page.keyboard.press('ArrowDown');
      assert.equal(await list.locator('[role=option]').first().getAttribute('aria-selected'), 'true');
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
      assert.match(page.url(), /\/services\/hpf-/);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.context().close();
    }
  });

  test('works without script; filters are a plain form', async () => {
    const page = await newPage({ javaScriptEnabled: false });
    try {
      await page.goto(`${srv.url}/search?lang=en`);
      await page.fill('#s-q', 'passport');
      await page.selectOption('#s-kind', 'item');
      await submit(page, page.locator('.search-page-form .search-row button[type=submit]'));
      assert.match(page.url(), /q=passport/);
      assert.match(page.url(), /kind=item/);
      const names = await page.locator('.search-results h3').allInnerTexts();
      assert.ok(names.length > 0);
      assert.match(names[0], /passport/i);
    } finally {
      await page.context().close();
    }
  });

  test('guided service: questions to an answer with reasons', async () => {
    const page = await newPage();
    try {
      await page.goto(`${srv.url}/guide`);
      await submit(page, page.locator('a.guide-option', { hasText: '个人' }));
      await submit(page, page.locator('a.guide-option', { hasText: '生育收养' }));
      assert.match(await page.locator('#guide-q').innerText(), /一次办好/);
      await submit(page, page.getByRole('link', { name: '是', exact: true }));
      assert.match(await page.locator('.guide-answer').innerText(), /新生儿出生一件事/);
      assert.ok(await page.locator('.guide-reasons li').count() >= 3);
      await submit(page, page.locator('.guide-nav a').first());
      assert.match(await page.locator('#guide-q').innerText(), /一次办好/);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.context().close();
    }
  });

  for (const lang of ['zh', 'en']) {
    test(`no serious or critical axe violations (${lang})`, async () => {
      const page = await newPage();
      const failures = {};
      try {
        for (const p of ['/search', '/search?q=%E5%85%AC%E7%A7%AF%E9%87%91', '/guide', '/guide?who=individual',
          '/guide?who=individual&theme=birth', '/guide?who=individual&theme=birth&ans=bundle:y']) {
          const url = `${srv.url}${p}${p.includes('?') ? '&' : '?'}lang=${lang}`;
          const res = await page.goto(url);
          assert.equal(res.status(), 200, url);
          const bad = await axeCheck(page, `${p} (${lang})`);
          if (bad.length) failures[p] = bad.map((v) => `${v.id} (${v.impact}): ${v.help} @ ${v.nodes.join(' | ')}`);
        }
      } finally {
        await page.context().close();
      }
      assert.deepEqual(failures, {});
      assert.deepEqual(takeProblems(), []);
    });
  }
});
