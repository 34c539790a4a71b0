// The guide page's eligibility list (免申即享 / 秒批) on a 360 x 800 phone, in Debian chromium:
// the signed-in citizen sees each condition with met / not met / unknown in words, in both
// languages, without horizontal overflow and axe-clean; a visitor sees the conditions and a word
// on signing in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, bearer, freshIp, newIdNumber, newPhone, pageLogin, startServer } from '../api/helpers.mjs';
import { axeCheck, haveChromium, launchBrowser, skip } from './browser.mjs';

const PHONE = { width: 360, height: 800 };
let srv;
let browser;
// born 1990 (newIdNumber's year is 1950 + n % 50) in division 110105
const YOUNG = { name: '李青', id_number: newIdNumber(((process.pid % 5000) + 7000) * 50 + 40), phone: newPhone(),
  password: 'Rules phone lantern maple' };

before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'rules-browser' });
  const reg = await bearer(`${srv.url}/api/v1/accounts/individual`, null, {
    method: 'POST', json: YOUNG, headers: { 'x-forwarded-for': freshIp() },
  });
  assert.equal(reg.status, 202, reg.body);
  await apiLogin(srv.url, YOUNG.phone, YOUNG.password);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function open(c, path) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  context.setDefaultTimeout(20_000);
  const cookies = c ? [...c.jar.cookies].map(([name, value]) => ({ name, value, url: srv.url })) : [];
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  await page.goto(srv.url + path, { waitUntil: 'load' });
  await page.locator('.eligibility-list').waitFor();
  return { context, page };
}

const overflow = () => document.documentElement.scrollWidth - document.documentElement.clientWidth;

const WORDS = {
  zh: { age: '年满60周岁', local: '本市户籍', met: '满足', notMet: '不满足', signIn: '登录后可查看' },
  en: { age: 'Aged 60 or over', local: 'Household registered in Qinghe', met: 'Met', notMet: 'Not met', signIn: 'Sign in to see' },
};

describe('the guide page lists the conditions for the signed-in citizen', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`met / not met at 360 px, axe-clean (${lang})`, async () => {
      const w = WORDS[lang];
      const c = await pageLogin(srv.url, YOUNG.phone, YOUNG.password, { lang });
      const { context, page } = await open(c, '/services/trans-0006');
      const items = page.locator('.eligibility-list li');
      assert.equal(await items.count(), 3);
      const age = items.filter({ hasText: w.age });
      assert.match(await age.getAttribute('class'), /eligibility-not_met/);
      assert.equal((await age.locator('.eligibility-status').innerText()).trim(), w.notMet);
      const local = items.filter({ hasText: w.local });
      assert.match(await local.getAttribute('class'), /eligibility-met/);
      assert.equal((await local.locator('.eligibility-status').innerText()).trim(), w.met);
      assert.equal(await page.locator('.eligibility').getByText(w.signIn).count(), 0);
      assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
      assert.deepEqual(await axeCheck(page, `/services/trans-0006 (${lang})`), []);

      // unknown: the form's conditions of the minimum living allowance, with the hint
      await page.goto(`${srv.url}/services/civ-0004`, { waitUntil: 'load' });
      await page.locator('.eligibility-list').waitFor();
      assert.equal(await page.locator('.eligibility-unknown').count(), 2);
      assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
      assert.deepEqual(await axeCheck(page, `/services/civ-0004 (${lang})`), []);
      await context.close();
    });
  }

  test('a visitor sees the conditions and a word on signing in', async () => {
    const { context, page } = await open(null, '/services/trans-0006');
    assert.equal(await page.locator('.eligibility-list li').count(), 3);
    assert.equal(await page.locator('.eligibility-status').count(), 0);
    assert.equal(await page.locator('.eligibility').getByText(WORDS.zh.signIn).count(), 1);
    assert.deepEqual(await axeCheck(page, '/services/trans-0006 (visitor)'), []);
    await context.close();
  });
});
