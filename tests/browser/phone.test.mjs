// The hall on a phone (360 x 800) and in elder-friendly mode (长辈版), in Debian chromium.
//
// - Every route template, for every kind of account: one page of each (found by crawling the
//   links each account is offered, with the demo's applications, certificates, receipts and
//   log behind them) is opened at 360 x 800, in both languages, and fails on horizontal
//   overflow (document wider than the screen), visible text under 12 px or a serious or
//   critical axe violation.
// - The header leaves the screen to the content; the menu opens without script; search shows
//   results before its filters; the search button keeps its word on one line.
// - Elder-friendly mode: a switch on every page, remembered by a cookie; body text >= 18 px,
//   line spacing >= 1.3, controls >= 60 x 60 px on a phone, a simplified home, no suggestion
//   pop-up, axe-clean (contrast included) in both languages, full keyboard use, and at 200%
//   zoom no overflow and no clipped text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, DEMO, routes, apiLogin, applyOnline, actOn, demoCatalog, bearer, newIdNumber, newPhone, pageLogin,
} from '../api/helpers.mjs';
import { crawl, ROLES, loginAs } from '../api/crawl.mjs';
import { haveChromium, skip, axeCheck, launchBrowser, watchProblems } from './browser.mjs';

const PHONE = { width: 360, height: 800 };

let srv;
let browser;
let table;

before(async () => {
  if (!haveChromium) return;
  srv = await startServer({ name: 'phone' });
  table = (await routes()).filter((r) => r.methods.includes('GET'));
  // Real data behind the pages: an approved application with its certificate and receipts
  // (long numbers, hashes), one completed, one waiting for staff.
  // A citizen with a long name (the kind that broke pages): the applicant, the certificate's
  // holder, the name in the header.
  const catalog = demoCatalog();
  const reg = await bearer(`${srv.url}/api/v1/accounts/individual`, null, { method: 'POST', json: LONG });
  assert.equal(reg.status, 202, reg.body);
  const citizen = (await apiLogin(srv.url, LONG.phone, LONG.password)).token;
  const civ = (await apiLogin(srv.url, DEMO.staffB.phone)).token;
  const item = (code) => catalog.services.find((s) => s.code === code);
  const steps = [['accept', 'start_review', 'approve'], ['accept', 'start_review', 'approve', 'complete'], []];
  for (const [i, code] of ['civ-0001', 'civ-0006', 'civ-0006'].entries()) {
    const r = await applyOnline(srv.url, citizen, item(code), { key: `phone-${process.pid}-${i}` });
    assert.equal(r.status, 201, r.body);
    for (const a of steps[i]) {
      const s = await actOn(srv.url, civ, r.json.number, a);
      assert.equal(s.status, 200, `${a}: ${s.body}`);
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

const LONG = { name: '阿卜杜热合曼·买买提明·艾合买提江·吐尔逊尼亚孜·玉素甫江', id_number: newIdNumber(4242),
  phone: newPhone(), password: 'Lantern river phone maple' };
/** The crawl's callers: every kind of account, the citizen being the long-named one. */
const CRAWL = Object.keys(ROLES).map((role) => (role === 'citizen' ? 'longName' : role));

const client = (role, lang = 'zh') => (role === 'longName'
  ? pageLogin(srv.url, LONG.phone, LONG.password, { lang })
  : loginAs(srv.url, role, lang));

/** A browser context holding the HTTP client's cookies (its session, language, mode). */
async function contextOf(c, opts = {}) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', ...opts });
  context.setDefaultTimeout(20_000);
  const cookies = [...c.jar.cookies].map(([name, value]) => ({ name, value, url: srv.url }));
  if (cookies.length) await context.addCookies(cookies);
  return context;
}

/** Horizontal overflow (px beyond the screen, with the widest culprits) and visible text
 * under 12 px, measured in the page. */
function measure() {
  const vw = document.documentElement.clientWidth;
  const over = document.documentElement.scrollWidth - vw;
  const wide = [];
  if (over > 0) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0) wide.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.right)}px`);
    }
  }
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue; // visually hidden (for screen readers)
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) small.push(`${el.tagName.toLowerCase()} "${n.textContent.trim().slice(0, 30)}" ${size}px`);
  }
  return { over, wide: wide.slice(-5), small: small.slice(0, 5) };
}

describe('every page on a 360 x 800 phone', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`no page of any route template overflows the screen, shows text under 12 px or fails axe, for every role (${lang})`, async () => {
      const checked = new Set();
      const problems = [];
      let opened = 0;
      for (const role of CRAWL) {
        const c = await client(role, lang);
        const { pages } = await crawl(c, table, { perTemplate: 1 });
        const context = await contextOf(c);
        const page = await context.newPage();
        for (const p of pages.filter((x) => x.status === 200 && x.html && x.template)) {
          if (checked.has(p.template)) continue;
          checked.add(p.template);
          await page.goto(srv.url + p.path, { waitUntil: 'load' });
          opened++;
          const m = await page.evaluate(measure);
          if (m.over > 0) problems.push(`${role} ${p.path}: ${m.over}px wider than the screen (${m.wide.join('; ')})`);
          if (m.small.length) problems.push(`${role} ${p.path}: text under 12px: ${m.small.join('; ')}`);
          for (const v of await axeCheck(page, `${p.path} (${role}, ${lang})`)) problems.push(`${role} ${p.path}: axe ${v.id} ${v.nodes.join(', ')}`);
        }
        await context.close();
      }
      assert.ok(checked.size >= 50, `pages of ${checked.size} route templates checked (${opened} opened)`);
      for (const t of ['/certs/{number}', '/ledger', '/admin/calendar', '/stats', '/services/{code}', '/applications/{number}/receipt',
        '/help', '/help/{topic}', '/inbox/settings', '/inbox']) {
        assert.ok(checked.has(t), `the crawl reached ${t} (${[...checked].join(' ')})`);
      }
      assert.deepEqual(problems, []);
    });
  }

  test('the header leaves the screen to the content, and the menu opens without script', async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${srv.url}/services`);
    const top = await page.evaluate(() => document.querySelector('main').getBoundingClientRect().top);
    assert.ok(top <= 160, `the content starts ${top}px down the screen`);
    const nav = page.locator('.site-nav a[href="/verify"]');
    assert.equal(await nav.isVisible(), false, 'the menu is closed at first');
    await page.locator('summary.menu-button').click();
    await nav.waitFor({ state: 'visible' });
    await Promise.all([page.waitForURL(/\/verify$/), nav.click()]);
    await context.close();
  });

  test('search shows its results before the filters, and its button keeps its word on one line', async () => {
    for (const viewport of [PHONE, { width: 1280, height: 900 }]) {
      const context = await browser.newContext({ viewport, locale: 'zh-CN' });
      const page = await context.newPage();
      await page.goto(`${srv.url}/search?q=${encodeURIComponent('身份证')}`);
      const m = await page.evaluate(() => {
        const result = document.querySelector('#h-results ~ * a, section[aria-labelledby="h-results"] li a');
        const filters = [...document.querySelectorAll('.search-page-form select, main form select')].filter((s) => s.checkVisibility());
        const buttons = [...document.querySelectorAll('button[type="submit"]')].filter((b) => b.checkVisibility())
          .map((b) => ({ text: b.textContent.trim(), lines: Math.round(b.getBoundingClientRect().height / parseFloat(getComputedStyle(b).lineHeight)) }));
        return { result: result?.getBoundingClientRect().top ?? null, filter: filters.length ? Math.min(...filters.map((s) => s.getBoundingClientRect().top)) : null, buttons };
      });
      assert.ok(m.result !== null, 'a result is shown');
      if (viewport === PHONE) assert.ok(m.filter === null || m.filter > m.result, `a filter (${m.filter}px) before the first result (${m.result}px)`);
      for (const b of m.buttons) assert.ok(b.lines <= 2, `the button "${b.text}" wraps (${viewport.width}px): ${b.lines} lines`);
      await context.close();
    }
  });

  test('on a desktop the statistics tables are shown whole', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${srv.url}/stats`);
    const tables = await page.locator('.table-scroll table').count();
    assert.ok(tables > 0, 'the statistics have tables');
    const cut = await page.evaluate(() => [...document.querySelectorAll('.table-scroll')]
      .filter((d) => d.scrollWidth > d.clientWidth + 1).map((d) => d.getAttribute('aria-labelledby') ?? d.className));
    assert.deepEqual(cut, []);
    await context.close();
  });
});

describe('elder-friendly mode (长辈版)', { skip }, () => {
  test('the switch on every page turns it on, and the cookie remembers it', async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${srv.url}/services`);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), false);
    await Promise.all([page.waitForURL(/elder=1/), page.locator('a.elder-switch').click()]);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), true);
    const cookie = (await context.cookies(srv.url)).find((c) => c.name === 'elder');
    assert.equal(cookie?.value, '1');
    assert.ok(cookie.expires - Date.now() / 1000 > 300 * 86400, 'remembered for months');
    await page.goto(`${srv.url}/departments`);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), true, 'still on on the next page');
    await Promise.all([page.waitForURL(/elder=0/), page.locator('a.elder-switch').click()]);
    await page.goto(`${srv.url}/`);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), false, 'off again');
    await context.close();
  });

  for (const lang of ['zh', 'en']) {
    test(`text, spacing, touch targets, a simple home and axe (${lang})`, async () => {
      const c = await client('citizen', lang);
      c.jar.set('elder', '1');
      const context = await contextOf(c);
      const page = await context.newPage();
      const problems = [];
      watchProblems(page, problems);
      for (const p of ['/', '/services', '/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81', '/applications', '/progress', '/verify', '/account']) {
        await page.goto(srv.url + p);
        assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), true);
        await page.locator('summary.menu-button').click();
        const m = await page.evaluate(() => {
          const body = getComputedStyle(document.body);
          const small = [];
          const spacing = [];
          for (const el of document.querySelectorAll('main p, main li, main dd, main td, main label, main a, .site-nav a')) {
            if (!el.checkVisibility() || !el.textContent.trim()) continue;
            const cs = getComputedStyle(el);
            const size = parseFloat(cs.fontSize);
            const lh = cs.lineHeight === 'normal' ? 0 : parseFloat(cs.lineHeight);
            if (size < 16) small.push(`${el.tagName} "${el.textContent.trim().slice(0, 20)}" ${size}px`);
            if (lh < 1.3 * size - 0.01) spacing.push(`${el.tagName} "${el.textContent.trim().slice(0, 20)}" ${lh}/${size}`);
          }
          const targets = [];
          const controls = 'main button, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, main textarea, '
            + 'main .button, main .button-secondary, main summary, header button, header input, header a, header summary';
          for (const el of document.querySelectorAll(controls)) {
            if (!el.checkVisibility()) continue;
            const r = el.getBoundingClientRect();
            if (r.width <= 1 || r.height <= 1) continue;
            if (r.width < 59.5 || r.height < 59.5) targets.push(`${el.tagName}.${el.className} "${(el.textContent || el.name || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
          }
          return { body: parseFloat(body.fontSize), bodyLh: parseFloat(body.lineHeight) / parseFloat(body.fontSize),
            small: small.slice(0, 5), spacing: spacing.slice(0, 5), targets: targets.slice(0, 8),
            over: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            suggest: !!document.querySelector('.suggest-list') };
        });
        assert.ok(m.body >= 18, `${p}: body text ${m.body}px`);
        assert.ok(m.bodyLh >= 1.3, `${p}: line spacing ${m.bodyLh}`);
        assert.deepEqual(m.small, [], `${p}: text under 16px`);
        assert.deepEqual(m.spacing, [], `${p}: line spacing under 1.3`);
        assert.deepEqual(m.targets, [], `${p}: touch targets under 60 x 60`);
        assert.equal(m.over, 0, `${p}: wider than the screen`);
        assert.equal(m.suggest, false, `${p}: the suggestion pop-up is off`);
        await page.locator('summary.menu-button').click();
        assert.deepEqual(await axeCheck(page, `${p} elder ${lang}`), [], `${p}: axe`);
      }
      await page.goto(`${srv.url}/`);
      const home = await page.evaluate(() => ({
        sections: document.querySelectorAll('main section').length,
        tiles: document.querySelectorAll('main .tile').length,
        search: !!document.querySelector('main form[role="search"] input'),
      }));
      assert.ok(home.search && home.tiles > 0, 'the simple home has the search and the services');
      assert.ok(home.sections <= 3, `the simple home has ${home.sections} sections`);
      assert.deepEqual(problems, []);
      await context.close();
    });
  }

  test('full keyboard use: the switch, the menu and its links by Tab, Enter and Escape', async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
    await context.addCookies([{ name: 'elder', value: '1', url: srv.url }]);
    const page = await context.newPage();
    await page.goto(`${srv.url}/`);
    const focused = () => page.evaluate(() => {
      const a = document.activeElement;
      return a ? `${a.tagName.toLowerCase()}.${a.className}` : '';
    });
    const reached = [];
    for (let i = 0; i < 8 && !reached.includes('summary.menu-button'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await focused());
    }
    assert.ok(reached.includes('a.elder-switch'), `Tab reaches the elder switch (${reached.join(' ')})`);
    assert.ok(reached.includes('summary.menu-button'), `Tab reaches the menu (${reached.join(' ')})`);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.querySelector('details.menu').open), true, 'Enter opens the menu');
    await page.keyboard.press('Tab');
    assert.match(await focused(), /^(a|button)\./, 'Tab goes into the menu');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.querySelector('details.menu').open), false, 'Escape closes it');
    assert.equal(await focused(), 'summary.menu-button', 'and gives the focus back to its button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focus is visible');
    await context.close();
  });

  test('at 200% zoom: no horizontal overflow and no clipped text', async () => {
    // 200% zoom on a 1280 x 800 screen lays the page out in 640 x 400 CSS pixels.
    const c = await client('citizen', 'zh');
    c.jar.set('elder', '1');
    const context = await contextOf(c, { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    for (const p of ['/', '/services', '/applications', '/wallet', '/stats', '/ledger', '/verify']) {
      await page.goto(srv.url + p);
      const m = await page.evaluate(() => {
        const clipped = [];
        for (const el of document.querySelectorAll('body *')) {
          const cs = getComputedStyle(el);
          if (!el.checkVisibility() || el.closest('.table-scroll') || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) continue;
          const r = el.getBoundingClientRect();
          if (r.width <= 1 || r.height <= 1) continue;
          const hides = (v) => v === 'hidden' || v === 'clip';
          if ((hides(cs.overflowX) && el.scrollWidth > el.clientWidth + 1) || (hides(cs.overflowY) && el.scrollHeight > el.clientHeight + 1)
              || cs.textOverflow === 'ellipsis') clipped.push(`${el.tagName}.${el.className}`);
        }
        return { over: document.documentElement.scrollWidth - document.documentElement.clientWidth, clipped: clipped.slice(0, 5) };
      });
      assert.equal(m.over, 0, `${p}: wider than the window at 200%`);
      assert.deepEqual(m.clipped, [], `${p}: clipped text at 200%`);
    }
    await context.close();
  });
});
