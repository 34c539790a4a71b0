// Duplicate reports offered first, in a real browser on a 360 px phone, in Chinese and in
// English: a citizen writes a complaint like one another citizen filed; before it is filed
// the form shows the open report alike ("this is my problem too" / "mine is different");
// following it leads to the report, marked as followed; "mine is different" files a new one.
// No horizontal overflow and axe-clean (no serious or critical violations) on each step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, apiLogin, bearer, startServer } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, logIn, submit, watchProblems } from './browser.mjs';

let srv;
let browser;
const problems = [];
const primary = {};
const typed = {
  zh: { subject: '路灯不亮', text: '小区门口路灯不亮了，晚上走路很危险' },
  en: { subject: 'Street light out', text: 'The street lights near the school gate are not working' },
};

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_dupes' });
  const a = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  for (const [lang, body] of Object.entries({
    zh: { subject: '路灯坏了', body: '小区门口的路灯坏了，晚上很黑。电话 13800000001' },
    en: { subject: 'Streetlight broken', body: 'The streetlight outside the school gate is broken. Call 13800000001' },
  })) {
    const r = await bearer(`${srv.url}/api/v1/complaints`, a, { method: 'POST', json: { department: 'psb', ...body } });
    assert.equal(r.status, 201, r.body);
    primary[lang] = r.json.id;
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

async function write(page, lang) {
  await page.goto(`${srv.url}/complaints/new?department=psb&lang=${lang}`);
  await page.locator('#subject').fill(typed[lang].subject);
  await page.locator('#text').fill(typed[lang].text);
  return submit(page, page.locator('#send'));
}

describe('duplicate reports offered before filing', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`offered first; "this is my problem too" follows, "mine is different" files (${lang})`, async () => {
      const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 800 } });
      ctx.setDefaultTimeout(20_000);
      ctx.on('page', (p) => watchProblems(p, problems));
      const page = await ctx.newPage();
      await logIn(page, srv.url, DEMO.agent.phone);
      let res = await write(page, lang);
      assert.equal(res.status(), 200, 'nothing filed yet');
      const offer = page.locator('#similar');
      await offer.waitFor();
      assert.match(await offer.locator('h2').innerText(), lang === 'zh' ? /可能已有人反映过/ : /may have reported this already/);
      assert.doesNotMatch(await offer.innerText(), /13800000001|张三/, "no other reporter's personal data");
      const follow = offer.locator(`form[action="/complaints/${primary[lang]}/follow"] button`);
      assert.equal(await follow.count(), 1, 'the report alike is offered');
      assert.equal(await page.locator('#subject').inputValue(), typed[lang].subject, 'what was typed is kept');
      await checked(page, `the offer (${lang})`);

      res = await submit(page, follow);
      assert.equal(res.status(), 200);
      assert.match(page.url(), new RegExp(`/complaints/${primary[lang]}\\?done=followed$`));
      await page.locator('#following').waitFor();
      assert.doesNotMatch(await page.locator('main').innerText(), /13800000001|张三/);
      await checked(page, `the followed report (${lang})`);

      // Offered again (now as followed), "mine is different" files a report of its own.
      res = await write(page, lang);
      assert.equal(res.status(), 200);
      await page.locator('#similar').waitFor();
      assert.match(await page.locator('#send').innerText(), lang === 'zh' ? /我的问题不同/ : /Mine is different/);
      res = await submit(page, page.locator('#send'));
      assert.equal(res.status(), 200);
      const m = /\/complaints\/(\d+)\?done=sent$/.exec(page.url());
      assert.ok(m, page.url());
      assert.notEqual(Number(m[1]), primary[lang]);
      await checked(page, `the new report (${lang})`);
      await ctx.close();
      assert.deepEqual(problems, []);
    });
  }
});
