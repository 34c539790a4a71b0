// Navigation per role: every caller is offered only what the route table lets them do. A crawl
// per role and language follows the links of the pages (one to three pages per route template)
// and finds none that answers 403; the header's menu holds the progress query, the log and
// /verify for everyone, and each kind of account sees its own pages and not the others'.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, DEMO, routes } from './helpers.mjs';
import { crawl, ROLES, loginAs } from './crawl.mjs';

let srv;
let table;
before(async () => {
  srv = await startServer({ name: 'nav' });
  table = (await routes()).filter((r) => r.methods.includes('GET'));
});
after(async () => { await srv?.stop(); });


const client = (role, lang = 'zh') => loginAs(srv.url, role, lang);

/** The header's menus of a page: [{href, label}] of the site and account bars. */
function menu(html, cls) {
  const m = new RegExp(`<nav class="${cls}"[\\s\\S]*?</nav>`).exec(html);
  assert.ok(m, `a <nav class="${cls}"> in the header`);
  return [...m[0].matchAll(/<a[^>]*href="([^"]*)"/g)].map((x) => x[1].replace(/&amp;/g, '&'));
}

for (const lang of ['zh', 'en']) {
  for (const role of Object.keys(ROLES)) {
    test(`${role} (${lang}): no link on any page answers 403`, async () => {
      const c = await client(role, lang);
      const { forbidden, pages } = await crawl(c, table);
      const templates = new Set(pages.map((p) => p.template)).size;
      assert.ok(pages.length > 20 && templates > 10, `the crawl reached the hall (${pages.length} pages, ${templates} templates)`);
      assert.deepEqual(forbidden, [], `links that answer 403 for ${role}`);
    });
  }
}

test('the menu offers the progress query, the log and /verify to everyone', async () => {
  for (const role of Object.keys(ROLES)) {
    const c = await client(role, 'zh');
    const home = await c.get('/');
    assert.equal(home.status, 200);
    const main = menu(home.body, 'site-nav');
    for (const h of ['/progress', '/ledger', '/verify', '/services']) assert.ok(main.includes(h), `${role}: ${h} in the menu`);
  }
});

test('each kind of account is offered its own pages, and only those', async () => {
  const expect = {
    anonymous: { has: ['/login', '/register'], not: ['/applications', '/staff/queue', '/admin', '/inbox'] },
    citizen: { has: ['/applications', '/wallet', '/inbox', '/account'], not: ['/login', '/staff/queue', '/admin', '/staff/publish'] },
    staffA: { has: ['/staff/queue', '/inbox', '/account'], not: ['/applications', '/wallet', '/admin', '/login'] },
    admin: { has: ['/admin', '/staff/publish', '/admin/appeals'], not: ['/applications', '/wallet', '/staff/queue', '/login'] },
  };
  for (const [role, { has, not }] of Object.entries(expect)) {
    const c = await client(role, 'en');
    const home = await c.get('/');
    const account = menu(home.body, 'account-bar');
    for (const h of has) assert.ok(account.includes(h), `${role}: ${h} offered (${account.join(' ')})`);
    for (const h of not) assert.ok(!account.includes(h), `${role}: ${h} not offered (${account.join(' ')})`);
    // The offered pages open for this caller.
    for (const h of account.filter((x) => x.startsWith('/') && !x.includes('lang='))) {
      const r = await c.get(h);
      assert.ok(r.status === 200 || r.status === 303, `${role}: ${h} answers ${r.status}`);
    }
  }
});

test('a staff member without a duty is not offered its work, and the server refuses it', async () => {
  const r = await routes();
  const intake = r.find((x) => x.pattern === '/staff/intake' && x.methods.includes('GET'));
  assert.deepEqual(intake.duties, ['counter'], 'the route table names the duty /staff/intake needs');
  for (const role of ['staffA', 'staffB']) {
    const c = await client(role, 'zh');
    const home = await c.get('/');
    const offered = menu(home.body, 'account-bar').includes('/staff/intake');
    const page = await c.get('/staff/intake');
    assert.equal(page.status === 200, offered, `${role}: /staff/intake offered=${offered}, answers ${page.status}`);
    if (page.status === 403) assert.match(page.body, /职责/);
  }
});
