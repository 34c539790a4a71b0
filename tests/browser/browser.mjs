// What the browser tests share: Debian's chromium driven by playwright-core (never a
// downloaded browser), the flags it needs here, axe-core run inside the page (loaded through
// page.evaluate, so the page's CSP stays on), form submission that waits for the next page,
// and logging in through the log-in form.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_PASSWORD, root } from '../api/helpers.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const skip = haveChromium ? false : `${CHROMIUM} not installed`;
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
const axeSource = readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** Launches headless chromium (playwright-core's chromium.launch with our flags). */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
}

/** A persistent chromium context (a profile folder of its own) with our flags, zh-CN, a
 * desktop viewport and a 20 s default timeout. */
export async function launchProfile(profilePath) {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profilePath, {
    executablePath: CHROMIUM, headless: true, args: ARGS, locale: 'zh-CN',
    viewport: { width: 1280, height: 900 }, timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  return context;
}

/** Runs axe-core on the page; returns (and prints) the serious and critical violations. */
export async function axeCheck(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) console.log(`axe violations on ${what}:\n${JSON.stringify(bad, null, 2)}`);
  return bad;
}

/** Clicks a submit button and waits for the page it leads to. */
export async function submit(page, button) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return res;
}

/** Logs in on page through the log-in form (demo password unless given); asserts it worked. */
export async function logIn(page, baseUrl, login, password = DEMO_PASSWORD) {
  await page.goto(`${baseUrl}/login`);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  const res = await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
  assert.equal(res.status(), 200, `log-in of ${login}: ${res.status()} ${page.url()}`);
  return page;
}

/** Logs in at the hall at hallUrl with the national account: the hall's link, the hub's
 * log-in form (demo password), and back at the hall's /account. */
export async function nationalLogIn(page, hallUrl, login, password = DEMO_PASSWORD) {
  await page.goto(`${hallUrl}/login`);
  await submit(page, page.getByRole('link', { name: '使用全国统一身份认证登录' }));
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
  await page.waitForURL((u) => u.origin === hallUrl && u.pathname === '/account', { waitUntil: 'load' });
  return page;
}

/**
 * Records what goes wrong on a page into problems: console errors, uncaught exceptions and,
 * with network (the default), failed requests and 4xx/5xx answers to subresources. A request
 * the page itself cancels (net::ERR_ABORTED: a navigation started while a fetch was in flight)
 * is not a problem.
 */
export function watchProblems(page, problems, { network = true } = {}) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (!network) return;
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (!/ERR_ABORTED/.test(why)) problems.push(`request failed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
}
