// The transparency log in a real browser (Debian chromium through playwright-core): a citizen
// whose application was accepted follows the receipts link from the application page and
// downloads the receipt; the public log page, its look-up form and a leaf page; axe-core (no
// serious or critical violations) on each, in both languages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DEMO, apiLogin, applyOnline, bearer, demoCatalog, startServer } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, submit, logIn, watchProblems } from './browser.mjs';

const ITEM = demoCatalog().services.find((s) => s.code === 'psb-0001');

let srv;
let browser;
let number;
let problems = [];

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_ledger' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  const citizen = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  const staff = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
  const app = await applyOnline(srv.url, citizen, ITEM);
  assert.equal(app.status, 201, app.body);
  number = app.json.number;
  const acc = await bearer(`${srv.url}/api/v1/applications/${number}/actions/accept`, staff, { method: 'POST', json: {} });
  assert.equal(acc.status, 200, acc.body);
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function newPage(lang = 'zh') {
  const ctx = await browser.newContext({ locale: lang === 'en' ? 'en-GB' : 'zh-CN', acceptDownloads: true });
  ctx.setDefaultTimeout(20_000);
  const page = await ctx.newPage();
  watchProblems(page, problems, { network: false });
  return page;
}

describe('receipts and the public log', { skip }, () => {
  test('the applicant follows the link from the application to its receipts and downloads one', async () => {
    const page = await newPage();
    try {
      await logIn(page, srv.url, DEMO.citizen.phone);
      await page.goto(`${srv.url}/applications/${number}`);
      await submit(page, page.locator(`a[href="/applications/${number}/receipts"]`));
      assert.equal(new URL(page.url()).pathname, `/applications/${number}/receipts`);
      assert.match(await page.locator('h1').innerText(), /办件回执/);
      assert.deepEqual(await axeCheck(page, 'receipts zh'), []);
      const link = page.locator(`a[href^="/applications/${number}/receipts/"]`).first();
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const receipt = JSON.parse(await readFile(await download.path(), 'utf8'));
      assert.equal(receipt.type, 'govhall.receipt/v1');
      assert.equal(JSON.parse(receipt.leaf).action, 'submit'); // the first step: its submission
      assert.match(download.suggestedFilename(), new RegExp(`^receipt-${number}-\\d+\\.json$`));
      await page.goto(`${srv.url}/applications/${number}/receipts?lang=en`);
      assert.match(await page.locator('h1').innerText(), /Receipts/);
      assert.deepEqual(await axeCheck(page, 'receipts en'), []);
    } finally {
      await page.context().close();
    }
    assert.deepEqual(problems.splice(0), []);
  });

  for (const lang of ['zh', 'en']) {
    test(`the public log page, the look-up form and a leaf (${lang})`, async () => {
      const page = await newPage(lang);
      try {
        const res = await page.goto(`${srv.url}/ledger?lang=${lang}`);
        assert.equal(res.status(), 200);
        assert.match(await page.locator('h1').innerText(), lang === 'en' ? /Transparency log/ : /公开日志/);
        assert.deepEqual(await axeCheck(page, `ledger ${lang}`), []);
        await page.locator('#leaf-index').fill('3');
        const leaf = await submit(page, page.locator('form[action="/ledger/leaf"] button[type="submit"]'));
        assert.equal(leaf.status(), 200);
        assert.equal(new URL(page.url()).pathname, '/ledger/leaves/3');
        assert.ok(await page.locator('pre.ledger-note').first().isVisible());
        assert.deepEqual(await axeCheck(page, `leaf ${lang}`), []);
      } finally {
        await page.context().close();
      }
      assert.deepEqual(problems.splice(0), []);
    });
  }
});
