// HTML pages: home, catalog list, every guide page in both languages, departments, bundles,
// language selection (query, cookie, Accept-Language), 404 pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoCatalog, get, htmlText, mapLimit, startServer } from './helpers.mjs';

const demo = demoCatalog();
let srv;
before(async () => { srv = await startServer({ name: 'pages' }); });
after(async () => { await srv?.stop(); });

function assertHtml(r, what) {
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
  assert.match(r.headers.get('content-type'), /^text\/html; ?charset=utf-8/i, what);
  assert.match(r.body, /^\s*<!doctype html>/i, `${what}: no doctype`);
  assert.match(r.body, /<\/html>\s*$/i, `${what}: page is cut short`);
}
const htmlLang = (body) => /<html[^>]*\blang="([^"]+)"/i.exec(body)?.[1];
// Attribute values may be entity-encoded (&#61; for "="), as browsers read them: decode first.
const hasHref = (body, href) => new RegExp(`href="${href.replace(/[.?*+^$()[\]{}|\\]/g, '\\$&')}(?:[?#"])`).test(htmlText(body));

describe('home', () => {
  test('is Chinese by default and English with ?lang=en', async () => {
    const zh = await get(`${srv.url}/`);
    assertHtml(zh, '/');
    assert.match(htmlLang(zh.body) ?? '', /^zh/);
    assert.match(zh.body, /<title>[^<]+<\/title>/);
    assert.match(zh.body, /[\u4e00-\u9fff]/, 'no Chinese text on the Chinese home page');
    const en = await get(`${srv.url}/?lang=en`);
    assertHtml(en, '/?lang=en');
    assert.equal(htmlLang(en.body), 'en');
    assert.notEqual(en.body, zh.body);
  });

  test('links to the catalog, departments and bundles', async () => {
    const r = await get(`${srv.url}/`);
    for (const href of ['/services', '/departments', '/bundles']) {
      assert.ok(hasHref(r.body, href), `home has no link to ${href}`);
    }
    assert.match(r.body, /href="\/static\/css\/site\.css(\?[^"]*)?"/, 'stylesheet link');
  });

  test('links to every theme used in the catalog', { skip: !demo && 'demo catalog not found' }, async () => {
    const r = await get(`${srv.url}/`);
    for (const theme of new Set(demo.services.map((s) => s.theme))) {
      assert.match(htmlText(r.body), new RegExp(`href="/services\\?(?:[^"]*&)?theme=${theme}(?:[&"])`), `no link to theme ${theme}`);
    }
  });
});

describe('language', () => {
  test('?lang=en sets a lang cookie that later requests honour', async () => {
    const r = await get(`${srv.url}/services?lang=en`);
    assertHtml(r, '/services?lang=en');
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /(^|[;,]\s*)lang=en(;|$)/);
    assert.match(cookie, /Path=\//i);
    const again = await get(`${srv.url}/services`, { headers: { cookie: 'lang=en' } });
    assert.equal(htmlLang(again.body), 'en');
    const back = await get(`${srv.url}/services?lang=zh`, { headers: { cookie: 'lang=en' } });
    assert.match(htmlLang(back.body), /^zh/);
    assert.match(back.headers.get('set-cookie') ?? '', /lang=zh/);
  });

  test('Accept-Language: en selects English; an unknown lang value is ignored', async () => {
    const r = await get(`${srv.url}/`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    assert.equal(htmlLang(r.body), 'en');
    const zh = await get(`${srv.url}/`, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    assert.match(htmlLang(zh.body), /^zh/);
    const odd = await get(`${srv.url}/?lang=xx`);
    assert.equal(odd.status, 200);
    assert.match(htmlLang(odd.body), /^zh/);
    assert.doesNotMatch(odd.headers.get('set-cookie') ?? '', /lang=xx/);
  });
});

describe('catalog list page', () => {
  test('lists items and filters by theme', { skip: !demo && 'demo catalog not found' }, async () => {
    const r = await get(`${srv.url}/services?per_page=100`);
    assertHtml(r, '/services');
    const housing = demo.services.filter((s) => s.theme === 'housing');
    const other = demo.services.find((s) => s.theme !== 'housing');
    const t = await get(`${srv.url}/services?theme=housing&per_page=100`);
    assertHtml(t, '/services?theme=housing');
    for (const s of housing) assert.ok(hasHref(t.body, `/services/${s.code}`), `theme page lacks ${s.code}`);
    assert.ok(!hasHref(t.body, `/services/${other.code}`), `theme page lists ${other.code} of theme ${other.theme}`);
  });

  test('pages through the whole catalog', { skip: !demo && 'demo catalog not found' }, async () => {
    const seen = new Set();
    for (let page = 1; page <= 4; page++) {
      const r = await get(`${srv.url}/services?per_page=50&page=${page}`);
      assertHtml(r, `/services page ${page}`);
      for (const m of htmlText(r.body).matchAll(/href="\/services\/([a-z]+-\d{4})(?:[?#"])/g)) seen.add(m[1]);
    }
    for (const s of demo.services) assert.ok(seen.has(s.code), `${s.code} on no page`);
  });

  test('bad filters and pagination are a 400 page, not a 500', async () => {
    for (const q of ['page=0', 'page=abc', 'per_page=1000', 'per_page=0']) {
      const r = await get(`${srv.url}/services?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.headers.get('content-type'), /^text\/html/);
    }
  });
});

describe('guide pages', () => {
  test('every item has a guide page in Chinese and in English', { skip: !demo && 'demo catalog not found' }, async () => {
    const jobs = demo.services.flatMap((s) => [[s, 'zh'], [s, 'en']]);
    const failures = [];
    await mapLimit(jobs, 6, async ([s, lang]) => {
      const r = await get(`${srv.url}/services/${s.code}?lang=${lang}`);
      try {
        assertHtml(r, `${s.code} ${lang}`);
        const text = htmlText(r.body);
        const name = lang === 'en' ? s.name_en : s.name_zh;
        assert.ok(text.includes(name), `${s.code} ${lang}: name "${name}" missing`);
        assert.equal(lang === 'en' ? htmlLang(r.body) : htmlLang(r.body)?.slice(0, 2), lang);
        const mat = s.materials[0];
        if (mat) assert.ok(text.includes(lang === 'en' ? mat.name_en : mat.name_zh), `${s.code} ${lang}: material missing`);
      } catch (e) {
        failures.push(e.message);
      }
    });
    assert.deepEqual(failures, []);
  });

  test('?version= selects a version; unknown or malformed versions are 404 / 400', async () => {
    const v1 = await get(`${srv.url}/services/psb-0001?version=1`);
    assertHtml(v1, 'psb-0001 v1');
    const none = await get(`${srv.url}/services/psb-0001?version=999`);
    assert.equal(none.status, 404);
    const bad = await get(`${srv.url}/services/psb-0001?version=abc`);
    assert.equal(bad.status, 400);
  });

  test('an unknown item is an HTML 404 page in the chosen language', async () => {
    const r = await get(`${srv.url}/services/nope-0000`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(r.body, /<html/i);
    assert.match(htmlLang(r.body) ?? '', /^zh/);
    const en = await get(`${srv.url}/services/nope-0000?lang=en`);
    assert.equal(en.status, 404);
    assert.equal(htmlLang(en.body), 'en');
  });
});

describe('departments and bundles', () => {
  test('the departments page names every department', { skip: !demo && 'demo catalog not found' }, async () => {
    const zh = await get(`${srv.url}/departments`);
    assertHtml(zh, '/departments');
    const en = await get(`${srv.url}/departments?lang=en`);
    assertHtml(en, '/departments?lang=en');
    for (const d of demo.departments) {
      assert.ok(htmlText(zh.body).includes(d.name_zh), `${d.code} zh`);
      assert.ok(htmlText(en.body).includes(d.name_en), `${d.code} en`);
      assert.ok(hasHref(zh.body, `/departments/${d.code}`), `${d.code} link`);
    }
  });

  test('a department page lists its items', { skip: !demo && 'demo catalog not found' }, async () => {
    const r = await get(`${srv.url}/departments/psb`);
    assertHtml(r, '/departments/psb');
    for (const s of demo.services.filter((x) => x.department === 'psb')) {
      assert.ok(hasHref(r.body, `/services/${s.code}`), `psb page lacks ${s.code}`);
    }
    const missing = await get(`${srv.url}/departments/nodept`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type'), /^text\/html/);
  });

  test('bundles: the list and each bundle page with its items', { skip: !demo && 'demo catalog not found' }, async () => {
    const list = await get(`${srv.url}/bundles`);
    assertHtml(list, '/bundles');
    for (const b of demo.bundles) {
      assert.ok(htmlText(list.body).includes(b.name_zh), `${b.code} on /bundles`);
      assert.ok(hasHref(list.body, `/bundles/${b.code}`), `${b.code} link`);
    }
    await mapLimit(demo.bundles, 4, async (b) => {
      for (const lang of ['zh', 'en']) {
        const r = await get(`${srv.url}/bundles/${b.code}?lang=${lang}`);
        assertHtml(r, `${b.code} ${lang}`);
        assert.ok(htmlText(r.body).includes(lang === 'en' ? b.name_en : b.name_zh), `${b.code} ${lang} name`);
        for (const code of b.items) assert.ok(hasHref(r.body, `/services/${code}`), `${b.code} lacks ${code}`);
      }
    });
    const missing = await get(`${srv.url}/bundles/no-such-bundle`);
    assert.equal(missing.status, 404);
  });
});

describe('not found', () => {
  test('an unknown page is an HTML 404; an unknown API path is a JSON 404', async () => {
    const html = await get(`${srv.url}/no/such/page`);
    assert.equal(html.status, 404);
    assert.match(html.headers.get('content-type'), /^text\/html/);
    assert.match(html.body, /<html/i);
    const json = await get(`${srv.url}/api/v1/no-such-thing`);
    assert.equal(json.status, 404);
    assert.match(json.headers.get('content-type'), /^application\/json/);
    const j = JSON.parse(json.body);
    assert.equal(j.error.code, 'not_found');
    assert.equal(typeof j.error.message, 'string');
  });
});
