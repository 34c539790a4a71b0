// The catalog in a real browser (Debian chromium through playwright-core): browse from the
// home page to a guide, switch language, accessibility (axe-core: no serious or critical
// violations) in both languages, no CSP violations or broken assets, and no horizontal
// scrolling on a phone-sized screen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { demoCatalog, startServer, tempDir } from '../api/helpers.mjs';
import { haveChromium, skip, axeCheck, launchProfile, watchProblems } from './browser.mjs';

const demo = demoCatalog();

let srv;
let profile;
let context;
// Problems the pages caused in the browser: console errors (CSP reports included), failed
// requests, HTTP errors on sub-resources. Checked after each test.
let problems = [];

before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'browser' });
  profile = await tempDir('govhall-chromium-');
  context = await launchProfile(profile.path);
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
});

after(async () => {
  await context?.close().catch(() => {});
  await profile?.remove();
  await srv?.stop();
});

function watch(page) {
  watchProblems(page, problems);
}

function takeProblems() {
  const p = problems;
  problems = [];
  return p;
}

async function newPage() {
  const page = await context.newPage();
  return page;
}

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);

/** Clicks a link and waits until the page it leads to has loaded (also through redirects). */
async function follow(page, link) {
  await Promise.all([page.waitForEvent('framenavigated', (f) => f === page.mainFrame()), link.click()]);
  await page.waitForLoadState('load');
}

describe('browsing', { skip }, () => {
  test('home -> theme -> guide page, then switch to English', async () => {
    const page = await newPage();
    try {
      const res = await page.goto(`${srv.url}/`);
      assert.equal(res.status(), 200);
      assert.match(await htmlLang(page), /^zh/);
      const item = demo?.services.find((s) => s.code === 'psb-0001');
      const theme = item?.theme ?? 'household';

      // The theme of psb-0001 on the home page leads to the filtered list.
      const themeLink = page.locator(`a[href*="theme=${theme}"]`).first();
      assert.ok(await themeLink.count(), `the home page has no link to theme ${theme}`);
      await follow(page, themeLink);
      assert.match(page.url(), new RegExp(`/services\\?.*theme=${theme}`));
      const itemLink = page.locator('a[href^="/services/psb-0001"]').first();
      assert.ok(await itemLink.count(), 'the list has no link to psb-0001');
      await follow(page, itemLink);
      assert.match(page.url(), /\/services\/psb-0001/);
      const h1 = await page.locator('h1').first().innerText();
      if (item) assert.ok(h1.includes(item.name_zh), `h1 "${h1}" lacks ${item.name_zh}`);

      // The language link switches to English and keeps us on the same page.
      const langLink = page.locator('a[href*="lang=en"], a[hreflang="en"]').first();
      assert.ok(await langLink.count(), 'no language link to English');
      await follow(page, langLink);
      assert.match(page.url(), /\/services\/psb-0001/);
      assert.equal(await htmlLang(page), 'en');
      const body = await page.locator('body').innerText();
      if (item) assert.ok(body.includes(item.name_en), 'English name missing');
      assert.ok(!/[\u4e00-\u9fff]{6,}/.test(await page.locator('h1').first().innerText()), 'h1 still Chinese');

      // The choice sticks (cookie): a plain URL now comes in English.
      await page.goto(`${srv.url}/services`);
      assert.equal(await htmlLang(page), 'en');
      // And back to Chinese through the language link.
      const zhLink = page.locator('a[href*="lang=zh"], a[hreflang^="zh"]').first();
      assert.ok(await zhLink.count(), 'no language link back to Chinese');
      await follow(page, zhLink);
      assert.match(await htmlLang(page), /^zh/);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.close();
    }
  });
});

describe('accessibility', { skip }, () => {
  const pages = ['/', '/services', '/services/psb-0001', '/departments', '/bundles'];
  for (const lang of ['zh', 'en']) {
    test(`no serious or critical axe violations (${lang})`, async () => {
      const page = await newPage();
      const failures = {};
      try {
        for (const p of pages) {
          const url = `${srv.url}${p}${p.includes('?') ? '&' : '?'}lang=${lang}`;
          const res = await page.goto(url);
          assert.equal(res.status(), 200, url);
          const bad = await axeCheck(page, `${p} (${lang})`);
          if (bad.length) failures[p] = bad.map((v) => `${v.id} (${v.impact}): ${v.help} @ ${v.nodes.join(' | ')}`);
        }
      } finally {
        await page.close();
      }
      assert.deepEqual(failures, {});
      assert.deepEqual(takeProblems(), []);
    });
  }
});

describe('mobile', { skip }, () => {
  test('no horizontal scrolling at 390x844', async () => {
    const page = await newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      const wide = [];
      const codes = ['psb-0001', ...(demo ? [demo.services.reduce((a, s) => (s.materials.length + s.form.length > a.materials.length + a.form.length ? s : a)).code] : [])];
      for (const lang of ['zh', 'en']) {
        for (const p of ['/', ...codes.map((c) => `/services/${c}`), '/services']) {
          await page.goto(`${srv.url}${p}?lang=${lang}`);
          const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
          if (m.scroll > m.client) wide.push(`${p} (${lang}): scrollWidth ${m.scroll} > ${m.client}`);
        }
      }
      assert.deepEqual(wide, []);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.close();
    }
  });
});
