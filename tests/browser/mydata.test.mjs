// "My data" in Debian chromium on a 360 x 800 phone, in both languages: the page of everything
// the hall holds (the demo citizen's applications, messages, sessions; printed, no table cut),
// the closure page and the name correction page show without horizontal overflow and
// axe-clean; a fresh citizen closes their account through the form, sees what was erased and
// kept, and is logged out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, bearer, freshIp, newIdNumber, newPhone, pageLogin, startServer } from '../api/helpers.mjs';
import { axeCheck, haveChromium, launchBrowser, skip, submit } from './browser.mjs';

const PHONE = { width: 360, height: 800 };
let srv;
let browser;
const LEAVER = { name: '王离开', id_number: newIdNumber(((process.pid % 5000) + 9000) * 50 + 30), phone: newPhone(),
  password: 'Leaving the hall lantern 7' };

before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'mydata-browser' });
  const reg = await bearer(`${srv.url}/api/v1/accounts/individual`, null, {
    method: 'POST', json: LEAVER, headers: { 'x-forwarded-for': freshIp() },
  });
  assert.equal(reg.status, 202, reg.body);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function open(c, path, lang) {
  const context = await browser.newContext({ viewport: PHONE, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  context.setDefaultTimeout(20_000);
  await context.addCookies([...c.jar.cookies].map(([name, value]) => ({ name, value, url: srv.url })));
  const page = await context.newPage();
  await page.goto(srv.url + path, { waitUntil: 'load' });
  await page.locator('h1').waitFor();
  return { context, page };
}

const overflow = () => document.documentElement.scrollWidth - document.documentElement.clientWidth;

const WORDS = {
  zh: { name: '更正姓名', title: '我的数据', kept: '注销后保留', erased: '注销时删除', close: '注销账户', closed: '账户已注销', why: '档案' },
  en: { name: 'Correct my name', title: 'My data', kept: 'Kept after closure', erased: 'Erased at closure', close: 'Close my account',
    closed: 'Your account is closed', why: 'archives' },
};

describe('my data on a phone', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`the page and the closure page at 360 px, axe-clean (${lang})`, async () => {
      const w = WORDS[lang];
      const c = await pageLogin(srv.url, DEMO.citizen.phone, undefined, { lang });
      const { context, page } = await open(c, '/me/data', lang);
      assert.equal((await page.locator('h1').innerText()).trim(), w.title);
      assert.ok(await page.locator('#part-applications').count() === 1);
      assert.ok(await page.getByText(w.kept).count() > 0 && await page.getByText(w.erased).count() > 0);
      assert.ok(await page.locator('.mydata-table').count() > 0, 'no rows shown');
      assert.equal(await page.locator('a[href="/me/data/export.json"]').count(), 1);
      assert.equal(await page.locator('a[href="/me/data/export.pdf"]').count(), 1);
      assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
      assert.deepEqual(await axeCheck(page, `/me/data (${lang})`), []);
      // On paper every column shows: no table is cut at the edge of its scrolling region.
      await page.emulateMedia({ media: 'print' });
      const cut = await page.evaluate(() => [...document.querySelectorAll('.mydata .table-scroll')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.getAttribute('aria-labelledby')));
      assert.deepEqual(cut, [], 'tables cut in print');
      await page.emulateMedia({ media: 'screen' });

      await submit(page, page.locator('a[href="/me/data/close"]'));
      assert.equal((await page.locator('h1').innerText()).trim(), w.close);
      assert.ok((await page.locator('main, body').first().innerText()).includes(w.why));
      assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
      assert.deepEqual(await axeCheck(page, `/me/data/close (${lang})`), []);

      await page.goto(`${srv.url}/account/name`, { waitUntil: 'load' });
      assert.equal((await page.locator('h1').innerText()).trim(), w.name);
      assert.equal(await page.locator('form[action="/account/name"] textarea#reason').count(), 1);
      assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
      assert.deepEqual(await axeCheck(page, `/account/name (${lang})`), []);
      await context.close();
    });
  }

  test('a citizen closes their account through the form and is logged out', async () => {
    const c = await pageLogin(srv.url, LEAVER.phone, LEAVER.password);
    const { context, page } = await open(c, '/me/data/close', 'zh');
    await page.locator('#password').fill('not the password');
    let res = await submit(page, page.locator('form[action="/me/data/close"] button[type="submit"]'));
    assert.equal(res.status(), 422);
    assert.equal(await page.locator('.error-summary').count(), 1);
    assert.deepEqual(await axeCheck(page, '/me/data/close (wrong password)'), []);
    await page.locator('#password').fill(LEAVER.password);
    res = await submit(page, page.locator('form[action="/me/data/close"] button[type="submit"]'));
    assert.equal(res.status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), WORDS.zh.closed);
    assert.equal(await page.evaluate(overflow), 0, 'no horizontal overflow');
    assert.deepEqual(await axeCheck(page, 'closed'), []);
    const after = await page.goto(`${srv.url}/me/data`, { waitUntil: 'load' });
    assert.ok(/\/login/.test(page.url()) || after.status() !== 200, 'still logged in after closing');
    await context.close();
  });
});
