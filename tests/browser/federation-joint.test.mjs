// 多地联办 in a real browser (Debian chromium through playwright-core): a hub, Qinghe and
// Lanshan. The citizen reads the guide of Qinghe's psb-0019 (step 1 at Qinghe, step 2 at
// Lanshan), applies on Qinghe's form with the files and the consent, Qinghe's staff approve the
// first step, Lanshan's staff the second (through their APIs), and the citizen's application
// page at Qinghe shows both steps with Lanshan's timeline. axe-core finds no serious or critical
// violation on the guide and the application page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, actOn, apiLogin, bearer, demoCatalog, demoFieldValue, samplePdf, tempDir, waitFor } from '../api/helpers.mjs';
import * as fixtures from '../api/federation-fixtures.mjs';
import { axeCheck, haveChromium, launchProfile, logIn, skip, submit, watchProblems } from './browser.mjs';

const ITEM = demoCatalog().services.find((s) => s.joint);
let f;
let profile;
let browser;
const problems = [];

before(async () => {
  if (!haveChromium) return;
  f = await fixtures.federation('bjoint', { demo: true });
  profile = await tempDir('govhall-chromium-');
  browser = await launchProfile(profile.path);
  browser.on('page', (page) => watchProblems(page, problems));
});

after(async () => {
  await browser?.close().catch(() => {});
  await profile?.remove();
  await Promise.allSettled([f?.hub?.stop(), f?.qinghe?.stop(), f?.lanshan?.stop()]);
  await Promise.allSettled([f?.lanshanDb?.drop(), f?.qingheDb?.drop()]);
});

describe('多地联办: one application with a step at each of two halls', { skip }, () => {
  test('the guide, the form with the consent, both steps on the application page', async () => {
    const page = await logIn(await browser.newPage(), f.qingheUrl, DEMO.citizen.phone);
    try {
      await page.goto(`${f.qingheUrl}/services/${ITEM.code}`);
      const steps = await page.locator('section.joint-steps').innerText();
      assert.match(steps, /第 1 步：清河市[\s\S]*第 2 步：兰山市/);
      assert.deepEqual(await axeCheck(page, 'the guide'), []);

      await submit(page, page.locator(`a[href="/services/${ITEM.code}/apply"]`));
      for (const x of ITEM.form) {
        const el = page.locator(`#f_${x.key}`);
        if (x.type === 'select') await el.selectOption(x.options[0].value);
        else await el.fill(demoFieldValue(x));
      }
      for (const [i, m] of ITEM.materials.entries()) {
        if (m.required) await page.locator(`#material_${i}`).setInputFiles({ name: `材料${i}.pdf`, mimeType: 'application/pdf', buffer: samplePdf() });
      }
      const res = await submit(page, page.locator('button[name="action"][value="submit"]'));
      assert.equal(res.status(), 200, page.url());
      const number = /\/applications\/([^?]+)\?done=submitted/.exec(page.url())?.[1];
      assert.ok(number, page.url());

      // Qinghe's first step, then Lanshan's second, through their APIs.
      const staffA = (await apiLogin(f.qingheUrl, DEMO.staffA.phone)).token;
      const staffB = (await apiLogin(f.lanshanUrl, DEMO.staffA.phone)).token;
      const citizen = (await apiLogin(f.qingheUrl, DEMO.citizen.phone)).token;
      for (const a of ['accept', 'start_review', 'approve']) {
        const r = await actOn(f.qingheUrl, staffA, number, a);
        assert.equal(r.status, 200, `${a}: ${r.body}`);
      }
      const remote = await waitFor(async () => {
        const r = await bearer(`${f.qingheUrl}/api/v1/applications/${number}/steps`, citizen);
        return r.json?.steps?.[1]?.remote_number ?? null;
      }, { what: 'Lanshan to file the second step' });
      for (const a of ['accept', 'start_review', 'approve']) {
        const r = await actOn(f.lanshanUrl, staffB, remote, a);
        assert.equal(r.status, 200, `${a} at Lanshan: ${r.body}`);
      }
      await waitFor(async () => {
        await page.goto(`${f.qingheUrl}/applications/${number}`);
        return /准予许可[\s\S]*准予许可/.test(await page.locator('section.joint-steps').innerText());
      }, { what: 'both steps approved on Qinghe\'s page' });
      const seen = await page.locator('section.joint-steps').innerText();
      assert.match(seen, /第 1 步：清河市[\s\S]*第 2 步：兰山市/);
      assert.ok(seen.includes(remote), 'Lanshan\'s number');
      assert.match(seen, /已受理[\s\S]*准予许可/, 'Lanshan\'s timeline');
      assert.deepEqual(await axeCheck(page, 'the application page'), []);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
