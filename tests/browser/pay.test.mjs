// Paying a fee in a real browser: a citizen applies for the ID card (a fixed fee of CNY 20,
// due before acceptance), sees the amount and its legal basis, pays on the gateway
// simulator's payer page (a real `govhall paysim`), comes back and finds the fee paid with a
// receipt; the application moved on. axe-core on the payment page, on a desktop and at phone
// width, in Chinese and English. And the whole visit as one story: a citizen applies for the
// fee-bearing item, pays, books the visit from the application, checks in at the centre's
// kiosk; a clerk calls the ticket, and the hall's screen, open all along, shows it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, DEMO_PASSWORD, apiLogin, applyOnline, bearer, demoCatalog, freshTotp, govhall, waitFor,
} from '../api/helpers.mjs';
import { ALLDAY, importCentres, openToday } from '../api/booking-fixtures.mjs';
import { SIM_KEY, SIM_SECRET, payHall, paysim } from '../api/pay-fixtures.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, logIn, submit } from './browser.mjs';

const ID_CARD = demoCatalog().services.find((s) => s.code === 'psb-0001');

let sim;
let srv;
let browser;

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  sim = await paysim();
  // Visits may be booked for today and checked in at any time before them (the story below).
  srv = await payHall(sim, { name: 'browser_pay', extraArgs: ['--booking-min-days', '0', '--booking-checkin-early', '720'] });
  await importCentres(srv.db, srv.keyFile, [ALLDAY]);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
  await sim?.stop();
});

const samplePdf = () => Buffer.from('%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n');

async function apply(page) {
  await page.goto(`${srv.url}/services/${ID_CARD.code}/apply`);
  for (const f of ID_CARD.form) {
    if (!f.required) continue;
    const el = page.locator(`#f_${f.key}`);
    if (f.type === 'select') await el.selectOption(f.options[0].value);
    else if (f.type === 'id_number') await el.fill(DEMO.citizen.id_number);
    else if (f.type === 'phone') await el.fill(DEMO.citizen.phone);
    else await el.fill(DEMO.citizen.name);
  }
  for (const [i, m] of ID_CARD.materials.entries()) {
    if (m.required) await page.locator(`#material_${i}`).setInputFiles({ name: `材料${i}.pdf`, mimeType: 'application/pdf', buffer: samplePdf() });
  }
  await submit(page, page.locator('button[name="action"][value="submit"]'));
  const number = /\/applications\/([^?/]+)/.exec(page.url())?.[1];
  assert.ok(number, page.url());
  return number;
}

describe('a citizen pays a fee', { skip }, () => {
  test('applies, sees the amount and its basis, pays at the gateway, and finds it paid with a receipt', async () => {
    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(30_000);
    const page = await ctx.newPage();
    await logIn(page, srv.url, DEMO.citizen.phone);
    const number = await apply(page);
    await page.goto(`${srv.url}/applications/${number}/payment`);
    const fee = await page.locator('main').innerText();
    assert.ok(fee.includes('¥20.00'), fee);
    assert.ok(fee.includes('居民身份证法'), 'the legal basis is shown');
    assert.deepEqual(await axeCheck(page, 'payment page (due)'), []);

    await submit(page, page.locator(`form[action="/applications/${number}/pay"] button[type="submit"]`));
    // The order is with the gateway: its payer page as a link and as a QR code for a phone.
    assert.equal(await page.locator('.pay-qr svg').count(), 1, 'a QR code');
    assert.deepEqual(await axeCheck(page, 'payment page (order open)'), []);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(sim.url)), page.locator(`.pay-qr a[href^="${sim.url}"]`).click()]);
    assert.ok((await page.locator('main').innerText()).includes('20.00'));
    await submit(page, page.locator('button[name="outcome"][value="success"]'));
    // Back to the hall, which asks the gateway itself before saying anything.
    await Promise.all([page.waitForURL(new RegExp(`/applications/${number}/payment`)), page.locator('main a').last().click()]);
    await waitFor(async () => {
      await page.goto(`${srv.url}/applications/${number}/payment`);
      return (await page.locator('.pay-receipts').count()) > 0;
    }, { what: 'the receipt on the payment page' });
    const paid = await page.locator('main').innerText();
    assert.ok(paid.includes('已缴费') || paid.includes('已支付'), paid);
    assert.equal(await page.locator(`form[action="/applications/${number}/pay"]`).count(), 0, 'nothing left to pay');
    assert.deepEqual(await axeCheck(page, 'payment page (paid)'), []);
    await ctx.close();
  });

  test('the payment page at phone width in English is axe-clean', async () => {
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: { width: 375, height: 740 }, isMobile: true });
    ctx.setDefaultTimeout(30_000);
    const page = await ctx.newPage();
    await logIn(page, srv.url, DEMO.citizen.phone);
    const number = await apply(page);
    await page.goto(`${srv.url}/applications/${number}/payment?lang=en`);
    const text = await page.locator('main').innerText();
    assert.ok(text.includes('Resident Identity Card Law'), text);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, 'no sideways scrolling at phone width');
    assert.deepEqual(await axeCheck(page, 'payment page (phone, en)'), []);
    await ctx.close();
  });
});

describe('the whole visit', { skip }, () => {
  test('a citizen applies for a fee-bearing item, pays, books the visit and checks in; a clerk calls the ticket on the hall\'s screen', async () => {
    const admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
    await openToday(srv.url, admin);
    const PHONE = { width: 390, height: 844 };
    const citizenCtx = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, isMobile: true });
    citizenCtx.setDefaultTimeout(30_000);
    const page = await citizenCtx.newPage();
    await logIn(page, srv.url, DEMO.citizen.phone);
    // Applies, and pays on the gateway's payer page.
    const number = await apply(page);
    await page.goto(`${srv.url}/applications/${number}/payment`);
    await submit(page, page.locator(`form[action="/applications/${number}/pay"] button[type="submit"]`));
    await Promise.all([page.waitForURL((u) => u.href.startsWith(sim.url)), page.locator(`.pay-qr a[href^="${sim.url}"]`).click()]);
    await submit(page, page.locator('button[name="outcome"][value="success"]'));
    await waitFor(async () => {
      await page.goto(`${srv.url}/applications/${number}/payment`);
      return (await page.locator('.pay-receipts').count()) > 0;
    }, { what: 'the fee paid' });
    // Books the visit the item needs, from the application, at the all-day test centre (the
    // calendar change above reaches the node within seconds: the slots follow it).
    await page.goto(`${srv.url}/applications/${number}`);
    const book = page.locator(`a[href="/book?item=${ID_CARD.code}&application=${number}"]`);
    assert.equal(await book.count(), 1, 'the application offers to book its visit');
    await Promise.all([page.waitForURL(/\/book\?/), book.click()]);
    await waitFor(async () => {
      await page.goto(`${srv.url}/book?item=${ID_CARD.code}&application=${number}&centre=${ALLDAY.code}`);
      return (await page.locator('form.slot-form button.slot').count()) > 0;
    }, { what: 'a free time at the test centre' });
    await submit(page, page.locator('form.slot-form button.slot').first());
    assert.match(page.url(), /\/bookings\/[A-Z0-9-]+\?done=held$/);
    await submit(page, page.locator('form[action$="/confirm"] button'));
    assert.equal(await page.locator('.state.booking-booked').count(), 1, await page.locator('main').innerText());
    assert.ok((await page.locator('main').innerText()).includes(number), 'the booking names its application');
    // The application's page shows the booked visit (at phone width, axe-clean).
    const ref = /\/bookings\/([A-Z0-9-]+)/.exec(page.url())[1];
    await page.goto(`${srv.url}/applications/${number}`);
    assert.equal(await page.locator(`.case-cards a[href="/bookings/${ref}"]`).count(), 1, 'the application shows its booking');
    assert.deepEqual(await axeCheck(page, 'an application with its booking'), []);
    // At the centre: the hall's screen is open; the citizen checks in at the kiosk for a ticket.
    const screenCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1920, height: 1080 } });
    const screen = await screenCtx.newPage();
    await screen.goto(`${srv.url}/centres/${ALLDAY.code}/display`);
    await screen.locator('main.display[data-live="1"]').waitFor();
    await page.goto(`${srv.url}/centres/${ALLDAY.code}/kiosk`);
    assert.deepEqual(await axeCheck(page, 'the kiosk with a booking to check in'), []);
    await submit(page, page.locator('form:has(input[name="booking"]) button[type="submit"]').first());
    assert.match(page.url(), /\/tickets\/\d+\?done=ticket$/);
    const ticket = (await page.locator('.ticket-number').textContent()).trim();
    // A clerk calls the next ticket: the booked one; the screen shows it without reloading.
    const clerkCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    const clerk = await clerkCtx.newPage();
    await logIn(clerk, srv.url, DEMO.staffA.phone);
    await clerk.goto(`${srv.url}/staff/counters/${ALLDAY.code}/T1`);
    await submit(clerk, clerk.locator('#call-next'));
    assert.equal((await clerk.locator('#current-number').textContent()).trim(), ticket);
    const row = screen.locator('#display-rows tr.display-current');
    await row.waitFor();
    assert.equal((await row.locator('.display-number').textContent()).trim(), ticket);
    const shown = await row.innerText();
    assert.ok(shown.includes(`${DEMO.citizen.name[0]}*`), shown);
    assert.ok(!shown.includes(DEMO.citizen.name), 'the name is masked on the screen');
    assert.deepEqual(await axeCheck(screen, 'the hall\'s screen with the call'), []);
    await submit(clerk, clerk.locator('form[action$="/served"] button'));
    assert.equal(await clerk.locator('#call-next').count(), 1, 'served: the counter is free');
    await clerkCtx.close();
    await screenCtx.close();
    await citizenCtx.close();
  });
});

/** Logs an administrator in through the pages, with the second factor. */
async function logInAdmin(page) {
  await logIn(page, srv.url, DEMO.admin.phone);
  await page.locator('#totp').fill(await freshTotp(DEMO.admin.totp));
  await submit(page, page.locator('form[action="/login/totp"] button[type="submit"]'));
}

describe('the payment desks of staff and administrators', { skip }, () => {
  test('/staff/payments refunds and releases, /admin/payments reports the reconciliation: with data, axe-clean in both languages', async () => {
    const citizen = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
    const pay = async (amount) => {
      const filed = await applyOnline(srv.url, citizen, ID_CARD);
      assert.equal(filed.status, 201, filed.body);
      const s = await bearer(`${srv.url}/api/v1/applications/${filed.json.number}/payment`, citizen, { method: 'POST', json: {} });
      assert.equal(s.status, 200, s.body);
      const gw = /\/pay\/([^/?#]+)/.exec(s.json.pay_url)[1];
      assert.equal((await sim.call('POST', `/sim/payments/${gw}/pay`, amount ? { amount } : {})).status, 200);
      const want = amount ? 'held' : 'paid';
      await waitFor(async () => (await bearer(`${srv.url}/api/v1/applications/${filed.json.number}/payment`, citizen)).json
        .orders.some((o) => o.state === want), { what: `an order ${want}` });
      return s.json.order;
    };
    const paid = await pay(0), held = await pay(2500), held2 = await pay(2600);
    // A difference for the report: a payment the gateway settled that the hall never ordered.
    const invented = await sim.call('POST', '/sim/notify', { notify_url: `${srv.url}/api/v1/pay/notify`, reference: `PO-BROWSER-${process.pid}`, amount: 123 });
    assert.equal(invented.status, 202, invented.text);
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const rec = await govhall(['pay', 'reconcile', day, '--db', srv.db, '--pay-gateway-url', sim.url, '--pay-api-key', SIM_KEY,
      '--pay-notify-secret', SIM_SECRET], { keyFile: srv.keyFile });
    assert.equal(rec.code, 0, rec.stdout + rec.stderr);

    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(30_000);
    const page = await ctx.newPage();
    await logInAdmin(page);
    // The staff desk: each order with what can be done to it.
    await page.goto(`${srv.url}/staff/payments`);
    for (const o of [paid, held, held2]) assert.equal(await page.locator(`code:text-is("${o}")`).count(), 1, `${o} listed`);
    assert.deepEqual(await axeCheck(page, '/staff/payments'), []);
    // A partial refund of the paid order, through its form.
    await page.locator(`#amount-${paid}`).fill('5.00');
    await page.locator(`#reason-${paid}`).fill('多收退还');
    await submit(page, page.locator(`form[action="/staff/payments/${paid}/refund"] button[type="submit"]`));
    await waitFor(async () => {
      await page.goto(`${srv.url}/staff/payments`);
      const row = await page.locator(`tr:has(code:text-is("${paid}"))`).innerText();
      return row.includes('¥5.00');
    }, { what: 'the refund shown on the desk' });
    assert.deepEqual(await axeCheck(page, '/staff/payments after a refund'), []);
    // The held orders: one accepted (the excess refunded), one returned.
    await submit(page, page.locator(`form[action="/staff/payments/${held}/release"] button[value="accept"]`));
    await page.goto(`${srv.url}/staff/payments`);
    await submit(page, page.locator(`form[action="/staff/payments/${held2}/release"] button[value="return"]`));
    // Deciding asks the gateway for the refund: the desk shows each decision once it is done.
    await waitFor(async () => {
      await page.goto(`${srv.url}/staff/payments?lang=en`);
      assert.equal(await page.locator(`form[action="/staff/payments/${held}/release"]`).count(), 0, 'decided: no more buttons');
      assert.equal(await page.locator(`form[action="/staff/payments/${held2}/release"]`).count(), 0);
      return true;
    }, { what: 'both held orders decided on the desk' });
    assert.match(await page.locator('main').innerText(), /Refund/);
    assert.deepEqual(await axeCheck(page, '/staff/payments (English)'), []);
    // The reconciliation report: the run of the day and its difference, in both languages.
    await page.goto(`${srv.url}/admin/payments`);
    let text = await page.locator('main').innerText();
    assert.ok(text.includes(day), text);
    assert.ok(text.includes('1.23'), 'the invented payment is a difference');
    assert.deepEqual(await axeCheck(page, '/admin/payments'), []);
    await page.goto(`${srv.url}/admin/payments?lang=en`);
    text = await page.locator('main').innerText();
    assert.ok(text.includes(day) && text.includes('1.23'), text);
    assert.deepEqual(await axeCheck(page, '/admin/payments (English)'), []);
    await ctx.close();
  });
});
