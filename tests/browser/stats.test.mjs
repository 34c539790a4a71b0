// The public statistics page and published information in a real browser: no serious or
// critical axe violations in both languages (charts included), no CSP violations or broken
// assets, and no horizontal scrolling of the page on a phone-sized screen (wide tables scroll
// inside their own box).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, DEMO_PASSWORD, apiLogin, bearer, freshTotp, startServer, tempDir } from '../api/helpers.mjs';
import { CHROMIUM, haveChromium, skip, axeCheck, watchProblems } from './browser.mjs';

let srv;
let profile;
let context;
let docId;
let problems = [];

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser-stats' });
  // One published document: staffB (the civ head) writes it, an administrator approves it (no
  // one approves their own).
  const t = (await apiLogin(srv.url, DEMO.staffB.phone)).token;
  const admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
  const d = await bearer(`${srv.url}/api/v1/publish`, t, { method: 'POST', json: { category: 'announcement', title_zh: '婚姻登记节假日安排', body_zh: '## 安排\n\n- 国庆期间**正常办理**\n- 详见[指南](https://example.gov.cn)\n', title_en: 'Marriage registration over the holidays', body_en: 'Open as usual.' } });
  docId = d.json.id;
  await bearer(`${srv.url}/api/v1/publish/${docId}/actions/submit`, t, { method: 'POST', json: {} });
  await bearer(`${srv.url}/api/v1/publish/${docId}/actions/approve`, admin, { method: 'POST', json: {} });
  profile = await tempDir('govhall-chromium-');
  context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  context.on('page', (page) => {
    watchProblems(page, problems);
  });
});

after(async () => {
  await context?.close().catch(() => {});
  await profile?.remove();
  await srv?.stop();
});

describe('statistics and published information', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`no serious or critical axe violations (${lang})`, async () => {
      const page = await context.newPage();
      const failures = {};
      try {
        for (const p of ['/stats', '/stats?period=week&from=2026-09-01&to=2026-11-27', '/publish', `/publish/${docId}`]) {
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
      assert.deepEqual(problems.splice(0), []);
    });
  }

  test('the charts have an accessible name and the page does not scroll sideways on a phone', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${srv.url}/stats?lang=en`);
      const names = await page.evaluate(() => [...document.querySelectorAll('svg[role="img"]')].map((s) => {
        const ids = s.getAttribute('aria-labelledby').split(' ');
        return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      }));
      assert.equal(names.length, 3);
      for (const n of names) assert.ok(n.length > 10, n);
      await page.setViewportSize({ width: 390, height: 844 });
      const wide = [];
      for (const p of ['/stats', '/publish', `/publish/${docId}`]) {
        for (const lang of ['zh', 'en']) {
          await page.goto(`${srv.url}${p}?lang=${lang}`);
          const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
          if (m.scroll > m.client) wide.push(`${p} (${lang}): ${m.scroll} > ${m.client}`);
        }
      }
      assert.deepEqual(wide, []);
      assert.deepEqual(problems.splice(0), []);
    } finally {
      await page.close();
    }
  });
});
