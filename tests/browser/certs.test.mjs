// E-certificates in a real browser: civil-affairs staff approve a marriage registration, the
// citizen finds the certificate in the wallet and downloads its PDF, an anonymous visitor
// follows the QR code's URL (read from the PDF) and sees it valid with its proof checked, and
// the citizen reuses it in a second application (免提交) whose staff see the verified
// certificate instead of an upload; axe-core on the wallet, certificate and verify pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DEMO, DEMO_PASSWORD, demoCatalog, startServer } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, submit } from './browser.mjs';

const catalog = demoCatalog();
const MARRIAGE = catalog.services.find((s) => s.code === 'civ-0001');
const BIRTH = catalog.services.find((s) => s.code === 'psb-0005');

let srv;
let browser;
let citizenCtx;
let civCtx;
let psbCtx;
let anonCtx;
let certNumber;
let qrUrl;

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_certs' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  const mk = () => browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  [citizenCtx, civCtx, psbCtx, anonCtx] = await Promise.all([mk(), mk(), mk(), mk()]);
  for (const c of [citizenCtx, civCtx, psbCtx, anonCtx]) c.setDefaultTimeout(30_000);
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

async function login(ctx, phone) {
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/login`);
  await page.locator('#login').fill(phone);
  await page.locator('#password').fill(DEMO_PASSWORD);
  const res = await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
  assert.equal(res.status(), 200, `log-in of ${phone}`);
  return page;
}

const samplePdf = () => Buffer.from('%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n');

function formValue(f) {
  switch (f.type) {
    case 'id_number': return DEMO.citizen.id_number;
    case 'phone': return DEMO.citizen.phone;
    case 'date': return '2026-01-05';
    default: return DEMO.citizen.name;
  }
}

/** Fills the apply form of item; slots in `skipSlots` are left to the wallet. */
async function fillApply(page, item, skipSlots = []) {
  for (const f of item.form) {
    if (!f.required) continue;
    const el = page.locator(`#f_${f.key}`);
    if (f.type === 'select') await el.selectOption(f.options[0].value);
    else await el.fill(formValue(f));
  }
  for (const [i, m] of item.materials.entries()) {
    if (m.required && !skipSlots.includes(i)) {
      await page.locator(`#material_${i}`).setInputFiles({ name: `材料${i}.pdf`, mimeType: 'application/pdf', buffer: samplePdf() });
    }
  }
}

async function staffAct(page, number, action) {
  await page.goto(`${srv.url}/applications/${number}`);
  const form = page.locator(`form#act-${action}`);
  const res = await submit(page, form.locator('button[type="submit"]'));
  assert.equal(res.status(), 200, `${action}: ${res.status()}`);
}

describe('certificate journey', { skip }, () => {
  test('approval puts a certificate in the wallet; its PDF downloads', async () => {
    const page = await login(citizenCtx, DEMO.citizen.phone);
    await page.goto(`${srv.url}/services/${MARRIAGE.code}/apply`);
    await fillApply(page, MARRIAGE);
    await submit(page, page.locator('button[name="action"][value="submit"]'));
    const number = /\/applications\/([^?]+)\?done=submitted/.exec(page.url())?.[1];
    assert.ok(number, page.url());
    const staff = await login(civCtx, DEMO.staffB.phone);
    for (const a of ['accept', 'start_review', 'approve']) await staffAct(staff, number, a);

    await page.goto(`${srv.url}/wallet`);
    const text = await page.locator('main').innerText();
    assert.ok(text.includes('结婚证'), text);
    assert.ok(text.includes('有效'));
    certNumber = /CIV-\d{8}-\d{6}/.exec(text)?.[0];
    assert.ok(certNumber, text);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`a[href="/certs/${certNumber}/pdf"]`).click(),
    ]);
    const buf = await readFile(await download.path());
    assert.equal(buf.subarray(0, 5).toString(), '%PDF-');
    // The QR code holds the verification URL and the hash; the PDF also embeds the document.
    const b64 = /govhall-certificate:([A-Za-z0-9_-]+)/.exec(buf.toString('latin1'))?.[1];
    assert.ok(b64, 'the document is embedded');
    const doc = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
    assert.equal(doc.certificate.number, certNumber);
    qrUrl = `${doc.certificate.verify_url}?h=${doc.hash}`;
    assert.match(qrUrl, /\/verify\/certificates\/CIV-/);
    await page.goto(`${srv.url}/certs/${certNumber}`);
    assert.match(await page.locator('main').innerText(), /有效/);
  });

  test('an anonymous visitor follows the QR URL and sees it valid, the proof checked', async () => {
    assert.ok(qrUrl);
    const page = await anonCtx.newPage();
    const path = new URL(qrUrl).pathname + new URL(qrUrl).search;
    const res = await page.goto(`${srv.url}${path}`);
    assert.equal(res.status(), 200);
    const status = await page.locator('.verify-status').getAttribute('data-status');
    assert.equal(status, 'valid');
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(certNumber));
    assert.ok(text.includes('包含证明核验通过'));
    assert.deepEqual(await axeCheck(page, 'verify result'), []);
  });

  test('the citizen reuses it in a second application; psb staff see the verified certificate', async () => {
    const slot = BIRTH.materials.findIndex((m) => m.ecert === 'marriage_cert');
    const page = await citizenCtx.newPage();
    await page.goto(`${srv.url}/services/${BIRTH.code}/apply`);
    const box = page.locator(`#ecert_${slot}`);
    assert.ok(await box.isVisible(), 'the wallet offers the certificate');
    assert.ok((await page.locator(`label[for="ecert_${slot}"]`).innerText()).includes(certNumber));
    // Certificates not in the wallet are not offered.
    const other = BIRTH.materials.findIndex((m) => m.ecert === 'birth_medical_cert');
    assert.equal(await page.locator(`#ecert_${other}`).count(), 0);
    await box.check();
    await fillApply(page, BIRTH, [slot]);
    await submit(page, page.locator('button[name="action"][value="submit"]'));
    const number = /\/applications\/([^?]+)\?done=submitted/.exec(page.url())?.[1];
    assert.ok(number, page.url());

    const staff = await login(psbCtx, DEMO.staffA.phone);
    await staff.goto(`${srv.url}/applications/${number}`);
    const link = staff.locator(`a[href^="/certs/${certNumber}"]`);
    assert.equal(await link.count(), 1);
    await submit(staff, link);
    const text = await staff.locator('main').innerText();
    assert.ok(text.includes(certNumber));
    assert.ok(text.includes('有效'));
    assert.ok(text.includes(number), 'the application it came with');
  });

  test('the issuing department head revokes it with a reason; the QR URL then says revoked', async () => {
    const page = await civCtx.newPage();
    await page.goto(`${srv.url}/certs/${certNumber}`);
    assert.deepEqual(await axeCheck(page, 'certificate page with the revoke form'), []);
    await page.locator('#reason').fill('证照信息登记有误');
    const res = await submit(page, page.locator(`form[action="/certs/${certNumber}/revoke"] button[type="submit"]`));
    assert.equal(res.status(), 200);
    assert.match(await page.locator('main').innerText(), /已注销/);
    assert.match(await page.locator('main').innerText(), /证照信息登记有误/);
    const anon = await anonCtx.newPage();
    const u = new URL(qrUrl);
    await anon.goto(`${srv.url}${u.pathname}${u.search}`);
    assert.equal(await anon.locator('.verify-status').getAttribute('data-status'), 'revoked');
  });

  for (const lang of ['zh', 'en']) {
    test(`accessibility of the wallet, certificate and verify pages (${lang})`, async () => {
      const page = await citizenCtx.newPage();
      for (const p of ['/wallet', `/certs/${certNumber}`, '/verify']) {
        const res = await page.goto(`${srv.url}${p}?lang=${lang}`);
        assert.equal(res.status(), 200, p);
        assert.deepEqual(await axeCheck(page, `${p} ${lang}`), []);
      }
      await page.close();
    });
  }
});
