// The JSON catalog API against the demo catalog: lists, pagination, filters, item details,
// versions, departments, bundles, themes, regions; totals checked against the demo files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoCatalog, getJson, mapLimit, startServer } from './helpers.mjs';

const demo = demoCatalog();
let srv;
before(async () => { srv = await startServer({ name: 'catalog_api' }); });
after(async () => { await srv?.stop(); });

const api = (p) => `${srv.url}/api/v1${p}`;

function itemsOf(json, key) {
  // Service lists answer {"items": [...], page, per_page, total}; the small lists answer
  // {"departments": [...]}, {"bundles": [...]}, ... (or "items").
  assert.ok(json && typeof json === 'object', 'not a JSON object');
  const list = json[key] ?? json.items;
  assert.ok(Array.isArray(list), `no "${key}" list in ${JSON.stringify(json).slice(0, 200)}`);
  return list;
}

async function allCodes(query, perPage = 100) {
  const codes = [];
  let total;
  for (let page = 1; page < 100; page++) {
    const r = await getJson(api(`/services?${query}&per_page=${perPage}&page=${page}`));
    assert.equal(r.status, 200, `page ${page}: ${r.body}`);
    total ??= r.json.total;
    assert.equal(r.json.total, total, 'total changes between pages');
    codes.push(...r.json.items.map((i) => i.code));
    if (r.json.items.length < perPage) break;
  }
  return { codes, total };
}

describe('service list', () => {
  test('answers JSON with items, page, per_page, total', async () => {
    const r = await getJson(api('/services'));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.ok(Array.isArray(r.json.items));
    assert.equal(r.json.page, 1);
    assert.ok(Number.isInteger(r.json.per_page) && r.json.per_page >= 1 && r.json.per_page <= 100);
    assert.ok(r.json.items.length <= r.json.per_page);
    assert.ok(r.json.items.length > 0);
    if (demo) assert.equal(r.json.total, demo.services.length);
    for (const it of r.json.items) {
      assert.equal(typeof it.code, 'string');
      assert.equal(typeof it.name_zh, 'string');
      assert.equal(typeof it.name_en, 'string');
    }
  });

  test('paging through every page yields every item exactly once', async () => {
    const { codes, total } = await allCodes('', 25);
    assert.equal(codes.length, total);
    assert.equal(new Set(codes).size, codes.length, 'an item appears on two pages');
    if (demo) assert.deepEqual([...codes].sort(), demo.services.map((s) => s.code).sort());
  });

  test('per_page bounds the page size; a page past the end is empty', async () => {
    const r = await getJson(api('/services?per_page=7&page=2'));
    assert.equal(r.status, 200);
    assert.equal(r.json.per_page, 7);
    assert.equal(r.json.page, 2);
    assert.equal(r.json.items.length, 7);
    const first = await getJson(api('/services?per_page=7&page=1'));
    const overlap = first.json.items.filter((a) => r.json.items.some((b) => b.code === a.code));
    assert.deepEqual(overlap, [], 'pages 1 and 2 overlap');
    const max = await getJson(api('/services?per_page=100'));
    assert.equal(max.status, 200);
    assert.equal(max.json.items.length, Math.min(100, max.json.total));
    const past = await getJson(api(`/services?per_page=100&page=${Math.ceil(max.json.total / 100) + 1}`));
    assert.equal(past.status, 200);
    assert.deepEqual(past.json.items, []);
    assert.equal(past.json.total, max.json.total);
  });

  test('filters by theme, department and audience match the demo data', { skip: !demo && 'demo catalog not found' }, async () => {
    const byTheme = demo.services.filter((s) => s.theme === 'housing').map((s) => s.code).sort();
    const t = await allCodes('theme=housing');
    assert.equal(t.total, byTheme.length);
    assert.deepEqual(t.codes.sort(), byTheme);

    const byDept = demo.services.filter((s) => s.department === 'psb').map((s) => s.code).sort();
    const d = await allCodes('department=psb');
    assert.equal(d.total, byDept.length);
    assert.deepEqual(d.codes.sort(), byDept);

    const ent = demo.services.filter((s) => s.audience.includes('enterprise')).map((s) => s.code).sort();
    const a = await allCodes('audience=enterprise');
    assert.equal(a.total, ent.length);
    assert.deepEqual(a.codes.sort(), ent);

    const both = demo.services.filter((s) => s.theme === 'employment' && s.audience.includes('individual')).map((s) => s.code).sort();
    const c = await allCodes('theme=employment&audience=individual');
    assert.deepEqual(c.codes.sort(), both, 'filters combine with AND');
  });

  test('an unknown theme or department matches nothing (or is refused), never 500', async () => {
    for (const q of ['theme=no_such_theme', 'department=nodept']) {
      const r = await getJson(api(`/services?${q}`));
      assert.ok(r.status === 200 || r.status === 400, `${q}: ${r.status}`);
      if (r.status === 200) {
        assert.equal(r.json.total, 0, q);
        assert.deepEqual(r.json.items, []);
      } else {
        assert.equal(r.json.error.code, 'bad_request');
      }
    }
  });

  test('q finds an item by its Chinese and its English name', { skip: !demo && 'demo catalog not found' }, async () => {
    const item = demo.services.find((s) => s.code === 'psb-0001') ?? demo.services[0];
    for (const name of [item.name_zh, item.name_en]) {
      const r = await getJson(api(`/services?per_page=100&q=${encodeURIComponent(name)}`));
      assert.equal(r.status, 200);
      assert.ok(r.json.items.some((i) => i.code === item.code), `q=${name} misses ${item.code}`);
      assert.ok(r.json.total < demo.services.length, `q=${name} does not narrow the list`);
    }
  });

  test('bad pagination values are refused with a JSON 400', async () => {
    for (const q of ['page=0', 'page=-1', 'page=abc', 'page=1.5', 'page=1x', 'per_page=0', 'per_page=101',
      'per_page=1000', 'per_page=abc', 'page=99999999999999999999']) {
      const r = await getJson(api(`/services?${q}`));
      assert.equal(r.status, 400, `${q} -> ${r.status} ${r.body.slice(0, 200)}`);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      assert.equal(r.json.error?.code, 'bad_request', q);
      assert.equal(typeof r.json.error.message, 'string');
      assert.ok(r.json.error.message.length > 0);
    }
  });
});

describe('service item', () => {
  test('every item detail carries its full record', { skip: !demo && 'demo catalog not found' }, async () => {
    const scalar = ['name_zh', 'name_en', 'department', 'theme', 'item_type', 'level', 'legal_limit_days',
      'promised_limit_days', 'fee_yuan', 'online_depth', 'visits_required'];
    await mapLimit(demo.services, 8, async (s) => {
      const r = await getJson(api(`/services/${s.code}`));
      assert.equal(r.status, 200, `${s.code}: ${r.body.slice(0, 200)}`);
      const j = r.json;
      assert.equal(j.code, s.code);
      assert.ok(Number.isInteger(j.version) && j.version >= 1, `${s.code}: version ${j.version}`);
      for (const k of scalar) {
        const v = j[k] && typeof j[k] === 'object' && !Array.isArray(j[k]) ? j[k].code : j[k];
        assert.deepEqual(v, s[k], `${s.code}.${k}`);
      }
      assert.deepEqual([...j.audience].sort(), [...s.audience].sort(), `${s.code}.audience`);
      assert.ok(Array.isArray(j.materials), `${s.code}.materials`);
      assert.equal(j.materials.length, s.materials.length, `${s.code}.materials`);
      j.materials.forEach((m, i) => {
        assert.equal(m.name_zh, s.materials[i].name_zh, `${s.code}.materials[${i}]`);
        assert.equal(m.name_en, s.materials[i].name_en);
        assert.equal(m.required, s.materials[i].required);
      });
      assert.ok(Array.isArray(j.form), `${s.code}.form`);
      assert.deepEqual(j.form.map((f) => f.key), s.form.map((f) => f.key), `${s.code}.form keys`);
      assert.deepEqual(j.form.map((f) => f.type), s.form.map((f) => f.type));
      assert.equal(j.conditions_zh, s.conditions_zh);
      assert.equal(j.conditions_en, s.conditions_en);
    });
  });

  test('an unknown item is a JSON 404', async () => {
    for (const code of ['nope-0000', 'psb-9999', '%E4%B8%AD']) {
      const r = await getJson(api(`/services/${code}`));
      assert.equal(r.status, 404, code);
      assert.equal(r.json.error.code, 'not_found');
      assert.equal(typeof r.json.error.message, 'string');
    }
  });

  test('versions list the current version', async () => {
    const item = await getJson(api('/services/psb-0001'));
    assert.equal(item.status, 200);
    const r = await getJson(api('/services/psb-0001/versions'));
    assert.equal(r.status, 200, r.body);
    const list = Array.isArray(r.json) ? r.json : (r.json.versions ?? r.json.items);
    assert.ok(Array.isArray(list) && list.length >= 1, r.body);
    const nums = list.map((v) => (typeof v === 'number' ? v : v.version));
    assert.ok(nums.includes(item.json.version), `versions ${nums} lack current ${item.json.version}`);
    const missing = await getJson(api('/services/nope-0000/versions'));
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'not_found');
  });
});

describe('departments, bundles, themes, regions', () => {
  test('departments list every department', async () => {
    const r = await getJson(api('/departments'));
    assert.equal(r.status, 200);
    const list = itemsOf(r.json, 'departments');
    if (demo) {
      assert.deepEqual(list.map((d) => d.code).sort(), demo.departments.map((d) => d.code).sort());
      const psb = demo.departments.find((d) => d.code === 'psb');
      const one = await getJson(api('/departments/psb'));
      assert.equal(one.status, 200);
      const dep = one.json.department ?? one.json;
      assert.equal(dep.code, 'psb');
      assert.equal(dep.name_zh, psb.name_zh);
      assert.equal(dep.name_en, psb.name_en);
      const deptItems = (dep.services ?? dep.items);
      if (Array.isArray(deptItems)) {
        assert.deepEqual(deptItems.map((i) => i.code).sort(),
          demo.services.filter((x) => x.department === 'psb').map((x) => x.code).sort(), 'department items');
      }
    }
    const missing = await getJson(api('/departments/nodept'));
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'not_found');
  });

  test('bundles list every bundle with its items', async () => {
    const r = await getJson(api('/bundles'));
    assert.equal(r.status, 200);
    const list = itemsOf(r.json, 'bundles');
    if (demo) {
      assert.deepEqual(list.map((b) => b.code).sort(), demo.bundles.map((b) => b.code).sort());
      const b = demo.bundles[0];
      const one = await getJson(api(`/bundles/${b.code}`));
      assert.equal(one.status, 200);
      const j = one.json.bundle ?? one.json;
      assert.equal(j.code, b.code);
      assert.equal(j.name_zh, b.name_zh);
      const codes = (j.services ?? j.items).map((i) => (typeof i === 'string' ? i : i.code));
      assert.deepEqual(codes, b.items, 'bundle items in their order');
    }
    const missing = await getJson(api('/bundles/no-such-bundle'));
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'not_found');
  });

  test('themes cover every theme used by an item', async () => {
    const r = await getJson(api('/themes'));
    assert.equal(r.status, 200);
    const list = itemsOf(r.json, 'themes');
    assert.ok(list.length > 0);
    for (const t of list) {
      assert.equal(typeof t.code, 'string');
      assert.equal(typeof t.name_zh, 'string');
      assert.equal(typeof t.name_en, 'string');
    }
    if (demo) {
      const used = new Set(demo.services.map((s) => s.theme));
      const codes = new Set(list.map((t) => t.code));
      for (const u of used) assert.ok(codes.has(u), `theme ${u} missing`);
    }
  });

  test('regions answer a JSON list', async () => {
    const r = await getJson(api('/regions'));
    assert.equal(r.status, 200);
    const list = itemsOf(r.json, 'regions');
    assert.ok(list.length > 0, 'no regions');
    for (const g of list) {
      assert.equal(typeof g.code, 'string');
      assert.equal(typeof g.name_zh, 'string');
    }
  });
});
