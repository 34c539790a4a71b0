#!/usr/bin/env node
// scripts/screenshots.mjs (make screenshots): the README's pictures, taken from a demo hall
// with its year of history by the browser the tests use (Debian chromium through
// playwright-core), then made small with pngquant.
//
//   node scripts/screenshots.mjs            (GOVHALL_BIN: the binary, default build/test/govhall)
//
// It writes, under docs/:
//   screenshot.png           the home page on a desktop, in English
//   screenshot-stats.png     the public statistics of the last year (figures, the first chart)
//                            on a desktop, in Chinese
//   screenshot-phone.png     a service guide on a 360-pixel phone, in Chinese
//   screenshot-timeline.png  the demo citizen's completed application (the certificate it
//                            produced, their rating, its timeline) on a phone, in English
// Each is checked for what it is meant to show before it is written, so a page that changed its
// shape fails here instead of putting a wrong picture in the README.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DEMO, apiLogin, bearer, freshDb, initDb, pageLogin, root, serve } from '../tests/api/helpers.mjs';
import { launchBrowser } from '../tests/browser/browser.mjs';

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 780 };
const out = (name) => path.join(root, 'docs', name);

const db = await freshDb('screenshots');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'govhall-shots-'));
let srv, browser;
try {
  await initDb(db.url, { keyFile: db.keyFile, history: 365 });
  srv = await serve(db.url, { keyFile: db.keyFile });
  browser = await launchBrowser();

  /**
   * Opens url in a fresh context (lang cookie, viewport, device pixels 1), waits for check, and
   * takes the viewport, scrolled so that the element top names is at its top when given.
   */
  async function shot(name, url, { viewport, lang, cookies = [], check, top }) {
    const context = await browser.newContext({ viewport, locale: lang === 'en' ? 'en-GB' : 'zh-CN', deviceScaleFactor: 1 });
    await context.addCookies([{ name: 'lang', value: lang, url: srv.url }, ...cookies.map(([n, v]) => ({ name: n, value: v, url: srv.url }))]);
    const page = await context.newPage();
    const res = await page.goto(`${srv.url}${url}`, { waitUntil: 'load' });
    if (res.status() !== 200) throw new Error(`${url}: ${res.status()}`);
    await check(page);
    if (top) {
      await page.locator(top).first().evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 12));
      await page.waitForFunction(() => window.scrollY > 0);
    }
    const raw = path.join(tmp, name);
    await page.screenshot({ path: raw });
    await context.close();
    // A palette of at most 128 colours: the pages are flat colour and text.
    execFileSync('pngquant', ['--force', '--skip-if-larger', '--strip', '--quality', '60-90', '128', '--output', out(name), raw]);
    console.log(`${name}: ${Math.round(statSync(out(name)).size / 1024)} KB`);
  }
  const sees = (text) => async (page) => {
    await page.getByText(text, { exact: false }).first().waitFor();
  };

  await shot('screenshot.png', '/', { viewport: DESKTOP, lang: 'en', check: sees('Qinghe') });

  const today = new Date(Date.now() + 8 * 3600e3);
  const from = new Date(today - 364 * 86400e3).toISOString().slice(0, 10);
  await shot('screenshot-stats.png', `/stats?from=${from}&to=${today.toISOString().slice(0, 10)}&period=month`,
    { viewport: { width: 1280, height: 1000 }, lang: 'zh', check: sees('满意'), top: '.stats .meta' });

  await shot('screenshot-phone.png', '/services/psb-0005', { viewport: PHONE, lang: 'zh', check: sees('出生登记') });

  // The demo citizen's most recent completed application that produced a certificate, one they
  // rated well when there is one.
  const { token } = await apiLogin(srv.url, DEMO.citizen.phone);
  const mine = (await bearer(`${srv.url}/api/v1/applications?per_page=100`, token)).json.items;
  const wallet = new Set((await bearer(`${srv.url}/api/v1/wallet`, token)).json.items.map((c) => c.application));
  const liked = new Set((await bearer(`${srv.url}/api/v1/me/evaluations`, token)).json.items
    .filter((e) => e.subject === 'application' && e.level >= 4).map((e) => e.ref));
  const certified = mine.filter((a) => a.state === 'completed' && wallet.has(a.number));
  const done = certified.find((a) => liked.has(a.number)) ?? certified[0];
  if (!done) throw new Error('the demo citizen has no completed application with a certificate');
  const client = await pageLogin(srv.url, DEMO.citizen.phone, undefined, { lang: 'en' });
  const session = [...client.jar.cookies];
  await shot('screenshot-timeline.png', `/applications/${done.number}`,
    { viewport: { width: 360, height: 960 }, lang: 'en', cookies: session, check: sees(done.number), top: '.case-certificate' });
} finally {
  await browser?.close();
  await srv?.stop();
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
}
