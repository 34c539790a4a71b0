// The hub's national pages in a real browser (Debian chromium through playwright-core), at a
// phone's width: the national search and national supervision, with one joined hall whose
// catalog and statistics the hub has read; no horizontal scrolling of the page (wide tables
// scroll in their own region), and axe-core finds no serious or critical violation, in both
// languages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, govhall, startServer, waitFor } from '../api/helpers.mjs';
import { freePort } from '../api/pay-fixtures.mjs';
import { haveChromium, skip, axeCheck, launchBrowser, watchProblems } from './browser.mjs';

let hub;
let hall;
let browser;
const problems = [];

before(async () => {
  if (!haveChromium) return;
  const hubPort = await freePort();
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  hub = await startServer({ name: 'browser_nat_hub', demo: false, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl,
    '--role', 'hub', '--fed-directory-period', '1'] });
  hub.publicUrl = hubUrl;
  const r = await govhall(['federation', 'client', 'add', 'lanshan', '--name', '兰山市', '--redirect', 'http://127.0.0.1:9/cb', '--db', hub.db]);
  assert.equal(r.code, 0, r.stderr);
  const secret = /client_secret: (\S+)/.exec(r.stdout)[1];
  const hallPort = await freePort();
  const hallUrl = `http://127.0.0.1:${hallPort}`;
  hall = await startServer({ name: 'browser_nat_hall', initArgs: ['--region', 'lanshan', '--history', '3'], extraArgs: ['--listen', `127.0.0.1:${hallPort}`,
    '--public-url', hallUrl, '--fed-hub-url', hubUrl, '--fed-client-id', 'lanshan', '--fed-client-secret', secret] });
  const j = await govhall(['federation', 'join', '--name', '兰山市', '--region', '兰山', '--db', hall.db, '--fed-hub-url', hubUrl,
    '--fed-client-id', 'lanshan', '--public-url', hallUrl], { keyFile: hall.keyFile });
  assert.equal(j.code, 0, j.stderr);
  assert.equal((await govhall(['federation', 'hall', 'approve', 'lanshan', '--db', hub.db])).code, 0);
  await waitFor(async () => (await getJson(`${hubUrl}/api/v1/national/statistics`)).json.rows.length === 1 &&
    (await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('民宿')}`)).json.total > 0, { what: 'the hub to read the hall' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.allSettled([hub?.stop(), hall?.stop()]);
});

describe('the hub\'s national pages at a phone\'s width', { skip }, () => {
  test('national search and supervision: no horizontal scrolling, no serious axe violation', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    watchProblems(page, problems);
    try {
      const wide = [];
      for (const lang of ['zh', 'en']) {
        for (const p of [`/national/search?q=${encodeURIComponent('兰山 民宿')}`, '/national/statistics?by=hall',
          '/national/statistics?by=department&sort=satisfaction_rate']) {
          const res = await page.goto(`${hub.publicUrl}${p}&lang=${lang}`);
          assert.equal(res.status(), 200, p);
          const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
          if (m.scroll > m.client) wide.push(`${p} (${lang}): scrollWidth ${m.scroll} > ${m.client}`);
          assert.deepEqual(await axeCheck(page, `${p} (${lang})`), []);
        }
      }
      assert.deepEqual(wide, []);
      // The search lists the hall's own item, linking to its guide at the hall.
      await page.goto(`${hub.publicUrl}/national/search?q=${encodeURIComponent('兰山 民宿')}`);
      const link = page.locator('li[data-code="ctb-0101"] a').first();
      assert.match(await link.getAttribute('href'), /\/services\/ctb-0101$/);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });
});
