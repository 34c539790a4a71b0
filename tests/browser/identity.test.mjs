// Identity in a real browser (Debian chromium through playwright-core): register an
// individual through the form, log in with the phone number, see the account page with the
// ID number masked, log out; and axe-core (no serious or critical violations) on /login,
// /register, /register/enterprise and /account in both languages, plus a registration form
// showing its error messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { newIdNumber, newPhone, startServer, tempDir } from '../api/helpers.mjs';
import { haveChromium, skip, axeCheck, submit, launchProfile, watchProblems } from './browser.mjs';


let srv;
let profile;
let browser;
let problems = [];

before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'browser_identity' });
  profile = await tempDir('govhall-chromium-');
  browser = await launchProfile(profile.path);
  browser.on('page', watch);
});

after(async () => {
  await browser?.close().catch(() => {});
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


/** Submits the form holding `button` and waits for the page it leads to. */

const person = { name: '浏览器测试', id_number: newIdNumber(555_001), phone: newPhone(), password: 'Browser test willow path 7' };

describe('register, log in, account, log out', { skip }, () => {
  test('an individual goes through the whole journey', async () => {
    const page = await browser.newPage();
    try {
      let res = await page.goto(`${srv.url}/register`);
      assert.equal(res.status(), 200, '/register');
      await page.getByLabel(/姓名|名称/).first().fill(person.name);
      await page.locator('#id_number').fill(person.id_number);
      await page.locator('#phone').fill(person.phone);
      await page.locator('#password').fill(person.password);
      await page.locator('#password2').fill(person.password);
      res = await submit(page, page.locator('form[action="/register"] button[type="submit"]'));
      assert.equal(res.status(), 200, `registration answered ${res.status()}`);
      assert.ok(!(await page.content()).includes(person.id_number), 'the registration page shows the full ID number');

      res = await page.goto(`${srv.url}/login`);
      assert.equal(res.status(), 200, '/login');
      await page.locator('#login').fill(person.phone);
      await page.locator('#password').fill(person.password);
      res = await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
      assert.equal(res.status(), 200, `after log-in: ${res.status()} ${page.url()}`);
      assert.match(page.url(), /\/account(\?|$)/);
      const text = await page.locator('main, body').first().innerText();
      assert.ok(text.includes(person.name), 'the account page lacks the name');
      const masked = `${person.id_number.slice(0, 4)}**********${person.id_number.slice(-4)}`;
      assert.ok(text.includes(masked), `the account page lacks the masked ID number ${masked}`);
      const html = await page.content();
      assert.ok(!html.includes(person.id_number), 'the account page shows the full ID number');
      assert.ok(!html.includes(person.phone), 'the account page shows the full phone number');
      const cookies = await browser.cookies(srv.url);
      const sid = cookies.find((c) => c.name === 'gh_sid');
      assert.ok(sid?.httpOnly, 'gh_sid is not HttpOnly');
      assert.equal(sid?.sameSite, 'Lax');
      assert.equal(await page.evaluate(() => document.cookie.includes('gh_sid')), false, 'scripts can read gh_sid');

      res = await submit(page, page.locator('form[action="/logout"] button[type="submit"]').first());
      assert.equal(new URL(page.url()).pathname, '/');
      assert.deepEqual(takeProblems(), []);
      // After log-out, the account page sends the visitor to log in and come back.
      res = await page.goto(`${srv.url}/account`);
      const after = new URL(page.url());
      assert.equal(after.pathname, '/login', '/account after log-out');
      assert.equal(after.searchParams.get('next'), '/account');
      assert.equal(res.status(), 200);
      assert.deepEqual(takeProblems(), []);
    } finally {
      await page.close();
    }
  });
});

describe('accessibility', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    for (const p of ['/login', '/register', '/register/enterprise']) {
      test(`${p} (${lang}) has no serious or critical axe violations`, async () => {
        const page = await browser.newPage();
        try {
          const res = await page.goto(`${srv.url}${p}?lang=${lang}`);
          assert.equal(res.status(), 200, `${p}: ${res.status()}`);
          assert.deepEqual(await axeCheck(page, `${p} ${lang}`), []);
          assert.deepEqual(takeProblems(), []);
        } finally {
          await page.close();
        }
      });
    }

    test(`/register with errors (${lang}) has no serious or critical axe violations`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${srv.url}/register?lang=${lang}`);
        await page.locator('#phone').fill('123');
        const res = await submit(page, page.locator('form[action="/register"] button[type="submit"]'));
        assert.equal(res.status(), 422);
        assert.ok(await page.locator('[aria-invalid="true"]').count() > 0, 'no field is marked invalid');
        assert.deepEqual(await axeCheck(page, `/register errors ${lang}`), []);
        takeProblems();
      } finally {
        await page.close();
      }
    });

    test(`/account (${lang}) has no serious or critical axe violations`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${srv.url}/login?lang=${lang}`);
        await page.locator('#login').fill('13800000001');
        await page.locator('#password').fill('Qinghe-demo-2026');
        await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
        const res = await page.goto(`${srv.url}/account?lang=${lang}`);
        assert.equal(res.status(), 200, `/account: ${res.status()}`);
        assert.equal(await page.evaluate(() => document.documentElement.lang.slice(0, 2)), lang);
        assert.deepEqual(await axeCheck(page, `/account ${lang}`), []);
        assert.deepEqual(takeProblems(), []);
        await submit(page, page.locator('form[action="/logout"] button[type="submit"]').first());
      } finally {
        await page.close();
      }
    });
  }
});
