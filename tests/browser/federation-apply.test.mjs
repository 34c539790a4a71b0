// 跨省通办 in a real browser (Debian chromium through playwright-core): a citizen logs in at
// Qinghe with the national account (the hub at "localhost", Qinghe at "127.0.0.1", so each keeps
// its own cookies), applies there for an item Lanshan handles, with the consent on the form,
// and follows it at Qinghe until Lanshan's decision shows. Lanshan's staff decide through its
// API; axe-core finds no serious or critical violation on the two pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, DEMO_PASSWORD, actOn, apiLogin, bearer, getJson, govhall, startServer, tempDir, waitFor } from '../api/helpers.mjs';
import { freePort } from '../api/pay-fixtures.mjs';
import { haveChromium, skip, axeCheck, submit, launchProfile, watchProblems } from './browser.mjs';

const ITEM = 'gsa-0001'; // online, no required file: the page takes the form and the consent
let hub;
let qinghe;
let lanshan;
let profile;
let browser;
const problems = [];

async function client(id, redirect) {
  const r = await govhall(['federation', 'client', 'add', id, '--name', id, '--redirect', redirect, '--db', hub.db]);
  assert.equal(r.code, 0, r.stderr);
  return /client_secret: (\S+)/.exec(r.stdout)[1];
}

async function hall(id, name) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = await client(id, `${url}/login/national/callback`);
  const srv = await startServer({ name: `browser_fapp_${id}`, extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', url,
    '--fed-hub-url', hub.publicUrl, '--fed-client-id', id, '--fed-client-secret', secret, '--fed-directory-period', '1',
    '--fed-retry', '1'] });
  srv.publicUrl = url;
  const j = await govhall(['federation', 'join', '--name', name, '--region', name, '--db', srv.db, '--fed-hub-url', hub.publicUrl,
    '--fed-client-id', id, '--public-url', url], { keyFile: srv.keyFile });
  assert.equal(j.code, 0, j.stderr);
  assert.equal((await govhall(['federation', 'hall', 'approve', id, '--db', hub.db])).code, 0);
  return srv;
}

before(async () => {
  if (!haveChromium) return;
  const hubPort = await freePort();
  const hubUrl = `http://localhost:${hubPort}`;
  hub = await startServer({ name: 'browser_fapp_hub', extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub'] });
  hub.publicUrl = hubUrl;
  qinghe = await hall('qinghe', '清河市');
  lanshan = await hall('lanshan', '兰山市');
  for (const h of [qinghe, lanshan]) {
    await waitFor(async () => {
      const d = await getJson(`${h.publicUrl}/federation/directory`);
      return d.status === 200 && ['qinghe', 'lanshan'].every((id) => d.json.halls.some((x) => x.id === id));
    }, { what: `${h.publicUrl} to hold the directory with both halls` });
  }
  // Lanshan's clerk 赵六 works the hotline's items there.
  const list = await govhall(['user', 'list', '--kind', 'staff', '--db', lanshan.db], { keyFile: lanshan.keyFile });
  const id = list.stdout.split('\n').find((l) => l.includes('赵六')).trim().split(/\s+/)[0];
  const roles = await govhall(['user', 'roles', id, '--department', 'gsa', '--roles', 'counter,reviewer,head', '--db', lanshan.db],
    { keyFile: lanshan.keyFile });
  assert.equal(roles.code, 0, roles.stderr);
  profile = await tempDir('govhall-chromium-');
  browser = await launchProfile(profile.path);
  browser.on('page', (page) => watchProblems(page, problems));
});

after(async () => {
  await browser?.close().catch(() => {});
  await profile?.remove();
  await Promise.allSettled([hub?.stop(), qinghe?.stop(), lanshan?.stop()]);
});

describe('跨省通办: applying at Qinghe for a Lanshan item', { skip }, () => {
  test('national log-in at Qinghe, the form with consent, Lanshan\'s decision shown at Qinghe', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${qinghe.publicUrl}/login`);
      await submit(page, page.getByRole('link', { name: '使用全国统一身份认证登录' }));
      await page.locator('#login').fill(DEMO.citizen.phone);
      await page.locator('#password').fill(DEMO_PASSWORD);
      await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
      await page.waitForURL((u) => u.origin === qinghe.publicUrl && u.pathname === '/account', { waitUntil: 'load' });

      const res = await page.goto(`${qinghe.publicUrl}/federation/apply/lanshan/${ITEM}`);
      assert.equal(res.status(), 200);
      assert.deepEqual(await axeCheck(page, 'the apply page'), []);
      await page.locator('#field_phone').fill(DEMO.citizen.phone);
      await page.locator('#field_content').fill('小区路灯不亮，请尽快维修。');
      // The browser refuses the form without the consent (required); the server too.
      await page.getByLabel(/我同意/).check();
      await submit(page, page.getByRole('button', { name: '同意并提交' }));
      await page.waitForURL((u) => u.pathname.startsWith('/federation/applications/KS'), { waitUntil: 'load' });
      const number = new URL(page.url()).pathname.split('/').pop();
      assert.deepEqual(await axeCheck(page, 'the status page'), []);

      // Lanshan files it, its staff decide; the decision shows at Qinghe.
      const staff = (await apiLogin(lanshan.url, DEMO.staffA.phone)).token;
      const citizen = (await apiLogin(qinghe.url, DEMO.citizen.phone)).token;
      const filed = await waitFor(async () => {
        const r = await bearer(`${qinghe.url}/api/v1/federation/applications/${number}`, citizen);
        return r.json?.remote_number ? r.json : null;
      }, { what: 'Lanshan to file it' });
      for (const a of ['accept', 'start_review', 'approve']) {
        const r = await actOn(lanshan.url, staff, filed.remote_number, a);
        assert.equal(r.status, 200, `${a}: ${r.body}`);
      }
      await waitFor(async () => {
        await page.reload();
        return (await page.locator('#state').getAttribute('data-state')) === 'approved';
      }, { what: 'the approval on Qinghe\'s page' });
      assert.match(await page.locator('main').first().innerText(), /准予许可/);
      // And among the citizen's applications, linked to that page.
      await page.goto(`${qinghe.publicUrl}/applications`);
      const card = page.locator(`a[href="/federation/applications/${number}"]`);
      assert.equal(await card.count(), 1);
      assert.deepEqual(await axeCheck(page, 'my applications'), []);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
