// Kiosk mode, counter intake and the receipt in a real browser (Debian chromium through
// playwright-core) on a portrait kiosk screen (1080x1920): the kiosk start page and the
// receipt pass axe-core (no serious or critical violations) in both languages, kiosk.js is
// loaded and shows the print button, a citizen's application filed at the kiosk ends on the
// receipt, and two idle minutes (fast-forwarded with page.clock) end the session and bring
// the kiosk back to its start page. Also axe on the counter intake pages (390px wide).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DEMO, demoCatalog, samplePdf, startServer } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, submit, logIn, watchProblems } from './browser.mjs';

const ITEM = demoCatalog().services.find((s) => s.code === 'psb-0001');
const KIOSK = { width: 1080, height: 1920 };

let srv;
let browser;
let problems = [];

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_kiosk' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function newContext(viewport) {
  const ctx = await browser.newContext({ locale: 'zh-CN', viewport });
  ctx.setDefaultTimeout(20_000);
  ctx.on('page', (page) => {
    watchProblems(page, problems);
  });
  return ctx;
}
function takeProblems() {
  const p = problems;
  problems = [];
  return p;
}



async function login(page, phone) {
  await logIn(page, srv.url, phone);
}

function formValue(f) {
  switch (f.type) {
    case 'id_number': return DEMO.citizen.id_number;
    case 'phone': return DEMO.citizen.phone;
    case 'date': return '2026-01-05';
    case 'address': return '清河市和平路 1 号';
    default: return DEMO.citizen.name;
  }
}

async function fillApplyForm(page) {
  for (const f of ITEM.form) {
    if (!f.required) continue;
    const el = page.locator(`#f_${f.key}`);
    if (f.type === 'select') await el.selectOption(f.options[0].value);
    else await el.fill(formValue(f));
  }
  for (const [i, m] of ITEM.materials.entries()) {
    if (m.required) await page.locator(`#material_${i}`).setInputFiles({ name: `材料${i}.pdf`, mimeType: 'application/pdf', buffer: samplePdf() });
  }
}

describe('kiosk', { skip }, () => {
  let ctx;
  let page;
  let receiptUrl;
  before(async () => {
    ctx = await newContext(KIOSK);
    page = await ctx.newPage();
  });
  after(async () => { await ctx?.close().catch(() => {}); });

  test('the start page: kiosk style, kiosk.js loaded, three large choices, accessible', async () => {
    const js = page.waitForResponse((r) => r.url().endsWith('/static/js/kiosk.js'));
    const res = await page.goto(`${srv.url}/kiosk`);
    assert.equal(res.status(), 200);
    assert.equal((await js).status(), 200, 'kiosk.js is loaded');
    assert.ok(await page.evaluate(() => document.body.classList.contains('kiosk')));
    const choices = page.locator('.kiosk-choice');
    assert.equal(await choices.count(), 3);
    for (let i = 0; i < 3; i++) {
      const box = await choices.nth(i).boundingBox();
      assert.ok(box.height >= 96 && box.width >= 600, `choice ${i} is a large target: ${JSON.stringify(box)}`);
    }
    assert.deepEqual(await axeCheck(page, 'kiosk start zh'), []);
    await page.goto(`${srv.url}/kiosk?lang=en`);
    assert.ok((await page.locator('main').innerText()).includes('Find a service'));
    assert.deepEqual(await axeCheck(page, 'kiosk start en'), []);
    await page.goto(`${srv.url}/kiosk?lang=zh`);
    assert.deepEqual(takeProblems(), []);
  });

  test('a citizen applies at the kiosk and gets a printable receipt', async () => {
    await login(page, DEMO.citizen.phone);
    await page.goto(`${srv.url}/services/${ITEM.code}/apply`);
    assert.ok(await page.evaluate(() => document.body.classList.contains('kiosk')), 'the apply page is in kiosk style');
    await fillApplyForm(page);
    const res = await submit(page, page.locator('button[name="action"][value="submit"]'));
    assert.equal(res.status(), 200);
    const m = /\/applications\/([^/?]+)\/receipt\?done=submitted$/.exec(page.url());
    assert.ok(m, page.url());
    receiptUrl = `${srv.url}/applications/${m[1]}/receipt`;
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(m[1]));
    assert.ok(text.includes(ITEM.name_zh));
    assert.ok(await page.locator('.kiosk-print').isVisible(), 'kiosk.js shows the print button');
    assert.deepEqual(await axeCheck(page, 'receipt zh (kiosk)'), []);
    await page.goto(`${receiptUrl}?lang=en`);
    assert.deepEqual(await axeCheck(page, 'receipt en (kiosk)'), []);
    await page.goto(`${receiptUrl}?lang=zh`);
    // Print: window.print() is called (stubbed: headless chromium would wait on a dialog).
    await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; });
    await page.locator('.kiosk-print').click();
    assert.equal(await page.evaluate(() => window.__printed), 1);
    assert.deepEqual(takeProblems(), []);
  });

  test('two idle minutes end the session and go back to the start page', async (t) => {
    if (!page.clock) {
      t.skip('this playwright-core has no page.clock: the idle timer is not fast-forwarded');
      return;
    }
    const idle = await ctx.newPage();
    await idle.clock.install();
    await idle.goto(`${srv.url}/applications`);
    assert.match(idle.url(), /\/applications$/, 'logged in');
    assert.ok(await idle.evaluate(() => document.body.classList.contains('kiosk')));
    // A touch before the two minutes are up restarts the count.
    await idle.clock.fastForward('01:50');
    await idle.mouse.click(5, 5);
    await idle.clock.fastForward('01:00');
    assert.match(idle.url(), /\/applications$/, 'still there after a touch');
    await Promise.all([idle.waitForURL(`${srv.url}/kiosk`), idle.clock.fastForward('01:10')]);
    // The session is over: a member's page sends to the log-in.
    const res = await idle.goto(`${srv.url}/applications`);
    assert.match(idle.url(), /\/login\?next=/, `after the idle log-out: ${res.status()} ${idle.url()}`);
    await idle.close();
    await page.close();
    assert.deepEqual(takeProblems(), []);
  });

  test('leaving kiosk mode', async () => {
    const p = await ctx.newPage();
    await p.goto(`${srv.url}/kiosk/exit`);
    assert.ok(!(await p.evaluate(() => document.body.classList.contains('kiosk'))));
    assert.ok(!(await ctx.cookies()).some((c) => c.name === 'kiosk' && c.value === '1'));
    await p.close();
  });
});

describe('counter intake and the receipt outside kiosk mode (390px)', { skip }, () => {
  let ctx;
  before(async () => { ctx = await newContext({ width: 390, height: 844 }); });
  after(async () => { await ctx?.close().catch(() => {}); });

  test('the intake pages and the receipt are accessible; the print button works without kiosk mode', async () => {
    const page = await ctx.newPage();
    await login(page, DEMO.staffA.phone);
    await page.goto(`${srv.url}/staff/intake`);
    assert.deepEqual(await axeCheck(page, 'intake start'), []);
    await page.locator('#item').selectOption(ITEM.code);
    await page.locator('#id_number').fill(DEMO.citizen.id_number);
    let res = await submit(page, page.locator('form.intake-form button[type="submit"]'));
    assert.equal(res.status(), 200);
    assert.ok((await page.locator('.intake-applicant').innerText()).includes(DEMO.citizen.name));
    assert.deepEqual(await axeCheck(page, 'intake form'), []);
    await fillApplyForm(page);
    res = await submit(page, page.locator('button[name="action"][value="submit"]'));
    assert.equal(res.status(), 200);
    assert.match(page.url(), /\/applications\/[^/?]+\?done=intake$/);
    await submit(page, page.locator('a[href$="/receipt"]'));
    assert.ok(!(await page.evaluate(() => document.body.classList.contains('kiosk'))));
    assert.ok(await page.locator('.kiosk-print').isVisible(), 'kiosk.js is loaded for the print button');
    assert.deepEqual(await axeCheck(page, 'receipt (counter, 390px)'), []);
    assert.deepEqual(takeProblems(), []);
    await page.close();
  });
});
