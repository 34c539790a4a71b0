// The staff page of an Open311 request in a real browser on a 360 px phone, in Chinese and in
// English: reached from the application's page, it offers the open request alike nearby
// ("merge into"); merging closes it as the other's duplicate. No horizontal overflow and
// axe-clean (no serious or critical violations) on each step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, demoCatalog, govhall, startServer, tempDir, writeJsonFile } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, logIn, submit, watchProblems } from './browser.mjs';

let srv;
let browser;
const problems = [];
const pairs = {};
const base = demoCatalog().services.find((s) => s.code === 'gsa-0001');
const ROAD = {
  ...base, code: 'psb-9331', department: 'psb', name_zh: '道路设施报修', name_en: 'Road facility',
  form: [
    { key: 'phone', label_zh: '联系电话', label_en: 'Contact phone', type: 'phone', required: true },
    { key: 'content', label_zh: '情况描述', label_en: 'What happened', type: 'textarea', required: true },
  ],
};

async function post(key, lat, long, description) {
  const res = await fetch(`${srv.url}/open311/v2/requests.json`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key, service_code: ROAD.code, lat, long, description, phone: '13900139000' }).toString(),
  });
  const j = await res.json();
  assert.equal(res.status, 200, JSON.stringify(j));
  return j[0].service_request_id;
}

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_open311_dupes' });
  const dir = await tempDir('govhall-browser-open311-');
  const imp = await govhall(['import', 'catalog', await writeJsonFile(dir.path, 'c.json', { services: [ROAD] }), '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(imp.code, 0, imp.stderr + imp.stdout);
  const add = await govhall(['open311', 'key', 'add', 'Browser client', '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(add.code, 0, add.stderr);
  const key = /: ([A-Za-z0-9_-]{43})\n/.exec(add.stdout)[1];
  for (const [lang, text] of Object.entries({ zh: ['人民路88号门前路面塌陷，有个大坑', '人民路88号门口路面塌陷了一个坑'], en: ['A deep pothole on Main Road near the bridge', 'Main Road has a big pothole by the bridge'] })) {
    pairs[lang] = [await post(key, '31.2304', '121.4737', text[0]), await post(key, '31.2310', '121.4740', text[1])];
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

/** Pixels the document is wider than the screen. */
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

async function checked(page, what) {
  assert.equal(await overflow(page), 0, `${what}: no horizontal overflow at 360 px`);
  assert.deepEqual(await axeCheck(page, what), [], `accessibility of ${what}`);
}

describe('staff merge a duplicate Open311 request from its page', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`offered alike nearby; merged with the form (${lang})`, async () => {
      const [first, second] = pairs[lang];
      const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 800 } });
      ctx.setDefaultTimeout(20_000);
      ctx.on('page', (p) => watchProblems(p, problems));
      const page = await ctx.newPage();
      await logIn(page, srv.url, DEMO.staffA.phone);
      await page.goto(`${srv.url}/applications/${second}?lang=${lang}`);
      await page.locator('#open311-link').click();
      await page.locator('#alike').waitFor();
      assert.match(page.url(), new RegExp(`/staff/open311/${second}$`));
      assert.match(await page.locator('#h-alike').innerText(), lang === 'zh' ? /附近相近/ : /alike nearby/);
      const merge = page.locator(`#alike form:has(input[name="into"][value="${first}"]) button`);
      assert.equal(await merge.count(), 1, 'the request alike is offered');
      await checked(page, `the request's page (${lang})`);

      const res = await submit(page, merge);
      assert.equal(res.status(), 200);
      assert.match(page.url(), /\?done=merged$/);
      await page.locator('#merged-into').waitFor();
      assert.equal(await page.locator('#form-merge').count(), 0);
      await checked(page, `the merged request (${lang})`);
      await ctx.close();
      assert.deepEqual(problems, []);
    });
  }
});
