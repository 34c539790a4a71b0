// Duplicate reports offered first, in a real browser on a 360 px phone, in Chinese and in
// English: a citizen writes a complaint like one another citizen filed; before it is filed
// the form shows the open report alike ("this is my problem too" / "mine is different");
// following it leads to the report, marked as followed; "mine is different" files a new one.
// Staff of the department reach an Open311 request's page from its application: it offers
// the open request alike nearby ("merge into"), and merging closes it as the other's
// duplicate. No horizontal overflow and axe-clean (no serious or critical violations) on each
// step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, apiLogin, bearer, demoCatalog, govhall, startServer, tempDir, writeJsonFile } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, logIn, submit, watchProblems } from './browser.mjs';

let srv;
let browser;
const problems = [];
const primary = {};
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
