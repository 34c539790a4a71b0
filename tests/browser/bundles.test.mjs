// A bundle (一件事一次办) in a real browser: a citizen applies for every online item of the
// marriage bundle with one form (shared fields once, every required material attached), sees
// one application per item on the bundle's progress page; the civil affairs bureau refuses its
// item with a reason, which the bundle page shows at once; the police complete theirs; the
// citizen withdraws the rest; the bundle then reads "partly refused" with the reason. axe-core
// checks the bundle's form and progress pages in both languages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, demoCatalog, demoFieldValue, samplePdf, startServer } from '../api/helpers.mjs';
import { CHROMIUM, ARGS, haveChromium, skip, axeCheck, submit, logIn, watchProblems } from './browser.mjs';

const catalog = demoCatalog();
const byCode = new Map(catalog.services.map((s) => [s.code, s]));
// A bundle with items of both demo departments (civ and psb), applied for online.
const BUNDLE = catalog.bundles.find((b) => {
  const depts = b.items.map((c) => byCode.get(c)).filter((s) => s.online_depth >= 3).map((s) => s.department);
  return depts.includes('civ') && depts.includes('psb') && b.items.every((c) => byCode.get(c).audience.includes('individual'));
});
const ONLINE = BUNDLE.items.map((c) => byCode.get(c)).filter((s) => s.online_depth >= 3);

let srv;
let browser;
let citizen;
let civ;
let psb;
let problems = [];
let bundleUrl;
const numbers = {}; // item code -> application number

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  srv = await startServer({ name: 'browser_bundles' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  const ctx = async () => {
    const c = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    c.setDefaultTimeout(20_000);
    c.on('page', (page) => {
      watchProblems(page, problems, { network: false });
    });
    return c;
  };
  citizen = await login(await ctx(), DEMO.citizen.phone);
  civ = await login(await ctx(), DEMO.staffB.phone);
  psb = await login(await ctx(), DEMO.staffA.phone);
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

function takeProblems() {
  const p = problems.filter((x) => !/status of 422/.test(x));
  problems = [];
  return p;
}

async function login(ctx, phone) {
  return logIn(await ctx.newPage(), srv.url, phone);
}

/** The definition behind a form control's name ("key", or "<item code>__<key>" for a key an
 * item defines differently from an earlier one). */
function fieldOf(name) {
  for (const it of ONLINE) {
    for (const f of it.form) {
      if (f.key === name || `${it.code}__${f.key}` === name) return f;
    }
  }
  return null;
}

async function act(page, number, action, fill) {
  await page.goto(`${srv.url}/applications/${number}`);
  const form = page.locator(`form#act-${action}`);
  if (fill) await fill(form);
  const res = await submit(page, form.locator('button[type="submit"]'));
  assert.equal(res.status(), 200, `${action} on ${number}: ${res.status()}`);
  assert.match(page.url(), new RegExp(`/applications/${number}\\?done=${action}`));
}

describe('one form, one application per item, progress with a refusal', { skip }, () => {
  test('the citizen applies for the whole bundle with one form', async () => {
    assert.ok(BUNDLE, 'the demo catalog has a bundle with civ and psb items');
    await citizen.goto(`${srv.url}/bundles/${BUNDLE.code}`);
    await submit(citizen, citizen.locator(`a[href="/bundles/${BUNDLE.code}/apply"]`).first());
    assert.match(citizen.url(), new RegExp(`/bundles/${BUNDLE.code}/apply$`));
    // Every required field, once; shared fields appear once only.
    const names = await citizen.locator('form [required]').evaluateAll((els) => els.map((e) => e.name));
    assert.equal(new Set(names).size, names.length, 'a shared field is asked once');
    for (const name of names) {
      const f = fieldOf(name);
      assert.ok(f, `a form control ${name} that no item defines`);
      const el = citizen.locator(`form [name="${name}"]`);
      if (f.type === 'select') await el.selectOption(f.options[0].value);
      else await el.fill(String(demoFieldValue(f) ?? DEMO.citizen.name));
    }
    // Every required material of every item (slots numbered across the items).
    let slot0 = 0;
    for (const it of ONLINE) {
      for (const [i, m] of it.materials.entries()) {
        if (m.required) {
          await citizen.locator(`#material_${slot0 + i}`)
            .setInputFiles({ name: `${it.code}-${i}.pdf`, mimeType: 'application/pdf', buffer: samplePdf() });
        }
      }
      slot0 += it.materials.length;
    }
    const res = await submit(citizen, citizen.locator('button[name="action"][value="submit"]'));
    assert.equal(res.status(), 200, `after submitting: ${res.status()} ${citizen.url()}`);
    assert.match(citizen.url(), /\/bundles\/applications\/\d+\?done=submitted$/);
    bundleUrl = citizen.url().replace(/\?.*$/, '');
    const text = await citizen.locator('main').innerText();
    assert.ok(text.includes('已提交'));
    assert.ok(text.includes('办理中'));
    // One card per item, each with its own number and a link to it.
    for (const it of ONLINE) {
      const card = citizen.locator('li.card', { hasText: it.name_zh });
      assert.equal(await card.count(), 1, `one application for ${it.code}`);
      numbers[it.code] = (await card.locator('code').first().innerText()).trim();
      assert.match(numbers[it.code], /^QH\d{14}$/);
    }
    assert.deepEqual(takeProblems(), []);
  });

  test('a refusal shows at once; the bundle closes as partly refused', async () => {
    const civItem = ONLINE.find((s) => s.department === 'civ');
    const psbItem = ONLINE.find((s) => s.department === 'psb');
    await act(civ, numbers[civItem.code], 'refuse', (form) => form.locator('textarea[name="reason"]').fill('婚姻登记须双方当事人共同到场'));
    await citizen.goto(bundleUrl);
    let text = await citizen.locator('main').innerText();
    assert.ok(text.includes('办理中'), 'other items are still open');
    assert.ok(text.includes('以下事项未获办理'));
    assert.ok(text.includes('婚姻登记须双方当事人共同到场'), 'the reason is shown');

    for (const a of ['accept', 'start_review', 'approve']) await act(psb, numbers[psbItem.code], a);
    await act(psb, numbers[psbItem.code], 'complete', (form) => form.locator('select[name="delivery"]').selectOption('post'));
    for (const it of ONLINE) {
      if (it === civItem || it === psbItem) continue;
      await act(citizen, numbers[it.code], 'withdraw');
    }
    await citizen.goto(bundleUrl);
    text = await citizen.locator('main').innerText();
    assert.ok(text.includes('部分事项未获办理'));
    assert.ok(text.includes(`已办结 1 / ${ONLINE.length} 件`));
    assert.ok(text.includes('婚姻登记须双方当事人共同到场'));
    // The bundle is listed among the citizen's applications.
    await citizen.goto(`${srv.url}/applications`);
    assert.ok((await citizen.locator('main').innerText()).includes(BUNDLE.name_zh));
    assert.deepEqual(takeProblems(), []);
  });
});

describe('accessibility of the bundle pages', { skip }, () => {
  for (const lang of ['zh', 'en']) {
    test(`the bundle form, also with errors, and the progress page (${lang})`, async () => {
      const page = await citizen.context().newPage();
      try {
        let res = await page.goto(`${srv.url}/bundles/${BUNDLE.code}/apply?lang=${lang}`);
        assert.equal(res.status(), 200);
        assert.deepEqual(await axeCheck(page, `bundle form ${lang}`), []);
        res = await submit(page, page.locator('button[name="action"][value="submit"]'));
        assert.equal(res.status(), 422);
        assert.ok(await page.locator('.error-summary').isVisible());
        assert.deepEqual(await axeCheck(page, `bundle form with errors ${lang}`), []);
        assert.ok(bundleUrl, 'the journey made a bundle');
        res = await page.goto(`${bundleUrl}?lang=${lang}`);
        assert.equal(res.status(), 200);
        assert.deepEqual(await axeCheck(page, `bundle progress ${lang}`), []);
        assert.deepEqual(takeProblems(), []);
      } finally {
        await page.close();
      }
    });
  }
});
