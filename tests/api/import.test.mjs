// `govhall import catalog FILE.json`: every bad record reported as "PATH: reason", exit 1,
// nothing imported; non-JSON reported with line and column; a valid import adds items and
// versions changed ones, which the server then serves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  apiLogin, applyOnline, DEMO, demoCatalog, freshDb, get, getJson, govhall, htmlText, initDb, serve, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';

const demo = demoCatalog();
let db;
let tmp;
before(async () => {
  db = await freshDb('import');
  tmp = await tempDir('govhall-import-');
  await initDb(db.url);
});
after(async () => {
  await db?.drop();
  await tmp?.remove();
});

/** Starts a server on the database, runs fn(server), always stops it. */
async function withServer(fn, opts = {}) {
  const s = await serve(db.url, opts);
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

function validItem(code, overrides = {}) {
  return {
    code,
    name_zh: '测试事项导入',
    name_en: 'Test item for import',
    department: 'psb',
    audience: ['individual'],
    theme: 'household',
    item_type: 'public_service',
    level: 'city',
    legal_limit_days: 20,
    promised_limit_days: 5,
    fee_yuan: 0,
    online_depth: 4,
    visits_required: 0,
    conditions_zh: '本市户籍居民。',
    conditions_en: 'Residents of Qinghe.',
    legal_basis_zh: '《测试条例》',
    materials: [{ name_zh: '居民身份证', name_en: 'Resident ID card', required: true, form: 'original', ecert: 'resident_id' }],
    form: [{ key: 'applicant_name', label_zh: '申请人姓名', label_en: 'Applicant name', type: 'text', required: true }],
    keywords_zh: ['测试'],
    ...overrides,
  };
}

describe('import catalog', () => {
  test('bad records: each reported with its path, exit 1, nothing imported', async () => {
    const good = validItem('psb-9901');
    const noName = validItem('psb-9902');
    delete noName.name_zh;
    const file = await writeJsonFile(tmp.path, 'bad.json', {
      services: [
        good,
        noName,
        validItem('psb-9903', { materials: [{ name_zh: '材料', name_en: 'Material', required: 'yes', form: 'original' }] }),
        validItem('psb-9904', { department: 'no_such_department' }),
        validItem('psb-9905', { online_depth: 9 }),
        validItem('psb-9906', { promised_limit_days: 30, legal_limit_days: 10 }),
        validItem('psb-9907', { form: [{ key: 'x', label_zh: '甲', label_en: 'X', type: 'no_such_type', required: true }] }),
        validItem('psb-9901', { name_en: 'Duplicate code' }),
      ],
    });
    const r = await govhall(['import', 'catalog', file, '--db', db.url]);
    assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    const err = r.stderr;
    const lineFor = (re) => err.split('\n').find((l) => re.test(l));
    assert.ok(lineFor(/services\[1\](\.name_zh)?: .*/) && /name_zh/.test(lineFor(/services\[1\]/)), `missing name_zh not reported:\n${err}`);
    assert.ok(lineFor(/services\[2\]\.materials\[0\]\.required: \S/), `bad "required" not reported at its path:\n${err}`);
    assert.ok(lineFor(/services\[3\](\.department)?: \S/), `unknown department not reported:\n${err}`);
    assert.ok(lineFor(/services\[4\](\.online_depth)?: \S/), `online_depth 9 not reported:\n${err}`);
    assert.ok(lineFor(/services\[5\](\.promised_limit_days)?: \S/), `promised > legal not reported:\n${err}`);
    assert.ok(lineFor(/services\[6\]\.form\[0\](\.type)?: \S/), `bad form field type not reported:\n${err}`);
    assert.ok(lineFor(/services\[7\](\.code)?: \S/), `duplicate code not reported:\n${err}`);
    assert.ok(!lineFor(/services\[0\][.:]/), `the good record was reported:\n${err}`);
    assert.match(err, /nothing was imported/i);

    await withServer(async (s) => {
      const one = await getJson(`${s.url}/api/v1/services/psb-9901`);
      assert.equal(one.status, 404, 'the good record of a bad file was imported');
      if (demo) assert.equal((await getJson(`${s.url}/api/v1/services`)).json.total, demo.services.length);
    });
  });

  test('a file that is not JSON is reported with line and column', async () => {
    const file = path.join(tmp.path, 'broken.json');
    await writeJsonFile(tmp.path, 'broken.json', '{\n  "services": [\n    {"code": "psb-9990",, }\n  ]\n}\n');
    const r = await govhall(['import', 'catalog', file, '--db', db.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /line\D{0,3}3\b|:3:\d+/i, `no line number:\n${r.stderr}`);
    assert.match(r.stderr, /col(umn)?\D{0,3}\d+|:3:\d+/i, `no column:\n${r.stderr}`);
  });

  test('a missing file or a wrong top-level shape fails with exit 1', async () => {
    const missing = await govhall(['import', 'catalog', path.join(tmp.path, 'nope.json'), '--db', db.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.json/);
    const shape = await writeJsonFile(tmp.path, 'shape.json', '"just a string"');
    const r = await govhall(['import', 'catalog', shape, '--db', db.url]);
    assert.equal(r.code, 1, r.stderr);
    const wrongType = await writeJsonFile(tmp.path, 'wrongtype.json', { services: { code: 'x' } });
    const w = await govhall(['import', 'catalog', wrongType, '--db', db.url]);
    assert.equal(w.code, 1, w.stderr);
    assert.match(w.stderr, /services/);
  });

  test('usage errors exit 2', async () => {
    const r = await govhall(['import', 'nonsense', '--db', db.url]);
    assert.equal(r.code, 2);
  });

  test('a valid import adds new items and versions changed ones', { skip: !demo && 'demo catalog not found' }, async () => {
    const orig = demo.services.find((s) => s.code === 'psb-0001');
    const changed = { ...orig, name_en: `${orig.name_en} (revised)`, promised_limit_days: orig.promised_limit_days - 1 };
    const file = await writeJsonFile(tmp.path, 'good.json', { services: [validItem('psb-9901'), changed] });
    const r = await govhall(['import', 'catalog', file, '--db', db.url]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 items? new, 1 changed/);

    // Importing the same file again changes nothing.
    const again = await govhall(['import', 'catalog', file, '--db', db.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 items? new, 0 changed, 2 unchanged/);

    await withServer(async (s) => {
      const added = await getJson(`${s.url}/api/v1/services/psb-9901`);
      assert.equal(added.status, 200);
      assert.equal(added.json.name_en, 'Test item for import');
      assert.equal(added.json.version, 1);
      assert.equal((await getJson(`${s.url}/api/v1/services`)).json.total, demo.services.length + 1);

      const cur = await getJson(`${s.url}/api/v1/services/psb-0001`);
      assert.equal(cur.json.version, 2);
      assert.equal(cur.json.name_en, changed.name_en);
      assert.equal(cur.json.promised_limit_days, changed.promised_limit_days);
      const versions = await getJson(`${s.url}/api/v1/services/psb-0001/versions`);
      assert.equal(versions.status, 200);
      const list = Array.isArray(versions.json) ? versions.json : (versions.json.versions ?? versions.json.items);
      assert.deepEqual(list.map((v) => (typeof v === 'number' ? v : v.version)).sort(), [1, 2]);

      const oldPage = await get(`${s.url}/services/psb-0001?version=1&lang=en`);
      assert.equal(oldPage.status, 200);
      assert.ok(htmlText(oldPage.body).includes(orig.name_en) && !oldPage.body.includes('(revised)'), 'version 1 page shows the new name');
      const newPage = await get(`${s.url}/services/psb-0001?lang=en`);
      assert.ok(newPage.body.includes('(revised)'), 'current page shows the old name');
    });
  });

  // Each worker rechecks its caches every --cache-recheck milliseconds: an import reaches
  // every page and answer.
  test('an import while the server runs is served by every worker once it rechecks its caches', { skip: !demo && 'demo catalog not found' }, async () => {
    const recheckMs = 100;
    const orig = demo.services.find((s) => s.code === 'psb-0002');
    const urls = (u) => ({
      api: `${u}/api/v1/services/psb-0002`,
      en: `${u}/services/psb-0002?lang=en`,
      zh: `${u}/services/psb-0002?lang=zh`,
      list: `${u}/api/v1/services?department=psb&per_page=100`,
      listPage: `${u}/services?department=psb&per_page=100&lang=en`,
    });
    await withServer(async (s) => {
      const u = urls(s.url);
      // Fill whatever caches there are, on both workers: pages, and the items applications
      // are filed under.
      for (let i = 0; i < 4; i++) for (const x of Object.values(u)) assert.equal((await get(x)).status, 200, x);
      const token = (await apiLogin(s.url, DEMO.citizen.phone)).token;
      for (let i = 0; i < 4; i++) {
        const a = await applyOnline(s.url, token, orig);
        assert.equal(a.status, 201, a.body);
        assert.equal(a.json.item_version, 1);
      }
      const changed = { ...orig, name_zh: `${orig.name_zh}（新）`, name_en: `${orig.name_en} (new)` };
      const file = await writeJsonFile(tmp.path, 'live.json', { services: [changed] });
      const r = await govhall(['import', 'catalog', file, '--db', db.url]);
      assert.equal(r.code, 0, r.stderr);
      // Each worker rechecks within the interval: wait until every view, asked of every
      // worker, shows the import (a condition; the interval itself is not timed here).
      await waitFor(async () => {
        for (let i = 0; i < 4; i++) {
          const api = await getJson(u.api);
          assert.equal(api.json.name_en, changed.name_en, 'API item is stale');
          assert.equal(api.json.version, 2);
          assert.ok(htmlText((await get(u.en)).body).includes(changed.name_en), 'English guide page is stale');
          assert.ok(htmlText((await get(u.zh)).body).includes(changed.name_zh), 'Chinese guide page is stale');
          const list = await getJson(u.list);
          assert.equal(list.json.items.find((x) => x.code === 'psb-0002')?.name_en, changed.name_en, 'API list is stale');
          assert.ok(htmlText((await get(u.listPage)).body).includes(changed.name_en), 'list page is stale');
          const a = await applyOnline(s.url, token, changed);
          assert.equal(a.status, 201, a.body);
          assert.equal(a.json.item_version, 2, 'filed under a stale version of the item');
          assert.equal(a.json.item_name, changed.name_zh);
        }
        return true;
      }, { what: 'every page and API answer to show the imported item' });
    }, { extraArgs: ['--cache-recheck', String(recheckMs)] });
  });
});
