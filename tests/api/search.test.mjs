// Search, suggestions, the guided service and administrators' synonyms, black-box: the JSON
// API (colloquial, pinyin, Traditional, English and typo queries find the right item; filters;
// highlighting is escaped; bad parameters are 400 with a message), the pages in both
// languages without script, the index following catalog changes and synonym edits, the
// search gauges in /metrics, and `govhall search-eval`. Runs on SQLite, or PostgreSQL with
// GOVHALL_TEST_BACKEND=postgres.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  apiLogin, bearer, demoCatalog, DEMO, DEMO_PASSWORD, DEMO_TOTP_SECRET, freshIp, freshTotp, get, getJson, govhall,
  htmlText, pageLogin, startServer, tempDir, writeJsonFile,
} from './helpers.mjs';

let srv;
let base;

before(async () => {
  // --cache-recheck 0: a change is seen by the very next request (the default allows 250 ms).
  srv = await startServer({ name: 'search', extraArgs: ['--trust-proxy', 'true', '--cache-recheck', '0'] });
  base = srv.url;
});
after(async () => { await srv?.stop(); });

const search = (q, extra = '') => getJson(`${base}/api/v1/search?q=${encodeURIComponent(q)}${extra}`);
const top = async (q, extra = '') => {
  const r = await search(q, extra);
  assert.equal(r.status, 200, r.body);
  return r.json.results[0]?.code;
};
// After a change the job pool builds the next index while the current one keeps answering:
// ask until the answer satisfies ok (every answer meanwhile is a 200), or give up.
const topWhen = async (q, ok, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await top(q);
    if (ok(got) || Date.now() > deadline) return got;
    await new Promise((r) => setImmediate(r));
  }
};

describe('search API', () => {
  test('understands how people write', async () => {
    assert.equal(await top('护照丢了怎么补'), 'eea-0002');             // colloquial
    assert.equal(await top('驾驶证丢了'), 'psb-0014');
    assert.equal(await top('gongjijin daikuan'), 'hpf-0008');          // pinyin
    assert.equal(await top('sfz huanling'), 'psb-0002');               // initials + pinyin
    assert.equal(await top('離婚登記'), 'civ-0002');                    // Traditional
    assert.equal(await top('居住正怎么办'), 'psb-0010');                // homophone typo
    assert.equal(await top('report a lost passport'), 'eea-0002');     // English
    assert.equal(await top('DOG Registration'), 'psb-0012');           // case, stemming
    assert.equal(await top('退休要办哪些手续'), 'bundle-retirement');   // a life event: the bundle first
  });

  test('answers with both languages, links and escaped highlights', async () => {
    const r = await search('<script>身份证</script>', '&limit=3');
    assert.equal(r.status, 200, r.body);
    assert.ok(r.json.total >= 3);
    assert.equal(r.json.results.length, 3);
    const first = r.json.results[0];
    assert.match(first.code, /^psb-000[1-4]$/);
    assert.equal(first.kind, 'item');
    assert.ok(first.name_zh && first.name_en);
    assert.equal(first.href, `/services/${first.code}`);
    assert.match(first.name_html, /<mark>[^<]*身份证[^<]*<\/mark>/);
    for (const x of r.json.results) {
      assert.doesNotMatch(x.name_html + x.summary_html, /<script/i);
      assert.doesNotMatch((x.name_html + x.summary_html).replace(/<\/?mark>/g, ''), /[<>]/);
    }
    // English highlights in English
    const en = await search('identity card', '&lang=en&limit=1');
    assert.match(en.json.results[0].name_html, /<mark>identity<\/mark>/i);
    // a bundle links to its page
    const b = await search('开公司要跑哪些部门', '&kind=bundle&limit=1');
    assert.equal(b.json.results[0].kind, 'bundle');
    assert.equal(b.json.results[0].href, `/bundles/${b.json.results[0].code}`);
  });

  test('filters by audience, department, theme and kind; pages with offset', async () => {
    const ent = await search('登记', '&audience=enterprise&limit=50');
    assert.ok(ent.json.results.length > 0);
    assert.ok(ent.json.results.every((x) => x.audience.includes('enterprise')), JSON.stringify(ent.json.results));
    const dept = await search('登记', '&department=psb&limit=50');
    assert.ok(dept.json.results.length > 0);
    assert.ok(dept.json.results.every((x) => x.department === 'psb'));
    const theme = await search('公积金', '&theme=housing&limit=50');
    assert.ok(theme.json.results.every((x) => x.theme === 'housing'));
    const items = await search('一件事', '&kind=item&limit=50');
    assert.ok(items.json.results.every((x) => x.kind === 'item'));
    const p1 = await search('证明', '&limit=2');
    const p2 = await search('证明', '&limit=2&offset=2');
    assert.equal(p2.json.offset, 2);
    assert.notEqual(p1.json.results[0].code, p2.json.results[0].code);
    assert.equal(p1.json.total, p2.json.total);
    const none = await search('xyzzyqwerty');
    assert.equal(none.status, 200);
    assert.equal(none.json.total, 0);
    assert.deepEqual(none.json.results, []);
  });

  test('bad parameters are 400 with a message', async () => {
    const cases = [
      ['/api/v1/search', /q/],
      ['/api/v1/search?q=x&audience=aliens', /audience/],
      ['/api/v1/search?q=x&department=nope', /nope/],
      ['/api/v1/search?q=x&theme=nope', /nope/],
      ['/api/v1/search?q=x&kind=rumour', /kind/],
      ['/api/v1/search?q=x&limit=1000', /limit/],
      ['/api/v1/search?q=x&offset=-1', /offset/],
      [`/api/v1/search?q=${'长'.repeat(200)}`, /long|长/],
      [`/api/v1/search/suggest?q=${'长'.repeat(200)}`, /long|长/],
    ];
    for (const [p, re] of cases) {
      const r = await getJson(base + p);
      assert.equal(r.status, 400, `${p}: ${r.body}`);
      assert.equal(r.json.error.code, 'bad_request');
      assert.match(r.json.error.detail, re, p);
    }
    // only GET (and HEAD)
    const post = await get(`${base}/api/v1/search?q=x`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('suggestions as one types', async () => {
    const r = await getJson(`${base}/api/v1/search/suggest?q=gjj&limit=5`);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.json.suggestions.length > 0 && r.json.suggestions.length <= 5);
    assert.ok(r.json.suggestions.every((s) => s.code.startsWith('hpf-') && s.href && s.label));
    const en = await getJson(`${base}/api/v1/search/suggest?q=passport&lang=en`);
    assert.match(en.json.suggestions[0].label, /passport/i);
    const empty = await getJson(`${base}/api/v1/search/suggest?q=`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json.suggestions, []);
  });
});

describe('search pages', () => {
  test('every page has the search box; /search works without script in both languages', async () => {
    for (const p of ['/', '/services', '/bundles']) {
      const r = await get(base + p);
      assert.match(r.body, /<form class="site-search" action="\/search" method="get" role="search"/, p);
    }
    const zh = await get(`${base}/search?q=${encodeURIComponent('身份证丢了')}&lang=zh`);
    assert.equal(zh.status, 200);
    assert.match(zh.body, /<mark>/);
    assert.match(zh.body, /href="\/services\/psb-0003"/);
    assert.match(zh.body, /搜索结果/);
    const en = await get(`${base}/search?q=lost+passport&lang=en`);
    assert.equal(en.status, 200);
    assert.match(en.body, /Results/);
    assert.match(en.body, /href="\/services\/eea-0002"/);
    assert.match(en.body, /<html lang="en"/);
    // the query is escaped wherever it is shown
    const x = await get(`${base}/search?q=${encodeURIComponent('"><script>alert(1)</script>')}`);
    assert.equal(x.status, 200);
    assert.doesNotMatch(x.body, /<script>alert/);
    // filters as a form; a bad one is a page with the message
    const f = await get(`${base}/search?q=${encodeURIComponent('登记')}&audience=enterprise&department=amr`);
    assert.equal(f.status, 200);
    assert.match(f.body, /<option value="amr" selected>/);
    const bad = await get(`${base}/search?q=x&department=${encodeURIComponent('<b>')}`);
    assert.equal(bad.status, 400);
    assert.match(htmlText(bad.body), /没有“<b>”这个部门/);
    // no query: the form and the way to the guided service
    const blank = await get(`${base}/search`);
    assert.equal(blank.status, 200);
    assert.match(blank.body, /href="\/guide"/);
    // paging keeps the filters
    const many = await get(`${base}/search?q=${encodeURIComponent('证明')}&audience=individual`);
    assert.match(htmlText(many.body), /href="\/search\?q=%E8%AF%81%E6%98%8E&audience=individual&page=2"/);
  });
});

describe('guided service', () => {
  test('API: who, life event, yes/no questions, then the answer with the reasons', async () => {
    let r = await getJson(`${base}/api/v1/guide`);
    assert.equal(r.json.step, 'who');
    assert.deepEqual(r.json.options.map((o) => o.value), ['individual', 'enterprise']);
    r = await getJson(`${base}/api/v1/guide?who=individual`);
    assert.equal(r.json.step, 'theme');
    assert.ok(r.json.options.some((o) => o.value === 'birth'));
    assert.ok(!r.json.options.some((o) => o.value === 'business_startup'), 'enterprise themes are not offered');
    r = await getJson(`${base}/api/v1/guide?who=individual&theme=birth`);
    assert.equal(r.json.step, 'question');
    assert.equal(r.json.question_id, 'bundle');
    r = await getJson(`${base}/api/v1/guide?who=individual&theme=birth&ans=bundle:y`);
    assert.equal(r.json.step, 'result');
    assert.equal(r.json.result.code, 'bundle-birth');
    assert.equal(r.json.result.href, '/bundles/bundle-birth');
    assert.ok(r.json.result.reasons.length >= 3, JSON.stringify(r.json.result.reasons));
    // the same answers give the same result (deterministic), in English too
    const en = await getJson(`${base}/api/v1/guide?who=individual&theme=birth&ans=bundle:y&lang=en`);
    assert.equal(en.json.result.code, 'bundle-birth');
    assert.match(en.json.result.reasons.join(' '), /individual/);
  });

  test('API: following the questions always ends at an item of the theme', async () => {
    let url = `${base}/api/v1/guide?who=individual&theme=household`;
    for (let step = 0; step < 12; step++) {
      const r = await getJson(url);
      assert.equal(r.status, 200, r.body);
      if (r.json.step === 'result') {
        assert.match(r.json.result.code, /^psb-/);
        assert.ok(r.json.result.conditions, 'the conditions are shown');
        return;
      }
      assert.ok(['question', 'pick'].includes(r.json.step), r.body);
      url = base + r.json.options[0].href.replace('/guide', '/api/v1/guide');
    }
    assert.fail('no result after 12 steps');
  });

  test('bad answers are 400; impossible ones say nothing fits', async () => {
    for (const q of ['who=alien', 'who=individual&theme=nope', 'who=individual&theme=birth&ans=bogus:y',
      'who=individual&theme=birth&ans=bundle:maybe', `who=individual&theme=birth&ans=${'bundle:y,'.repeat(60)}`]) {
      const r = await getJson(`${base}/api/v1/guide?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.body}`);
    }
    const none = await getJson(`${base}/api/v1/guide?who=individual&theme=birth&ans=bundle:y,payment:y`);
    assert.equal(none.json.step, 'none');
  });

  test('pages: every step is a link, in both languages', async () => {
    const start = await get(`${base}/guide?lang=en`);
    assert.equal(start.status, 200);
    assert.match(start.body, /Who are you applying as\?/);
    assert.match(htmlText(start.body), /href="\/guide\?who=individual"/);
    const q = await get(`${base}/guide?who=individual&theme=birth&lang=zh`);
    assert.match(q.body, /一次办好/);
    const res = await get(`${base}/guide?who=individual&theme=birth&ans=bundle%3Ay`);
    assert.match(res.body, /新生儿出生一件事/);
    assert.match(res.body, /为什么是它/);
    assert.match(htmlText(res.body), /href="\/bundles\/bundle-birth"/);
  });
});

describe('synonyms edited by administrators', () => {
  let admin;
  before(async () => {
    admin = (await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO_TOTP_SECRET) })).token;
  });

  test('API: add a rule, search uses it at once, remove it', async () => {
    assert.notEqual(await top('小红本本'), 'civ-0001');
    const add = await bearer(`${base}/api/v1/admin/search/synonyms`, admin,
      { method: 'POST', json: { phrases: '小红本本, 红本本', terms: '结婚登记' } });
    assert.equal(add.status, 201, add.body);
    assert.ok(add.json.id > 0);
    assert.equal(await topWhen('小红本本', (c) => c === 'civ-0001'), 'civ-0001');
    const list = await bearer(`${base}/api/v1/admin/search/synonyms`, admin);
    assert.ok(list.json.synonyms.some((s) => s.id === add.json.id && s.terms === '结婚登记'));
    const bad = await bearer(`${base}/api/v1/admin/search/synonyms`, admin,
      { method: 'POST', json: { phrases: 'a => b', terms: 'x' } });
    assert.equal(bad.status, 422, bad.body);
    assert.ok(bad.json.error.fields.phrases);
    const del = await bearer(`${base}/api/v1/admin/search/synonyms/${add.json.id}`, admin, { method: 'DELETE' });
    assert.equal(del.status, 204, del.body);
    assert.notEqual(await topWhen('小红本本', (c) => c !== 'civ-0001'), 'civ-0001');
    const again = await bearer(`${base}/api/v1/admin/search/synonyms/${add.json.id}`, admin, { method: 'DELETE' });
    assert.equal(again.status, 404);
  });

  test('only administrators', async () => {
    const citizen = (await apiLogin(base, DEMO.citizen.phone)).token;
    const r = await bearer(`${base}/api/v1/admin/search/synonyms`, citizen);
    assert.equal(r.status, 403);
    const anon = await get(`${base}/api/v1/admin/search/synonyms`);
    assert.equal(anon.status, 401);
  });

  test('page: add and remove through forms with CSRF', async () => {
    const c = await pageLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO_TOTP_SECRET, ip: freshIp() });
    const page = await c.get('/admin/search/synonyms');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    const noCsrf = await c.post('/admin/search/synonyms', { action: 'add', phrases: '狗牌', terms: '养犬登记', _csrf: 'x' });
    assert.equal(noCsrf.status, 403);
    const add = await c.post('/admin/search/synonyms', { action: 'add', phrases: '狗牌', terms: '养犬登记' });
    assert.equal(add.status, 303, add.body.slice(0, 300));
    const listed = await c.get('/admin/search/synonyms');
    assert.match(listed.body, /狗牌/);
    const id = /name="id" value="(\d+)"/.exec(listed.body)[1];
    const empty = await c.post('/admin/search/synonyms', { action: 'add', phrases: '', terms: 'x' });
    assert.equal(empty.status, 422);
    const rm = await c.post('/admin/search/synonyms', { action: 'remove', id });
    assert.equal(rm.status, 303);
    assert.doesNotMatch((await c.get('/admin/search/synonyms')).body, /狗牌/);
  });
});

describe('index follows the catalog', () => {
  test('an imported item is found; gauges in /metrics', async () => {
    const cat = demoCatalog();
    const item = structuredClone(cat.services.find((s) => s.code === 'psb-0012'));
    item.code = 'psb-0999';
    item.name_zh = '信鸽饲养登记';
    item.name_en = 'Registration of racing pigeons';
    item.keywords_zh = ['信鸽登记'];
    const dir = await tempDir('govhall-search-');
    const file = await writeJsonFile(dir.path, 'one.json', { services: [item] });
    const imp = await govhall(['import', 'catalog', file, '--db', srv.db]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(await topWhen('信鸽', (c) => c === 'psb-0999'), 'psb-0999');
    assert.equal(await top('racing pigeons'), 'psb-0999');
    const m = await get(`${base}/metrics`);
    const bytes = /^govhall_search_index_bytes (\d+)$/m.exec(m.body);
    assert.ok(bytes && Number(bytes[1]) > 100000, 'index bytes reported');
    assert.match(m.body, /^govhall_search_documents \d+$/m);
    assert.match(m.body, /^govhall_search_builds_total [2-9]\d*$/m);
    await dir.remove();
  });
});

describe('aliases are catalog data', () => {
  test('in the API, on the guide page, searched, validated on import', async () => {
    const item = await getJson(`${base}/api/v1/services/psb-0012`);
    assert.equal(item.status, 200);
    assert.ok(Array.isArray(item.json.aliases_zh) && item.json.aliases_zh.includes('狗证'), item.body);
    assert.ok(Array.isArray(item.json.aliases_en) && item.json.aliases_en.length > 0);
    const bundles = await getJson(`${base}/api/v1/bundles`);
    assert.ok(bundles.json.bundles.every((b) => Array.isArray(b.aliases_zh) && b.aliases_zh.length > 0));
    const zh = await get(`${base}/services/psb-0012?lang=zh`);
    assert.match(htmlText(zh.body), /<p class="also-called"><span[^>]*>又称<\/span> [^<]*狗证/);
    const en = await get(`${base}/services/psb-0012?lang=en`);
    assert.match(htmlText(en.body), /<p class="also-called"><span[^>]*>Also called<\/span> [^<]*dog/i);
    // a new alias, imported, is found (once the index caught up)
    const cat = demoCatalog();
    const changed = structuredClone(cat.services.find((s) => s.code === 'psb-0011'));
    changed.aliases_zh = [...changed.aliases_zh, '盖章用的那个东西'];
    const dir = await tempDir('govhall-alias-');
    const ok = await writeJsonFile(dir.path, 'ok.json', { services: [changed] });
    const imp = await govhall(['import', 'catalog', ok, '--db', srv.db]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(await topWhen('盖章用的那个东西', (c) => c === 'psb-0011'), 'psb-0011');
    // bad aliases: each problem with its path, nothing imported
    const bad = structuredClone(changed);
    bad.aliases_zh = ['狗证', '狗证', 'x'.repeat(61), 7];
    const badFile = await writeJsonFile(dir.path, 'bad.json', { services: [bad] });
    const r = await govhall(['import', 'catalog', badFile, '--db', srv.db]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /aliases_zh\[1\]: "狗证" is listed twice/);
    assert.match(r.stderr, /aliases_zh\[2\]: too long/);
    assert.match(r.stderr, /aliases_zh\[3\]: expected a non-empty string/);
    await dir.remove();
  });
});

describe('search-eval', () => {
  test('prints MRR@10 and Recall@1 overall and per kind, beside FTS5', async () => {
    const dir = await tempDir('govhall-eval-');
    const file = await writeJsonFile(dir.path, 'q.json', [
      { q: '驾驶证丢了', lang: 'zh', expect: ['psb-0014'], kind: 'colloquial' },
      { q: 'dog registration', lang: 'en', expect: ['psb-0012'], kind: 'english' },
      { q: 'xyzzy plugh', lang: 'en', expect: ['psb-0012'], kind: 'english' },
    ]);
    const r = await govhall(['search-eval', file, '--db', srv.db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SQLite FTS5/);
    assert.match(r.stdout, /MRR@10\s+R@1\s+R@10/);
    // MRR@10, Recall@1, Recall@10 per kind and overall
    assert.match(r.stdout, /^colloquial\s+1 \|\s+1\.000\s+1\.000\s+1\.000 \|/m);
    assert.match(r.stdout, /^english\s+2 \|\s+0\.500\s+0\.500\s+0\.500 \|/m);
    assert.match(r.stdout, /^overall\s+3 \|\s+0\.667\s+0\.667\s+0\.667 \|/m);
    // the queries missed, and which came first instead
    assert.match(r.stdout, /queries not ranked first by govhall: 1 of 3/);
    assert.match(r.stdout, /xyzzy plugh -> not in the top 10/);
    assert.match(r.stdout, /queries close to a rule, word list or alias/);
    const bad = await govhall(['search-eval', path.join(dir.path, 'missing.json'), '--db', srv.db]);
    assert.notEqual(bad.code, 0);
    await dir.remove();
  });
});
