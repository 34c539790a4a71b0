// The hall as an installable web app (PWA), in Debian chromium: the manifest and its icons meet
// the installability criteria, the service worker controls the pages, a guide a visitor
// opened reads offline (and other pages show the offline page), and nothing personal is ever
// kept: no page of a logged-in visitor, no API answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, pageLogin, DEMO, demoCatalog } from '../api/helpers.mjs';
import { haveChromium, skip, launchBrowser, watchProblems } from './browser.mjs';

const catalog = demoCatalog();
const GUIDE = catalog.services[0];
const OTHER = catalog.services[1];

let srv;
let browser;
before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'pwa' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

/** Width and height of a PNG (its IHDR chunk). */
function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString(), 'PNG', 'a PNG file');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

/** Everything the page's origin keeps in Cache Storage: [{cache, url, text}]. */
function cached(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) {
        const res = await c.match(req);
        const type = res.headers.get('content-type') || '';
        out.push({ cache: name, url: new URL(req.url).pathname + new URL(req.url).search,
          text: /text|json/.test(type) ? await res.text() : '' });
      }
    }
    return out;
  });
}

async function controlled(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20_000 });
}

describe('installable web app', { skip }, () => {
  test('manifest, icons and service worker meet the installability criteria', async () => {
    for (const lang of ['zh', 'en']) {
      const res = await fetch(`${srv.url}/manifest.webmanifest?lang=${lang}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/manifest\+json/);
      const m = await res.json();
      assert.ok(m.name && m.short_name, 'name and short_name');
      assert.equal(m.lang.slice(0, 2), lang);
      assert.equal(m.start_url, '/');
      assert.equal(m.scope, '/');
      assert.match(m.display, /^(standalone|fullscreen|minimal-ui)$/);
      assert.match(m.theme_color, /^#[0-9a-f]{6}$/i);
      for (const size of [192, 512]) {
        const icon = m.icons.find((i) => i.sizes === `${size}x${size}` && i.type === 'image/png' && /any/.test(i.purpose));
        assert.ok(icon, `a ${size}px PNG icon`);
        const r = await fetch(srv.url + icon.src);
        assert.equal(r.status, 200);
        assert.deepEqual(pngSize(Buffer.from(await r.arrayBuffer())), [size, size], `${icon.src} is ${size}px`);
      }
      assert.ok(m.icons.some((i) => i.purpose === 'maskable'), 'a maskable icon');
    }
    const sw = await fetch(`${srv.url}/sw.js`);
    assert.equal(sw.status, 200);
    assert.match(sw.headers.get('content-type'), /javascript/);
    assert.equal(sw.headers.get('cache-control'), 'no-cache', 'browsers look for a new version on every visit');
    assert.equal(sw.headers.get('service-worker-allowed'), '/');

    const context = await browser.newContext({ locale: 'zh-CN', serviceWorkers: 'allow' });
    const page = await context.newPage();
    const problems = [];
    watchProblems(page, problems);
    await page.goto(`${srv.url}/`);
    assert.equal(await page.locator('link[rel="manifest"]').getAttribute('href'), '/manifest.webmanifest?lang=zh');
    await controlled(page);
    const reg = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).scope);
    assert.equal(reg, `${srv.url}/`);
    // Installing kept the offline page in both languages without touching the visitor's
    // language: the next pages, through the worker, are still Chinese.
    assert.ok(!(await context.cookies(srv.url)).some((c) => c.name === 'lang'), 'no language cookie set by the worker');
    for (const p of ['/departments', `/services/${GUIDE.code}`]) {
      await page.goto(srv.url + p);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN', `${p} through the worker`);
    }
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a guide the visitor opened reads offline; other pages show the offline page', async () => {
    const context = await browser.newContext({ locale: 'zh-CN', serviceWorkers: 'allow' });
    const page = await context.newPage();
    await page.goto(`${srv.url}/`);
    await controlled(page);
    await page.goto(`${srv.url}/services/${GUIDE.code}`);
    const title = await page.locator('h1').innerText();
    await page.waitForFunction(async (p) => !!(await (await caches.open('govhall-guides-v1')).match(location.origin + p)),
      `/services/${GUIDE.code}`);
    await context.setOffline(true);
    try {
      await page.goto(`${srv.url}/services/${GUIDE.code}`);
      assert.equal(await page.locator('h1').innerText(), title, 'the guide reads offline');
      assert.ok(await page.locator('link[href="/static/css/site.css"]').count(), 'with its stylesheet');
      assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.site-header')).position), 'relative',
        'the stylesheet comes from the kept shell');
      await page.goto(`${srv.url}/services/${OTHER.code}`);
      assert.equal(await page.locator('h1').innerText(), '暂时没有网络', 'a guide never opened: the offline page');
      await page.goto(`${srv.url}/applications`);
      assert.equal(await page.locator('h1').innerText(), '暂时没有网络');
    } finally {
      await context.setOffline(false);
      await context.close();
    }
  });

  test('nothing personal is kept: not a logged-in visitor’s pages, guides or API answers', async () => {
    const c = await pageLogin(srv.url, DEMO.citizen.phone);
    const home = await c.get('/');
    assert.equal(home.headers.get('cache-control'), 'private, no-store', 'pages of a logged-in visitor');
    const api = await c.get('/api/v1/me/inbox');
    assert.ok(api.status !== 200 || /no-store/.test(api.headers.get('cache-control') ?? ''));

    const context = await browser.newContext({ locale: 'zh-CN', serviceWorkers: 'allow' });
    await context.addCookies([...c.jar.cookies].map(([name, value]) => ({ name, value, url: srv.url })));
    const page = await context.newPage();
    await page.goto(`${srv.url}/`);
    await controlled(page);
    for (const p of ['/applications', '/wallet', '/inbox', '/account', `/services/${GUIDE.code}`, `/bundles/${catalog.bundles[0].code}`]) {
      await page.goto(srv.url + p);
    }
    await page.evaluate(() => fetch('/api/v1/me/inbox').then((r) => r.text()));
    const kept = await cached(page);
    assert.ok(kept.length >= 8, 'the shell is kept');
    for (const k of kept) {
      assert.match(k.url, /^\/(static\/|offline\?lang=(zh|en)$)/, `${k.url} kept in ${k.cache}`);
      assert.ok(!k.text.includes(DEMO.citizen.name), `${k.url} holds the visitor's name`);
    }
    await context.close();
  });
});
