// Forgot password in a real browser (Debian chromium through playwright-core), at phone width
// (360 x 800) in Chinese and on a desktop in English: from the log-in page's link to the form,
// a code by SMS (the stand-in gateway of helpers.mjs), a new password, no session afterwards,
// and a log-in with the new password; axe-core (no serious or critical violations) on every
// page of the flow, also with its error messages, and on the phone number page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, bearer, newIdNumber, newPhone, smsGateway, startServer,
} from '../api/helpers.mjs';
import { axeCheck, haveChromium, launchBrowser, skip, submit, watchProblems } from './browser.mjs';

let srv;
let sms;
let browser;
let seq = 770_000 + Math.floor(Math.random() * 10_000);

before(async () => {
  if (!haveChromium) return;
  sms = await smsGateway();
  srv = await startServer({
    name: 'browser_recovery',
    extraArgs: ['--notify-sms-url', sms.url, '--notify-webhook-secret', 'browser-recovery-secret-0123456789'],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
  await sms?.close();
});

/** A citizen registered through the API whose number is verified. */
async function verifiedCitizen() {
  seq++;
  const p = { name: '找回测试', id_number: newIdNumber(seq), phone: newPhone(), password: `Browser lantern ${seq} path` };
  const r = await bearer(`${srv.url}/api/v1/accounts/individual`, null, { method: 'POST', json: p });
  assert.equal(r.status, 202, r.body);
  const code = await sms.code(p.phone);
  const t = await apiLogin(srv.url, p.phone, p.password);
  const v = await bearer(`${srv.url}/api/v1/me/phone/verify`, t.token, { method: 'POST', json: { code } });
  assert.equal(v.status, 200, v.body);
  return p;
}

/** No horizontal scrolling at this width. */
async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

const flows = [
  { lang: 'zh', locale: 'zh-CN', viewport: { width: 360, height: 800 }, link: '忘记密码？', send: '发送验证码',
    set: '设置新密码', login: '登录', done: /新密码已经生效/ },
  { lang: 'en', locale: 'en-GB', viewport: { width: 1280, height: 900 }, link: 'Forgot your password?', send: 'Send the code',
    set: 'Set the new password', login: 'Log in', done: /Your new password works now/ },
];

describe('forgot password', { skip }, () => {
  for (const f of flows) {
    test(`a citizen resets the password and logs in with the new one (${f.lang}, ${f.viewport.width} px)`, async () => {
      const p = await verifiedCitizen();
      const context = await browser.newContext({ locale: f.locale, viewport: f.viewport });
      context.setDefaultTimeout(20_000);
      const problems = [];
      const page = await context.newPage();
      watchProblems(page, problems);
      try {
        let res = await page.goto(`${srv.url}/login?lang=${f.lang}`);
        assert.equal(res.status(), 200);
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('link', { name: f.link }).click()]);
        assert.match(page.url(), /\/password\/forgot$/);
        assert.deepEqual(await axeCheck(page, `forgot ${f.lang}`), []);
        assert.ok(await fitsWidth(page), 'the forgot page scrolls sideways');
        // A name of no known shape: the error, beside its field and in the summary.
        await page.locator('#login').fill('not a name');
        res = await submit(page, page.getByRole('button', { name: f.send }));
        assert.equal(res.status(), 422);
        assert.equal(await page.locator('#login').getAttribute('aria-invalid'), 'true');
        assert.deepEqual(await axeCheck(page, `forgot with errors ${f.lang}`), []);
        await page.locator('#login').fill(p.phone);
        res = await submit(page, page.getByRole('button', { name: f.send }));
        assert.equal(res.status(), 200);
        assert.equal(await page.locator('#login').inputValue(), p.phone);
        assert.deepEqual(await axeCheck(page, `reset ${f.lang}`), []);
        assert.ok(await fitsWidth(page), 'the reset page scrolls sideways');
        const code = await sms.code(p.phone);
        const fresh = `Meadow bridge ${seq} ${f.lang} bell`;
        // A wrong repetition first: the form again, with its error.
        await page.locator('#code').fill(code);
        await page.locator('#password').fill(fresh);
        await page.locator('#password2').fill(`${fresh}!`);
        res = await submit(page, page.getByRole('button', { name: f.set }));
        assert.equal(res.status(), 422);
        assert.deepEqual(await axeCheck(page, `reset with errors ${f.lang}`), []);
        await page.locator('#code').fill(code);
        await page.locator('#password').fill(fresh);
        await page.locator('#password2').fill(fresh);
        res = await submit(page, page.getByRole('button', { name: f.set }));
        assert.equal(res.status(), 200);
        assert.match(await page.locator('body').innerText(), f.done);
        assert.deepEqual(await axeCheck(page, `reset done ${f.lang}`), []);
        assert.ok(!(await context.cookies(srv.url)).some((c) => c.name === 'gh_sid'), 'a reset logs nobody in');
        // Log in with the new password, from the done page's button.
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('main a.button, a.button').first().click()]);
        await page.locator('#login').fill(p.phone);
        await page.locator('#password').fill(fresh);
        res = await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
        assert.equal(res.status(), 200);
        assert.match(page.url(), /\/account/);
        // The number page, verified.
        res = await page.goto(`${srv.url}/account/phone`);
        assert.equal(res.status(), 200);
        assert.deepEqual(await axeCheck(page, `phone ${f.lang}`), []);
        assert.ok(await fitsWidth(page), 'the phone page scrolls sideways');
        // Chromium logs the 422 of the refused forms themselves as console errors: expected.
        assert.deepEqual(problems.filter((x) => !/status of 422/.test(x)), []);
      } finally {
        await context.close();
      }
    });
  }
});
