// Duplicate Open311 requests (src/open311): before posting, a client asks GET requests with
// lat, long, radius and description (the extension, docs/api.md) for the open requests of the
// service nearby that read alike: a similar nearby request is found, a distant one, one of
// another service or a different problem is not; bad parameters are 400; the answer is
// bounded. Staff of the department merge a duplicate (a citizen and staff of another
// department cannot): Open311 answers show it closed, its status_notes and merged_into
// naming the primary, in JSON and XML, and a later step of its application does not reopen
// it; the staff page offers the alike requests nearby and merges with a CSRF form. "This is
// my problem too" (follow, an extension): a follower is told of each change of the
// request, and of its merge, after which they follow the primary; `govhall audit` passes.
// Runs on both backends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, bearer, DEMO, demoCatalog, govhall, pageLogin, startServer, tempDir, writeJsonFile } from './helpers.mjs';
import { inbox } from './interact-fixtures.mjs';

let srv;
let key;
const tok = {};
const B = () => `${srv.url}/open311/v2`;
const demo = demoCatalog();
const form = [
  { key: 'phone', label_zh: '联系电话', label_en: 'Contact phone', type: 'phone', required: true },
  { key: 'content', label_zh: '情况描述', label_en: 'What happened', type: 'textarea', required: true },
];
const base = demo.services.find((s) => s.code === 'gsa-0001');
// Two Open311 services of psb (the demo staff member A's department).
const ROAD = { ...base, code: 'psb-9321', department: 'psb', name_zh: '道路设施报修', name_en: 'Road facility', form };
const LIGHT = { ...base, code: 'psb-9322', department: 'psb', name_zh: '路灯报修', name_en: 'Street light', form };
// One of civ (staff member B's).
const CIV = { ...base, code: 'civ-9323', department: 'civ', name_zh: '公共设施报修', name_en: 'Public facility', form };

async function get(path) {
  const res = await fetch(`${B()}${path}`);
  const body = await res.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* XML */ }
  return { status: res.status, body, json };
}

async function file(service, lat, long, description) {
  const res = await fetch(`${B()}/requests.json`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key, service_code: service.code, lat, long, description, phone: '13900139000', email: 'x@example.cn' }).toString(),
  });
  const j = await res.json();
  assert.equal(res.status, 200, JSON.stringify(j));
  return j[0].service_request_id;
}

const follow = (token, number) => bearer(`${srv.url}/api/v1/open311/requests/${number}/follow`, token, { method: 'POST' });
const told = async (token, kind, number) => (await inbox(srv.url, token)).filter((m) => m.kind === kind && m.body.includes(number));
const ask = (q) => get(`/requests.json?${new URLSearchParams({ status: 'open', ...q })}`);
const idsOf = (r) => { assert.equal(r.status, 200, r.body); return r.json.map((x) => x.service_request_id); };

before(async () => {
  srv = await startServer({ name: 'open311_dupes' });
  const dir = await tempDir('govhall-open311-dupes-');
  const f = await writeJsonFile(dir.path, 'open311.json', { services: [ROAD, LIGHT, CIV] });
  const imp = await govhall(['import', 'catalog', f, '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(imp.code, 0, imp.stderr + imp.stdout);
  const add = await govhall(['open311', 'key', 'add', 'Dupes client', '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(add.code, 0, add.stderr);
  key = /: ([A-Za-z0-9_-]{43})\n/.exec(add.stdout)[1];
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, e: DEMO.enterprise, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

const here = { lat: '31.2304', long: '121.4737' };
const near = { lat: '31.2310', long: '121.4740' };  // about 70 m away
const far = { lat: '31.2504', long: '121.4737' };   // about 2.2 km away

describe('duplicate Open311 requests', () => {
  let pothole;
  let lamp;
  let farHole;
  let otherService;
  test('asked before posting: a similar nearby request of the service is offered, not a distant, other or different one', async () => {
    pothole = await file(ROAD, here.lat, here.long, '人民路88号门前路面塌陷，有个大坑');
    lamp = await file(ROAD, here.lat, here.long, '晚上这里的路灯一直不亮');
    farHole = await file(ROAD, far.lat, far.long, '人民路88号门前路面塌陷，有个大坑');
    otherService = await file(LIGHT, here.lat, here.long, '人民路88号门前路面塌陷，有个大坑');
    const english = await file(ROAD, here.lat, here.long, 'A deep pothole on Main Road near the bridge');

    const q = { service_code: ROAD.code, ...near, radius: '200' };
    let got = idsOf(await ask({ ...q, description: '人民路88号门口路面塌陷了一个坑' }));
    assert.deepEqual(got, [pothole], 'the same problem nearby, of the same service; not the far one, the other service or the lamp');
    got = idsOf(await ask({ ...q, description: 'Pothole near bridge: Main Road has a big pothole by the bridge' }));
    assert.deepEqual(got, [english]);
    // by location alone: every open request of the service within the radius
    got = idsOf(await ask(q));
    assert.deepEqual(got.sort(), [pothole, lamp, english].sort());
    got = idsOf(await ask({ ...q, radius: '2000', lat: far.lat, long: far.long }));
    assert.ok(got.includes(farHole) && !got.includes(otherService));
    // XML as well
    const x = await get(`/requests.xml?${new URLSearchParams({ status: 'open', ...q, description: '人民路88号门口路面塌陷了一个坑' })}`);
    assert.equal(x.status, 200);
    assert.equal([...x.body.matchAll(/<request>/g)].length, 1);
  });

  test('bad look-ups are 400 with the reason; the answer is bounded', async () => {
    for (const bad of [
      { lat: '31.2' },
      { lat: '91', long: '0' },
      { lat: '31.2', long: '121.4', radius: '0' },
      { lat: '31.2', long: '121.4', radius: '2001' },
      { lat: '31.2', long: '121.4', radius: 'far' },
      { radius: '100' },
      { description: 'x'.repeat(2001) },
    ]) {
      const r = await ask({ service_code: ROAD.code, ...bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.ok(r.json[0].description.length > 0);
    }
    for (let i = 0; i < 12; i++) await file(LIGHT, here.lat, here.long, `人民路路灯不亮 ${i}`);
    const got = idsOf(await ask({ service_code: LIGHT.code, ...here, description: '人民路的路灯不亮了' }));
    assert.equal(got.length, 10);
  });

  test('"this is my problem too": a follower hears of each change of the request', async () => {
    let r = await follow(tok.a, pothole);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { service_request_id: pothole, following: true });
    assert.equal((await follow(tok.a, pothole)).status, 200, 'following twice is following');
    assert.equal((await follow(tok.psb, pothole)).status, 403, 'staff do not follow');
    assert.equal((await follow(tok.a, 'QH00000000000000')).status, 404);
    assert.equal((await follow(null, pothole)).status, 401);
    assert.equal((await told(tok.a, 'open311_update', pothole)).length, 0);
    r = await bearer(`${srv.url}/api/v1/applications/${pothole}/actions/accept`, tok.psb, { method: 'POST', json: {} });
    assert.equal(r.status, 200, r.body);
    const news = await told(tok.a, 'open311_update', pothole);
    assert.equal(news.length, 1, 'the follower is told once');
    assert.match(news[0].body, /道路设施报修|Road facility/, 'of the service');
    assert.doesNotMatch(`${news[0].title} ${news[0].body}`, /open311_|case_state_|13900139000|x@example/, 'in words, no contact data');
    assert.equal((await told(tok.b, 'open311_update', pothole)).length, 0, 'nobody else');
  });

  test('staff of the department merge a duplicate: closed, naming the primary, in JSON and XML', async () => {
    const dup = await file(ROAD, near.lat, near.long, '人民路88号门口路面塌陷');
    const civDup = await file(CIV, near.lat, near.long, '人民路88号门口路面塌陷');
    const merge = (token, number, into) => bearer(`${srv.url}/api/v1/open311/requests/${number}/merge`, token, { method: 'POST', json: { into } });
    assert.equal((await merge(tok.a, dup, pothole)).status, 403, 'a citizen');
    assert.equal((await merge(tok.civ, dup, pothole)).status, 403, 'staff of another department');
    assert.equal((await merge(tok.psb, dup, dup)).status, 422, 'into itself');
    assert.equal((await merge(tok.psb, dup, civDup)).status, 422, "into another department's");
    assert.equal((await merge(tok.psb, dup, 'QH00000000000000')).status, 422, 'into none');
    assert.equal((await merge(tok.psb, dup, '')).status, 422);
    assert.equal((await merge(tok.psb, 'QH00000000000000', pothole)).status, 404);

    assert.equal((await follow(tok.b, dup)).status, 200);
    let r = await merge(tok.psb, dup, pothole);
    assert.equal(r.status, 200, r.body);
    // its follower is told, and follows the primary from now on
    assert.equal((await told(tok.b, 'open311_merged', pothole)).length, 1);
    assert.equal((await follow(tok.e, dup)).status, 409, 'merged: no longer followed');
    assert.equal((await follow(tok.b, dup)).status, 200, 'who follows it still does');
    assert.deepEqual(r.json, { service_request_id: dup, status: 'closed', merged_into: pothole });
    assert.equal((await merge(tok.psb, dup, pothole)).status, 409, 'once');

    r = await get(`/requests/${dup}.json?lang=en`);
    assert.equal(r.json[0].status, 'closed');
    assert.equal(r.json[0].merged_into, pothole);
    assert.match(r.json[0].status_notes, new RegExp(`Merged into request ${pothole}`));
    r = await get(`/requests/${dup}.xml`);
    assert.match(r.body, new RegExp(`<status>closed</status>.*<merged_into>${pothole}</merged_into>`, 's'));
    r = await get(`/requests.json?${new URLSearchParams({ service_request_id: `${dup},${pothole}` })}`);
    assert.deepEqual(r.json.map((x) => [x.status, x.merged_into ?? null]), [['closed', pothole], ['open', null]]);
    assert.ok(!idsOf(await ask({ service_code: ROAD.code, ...near, description: '人民路88号门口路面塌陷了一个坑' })).includes(dup), 'no longer offered');

    // A later step of the application behind it does not reopen it.
    const act = await bearer(`${srv.url}/api/v1/applications/${dup}/actions/accept`, tok.psb, { method: 'POST', json: {} });
    assert.equal(act.status, 200, act.body);
    r = await get(`/requests/${dup}.json`);
    assert.equal(r.json[0].status, 'closed');
    assert.equal(r.json[0].merged_into, pothole);
    assert.equal((await told(tok.b, 'open311_update', dup)).length, 0, 'nothing to tell of the merged one');
    // the primary's next step reaches its own follower and the one moved by the merge
    r = await bearer(`${srv.url}/api/v1/applications/${pothole}/actions/start_review`, tok.psb, { method: 'POST', json: {} });
    assert.equal(r.status, 200, r.body);
    for (const who of ['a', 'b']) {
      const news = await told(tok[who], 'open311_update', pothole);
      assert.equal(news.length, who === 'a' ? 2 : 1, who);
    }
  });

  test('the staff page offers the open requests alike nearby and merges with a form', async () => {
    const first = await file(ROAD, here.lat, here.long, '学校门口人行道地砖松动，容易绊倒');
    const second = await file(ROAD, near.lat, near.long, '学校门口的人行道地砖松动了');
    const distant = await file(ROAD, far.lat, far.long, '学校门口人行道地砖松动，容易绊倒');
    const psb = await pageLogin(srv.url, DEMO.staffA.phone, undefined, { lang: 'en' });
    let r = await psb.get(`/applications/${second}`);
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(`id="open311-link" href="/staff/open311/${second}"`), 'the application page leads there');
    r = await psb.get(`/staff/open311/${second}`);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, new RegExp(`name="into" value="${first}"`), 'the one alike nearby is offered');
    assert.doesNotMatch(r.body, new RegExp(`name="into" value="(${distant}|${lamp}|${second})"`), 'not a distant, different one or itself');
    assert.match(r.body, /within 200 metres/);
    // who may not: staff of another department, a citizen; a form without its CSRF token
    const civ = await pageLogin(srv.url, DEMO.staffB.phone);
    assert.equal((await civ.get(`/staff/open311/${second}`)).status, 403);
    assert.equal((await civ.post(`/staff/open311/${second}/merge`, { into: first })).status, 403);
    const a = await pageLogin(srv.url, DEMO.citizen.phone);
    assert.equal((await a.post(`/staff/open311/${second}/merge`, { into: first })).status, 403);
    assert.equal((await psb.post(`/staff/open311/${second}/merge`, { into: first, _csrf: 'x' })).status, 403);
    assert.equal((await psb.get('/staff/open311/QH00000000000000')).status, 404);
    // a bad number is shown on the page, nothing merged
    r = await psb.post(`/staff/open311/${second}/merge`, { into: 'nope' });
    assert.equal(r.status, 422);
    assert.match(r.body, /role="alert"[^]*Only another open request of your department/);
    assert.equal((await get(`/requests/${second}.json`)).json[0].status, 'open');

    r = await psb.post(`/staff/open311/${second}/merge`, { into: first });
    assert.equal(r.status, 303, r.body);
    r = await psb.get(r.location);
    assert.match(r.body, new RegExp(`id="merged-into"[^]*href="/staff/open311/${first}"`));
    assert.doesNotMatch(r.body, /id="form-merge"/, 'closed: nothing more to merge');
    r = await get(`/requests/${second}.json`);
    assert.deepEqual([r.json[0].status, r.json[0].merged_into], ['closed', first]);
    r = await psb.get(`/staff/open311/${first}`);
    assert.doesNotMatch(r.body, new RegExp(`name="into" value="${second}"`), 'a merged one is offered no more');
  });

  test('merges are logged actions: the audit passes', async () => {
    const r = await govhall(['audit', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});
