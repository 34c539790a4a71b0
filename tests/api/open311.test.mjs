// Open311 GeoReport v2 (/open311/v2/): discovery, services, service definitions, POST
// requests with an api_key, tokens, GET requests with the spec's filters, one request; every
// endpoint in JSON and XML, every error case (400, 403, 404 as the spec's list of code and
// description), a posted request in the department's queue, and its status following the
// staff's actions until it is closed. Runs on both backends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, bearer, csrfOf, DEMO, demoCatalog, freshTotp, govhall, htmlText, pageLogin, startServer, tempDir, writeJsonFile } from './helpers.mjs';

let srv;
let key;
let revokedKey;
let staffTok;
const B = () => `${srv.url}/open311/v2`;
const demo = demoCatalog();

// An Open311-eligible item of the demo staff member's department (psb), whose form has a
// field of every type the datatypes map from.
const ITEM = {
  ...demo.services.find((s) => s.code === 'gsa-0001'),
  code: 'psb-9311',
  department: 'psb',
  name_zh: '道路设施报修',
  name_en: 'Report a damaged road facility',
  form: [
    { key: 'name', label_zh: '姓名', label_en: 'Name', type: 'text', required: false },
    { key: 'phone', label_zh: '联系电话', label_en: 'Contact phone', type: 'phone', required: true },
    { key: 'kind', label_zh: '设施类型', label_en: 'Facility', type: 'select', required: true,
      options: [{ value: 'pothole', label_zh: '坑洼', label_en: 'Pothole' }, { value: 'light', label_zh: '路灯', label_en: 'Street light' }] },
    { key: 'count', label_zh: '数量', label_en: 'How many', type: 'number', required: false },
    { key: 'seen', label_zh: '发现日期', label_en: 'Seen on', type: 'date', required: false },
    { key: 'where', label_zh: '地点', label_en: 'Where', type: 'address', required: false },
    { key: 'content', label_zh: '情况描述', label_en: 'What happened', type: 'textarea', required: true },
    { key: 'photo', label_zh: '照片', label_en: 'Photo', type: 'file', required: false },
  ],
};
// Not a service: it needs a material.
const NEEDS_MATERIAL = demo.services.find((s) => s.online_depth >= 3 && s.materials.some((m) => m.required));

async function get(path, headers = {}) {
  const res = await fetch(`${B()}${path}`, { headers });
  const body = await res.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* XML */ }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, json };
}

async function post(path, fields) {
  const res = await fetch(`${B()}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
  });
  const body = await res.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* XML */ }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, json };
}

const report = (extra = {}) => ({
  api_key: key, service_code: ITEM.code, lat: '31.2304', long: '121.4737', description: '人民路 88 号门前路面塌陷 <深 10cm> & 积水',
  first_name: '三', last_name: '张', phone: '13900139000', email: 'zhang@example.cn', 'attribute[kind]': 'pothole', ...extra,
});

function xmlErrors(body) {
  assert.match(body, /^<\?xml version="1.0" encoding="utf-8"\?>\n<errors>/);
  return [...body.matchAll(/<error><code>(\d+)<\/code><description>([^<]*)<\/description><\/error>/g)].map((m) => ({ code: Number(m[1]), description: m[2] }));
}

function assertJsonErrors(r, status) {
  assert.equal(r.status, status, r.body);
  assert.match(r.type, /^application\/json/);
  assert.ok(Array.isArray(r.json) && r.json.length > 0, r.body);
  for (const e of r.json) {
    assert.equal(e.code, status);
    assert.equal(typeof e.description, 'string');
    assert.ok(e.description.length > 0);
  }
}

function assertXmlErrors(r, status) {
  assert.equal(r.status, status, r.body);
  assert.match(r.type, /^text\/xml/);
  const errs = xmlErrors(r.body);
  assert.ok(errs.length > 0, r.body);
  for (const e of errs) assert.equal(e.code, status);
}

before(async () => {
  srv = await startServer({ name: 'open311' });
  const dir = await tempDir('govhall-open311-');
  const file = await writeJsonFile(dir.path, 'open311.json', { services: [ITEM] });
  const imp = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(imp.code, 0, imp.stderr + imp.stdout);
  const add = await govhall(['open311', 'key', 'add', 'Test client', '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(add.code, 0, add.stderr);
  key = /: ([A-Za-z0-9_-]{43})\n/.exec(add.stdout)[1];
  const add2 = await govhall(['open311', 'key', 'add', 'Old client', '--db', srv.db], { keyFile: srv.keyFile });
  revokedKey = /: ([A-Za-z0-9_-]{43})\n/.exec(add2.stdout)[1];
  const id = /^key (\d+)/.exec(add2.stdout)[1];
  const rev = await govhall(['open311', 'key', 'revoke', id, '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(rev.code, 0, rev.stderr);
  staffTok = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
});
after(async () => { await srv?.stop(); });

describe('keys', () => {
  test('the command line lists keys without showing them, and refuses bad input', async () => {
    const list = await govhall(['open311', 'key', 'list', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /active .*Test client/);
    assert.match(list.stdout, /revoked .*Old client/);
    assert.ok(!list.stdout.includes(key), 'a key is shown only when it is made');
    assert.equal((await govhall(['open311', 'key', 'revoke', '999999', '--db', srv.db], { keyFile: srv.keyFile })).code, 1);
    assert.equal((await govhall(['open311', 'key', 'revoke', 'x', '--db', srv.db], { keyFile: srv.keyFile })).code, 2);
    assert.equal((await govhall(['open311', 'key', 'add', '--db', srv.db], { keyFile: srv.keyFile })).code, 2);
  });
});

describe('discovery and services', () => {
  test('discovery names the spec, the base URL and both formats', async () => {
    const j = await get('/discovery.json');
    assert.equal(j.status, 200);
    assert.match(j.type, /^application\/json/);
    const ep = j.json.endpoints[0];
    assert.equal(ep.specification, 'http://wiki.open311.org/GeoReport_v2');
    assert.match(ep.url, /\/open311\/v2$/);
    assert.deepEqual(ep.formats, ['text/xml', 'application/json']);
    assert.match(j.json.changeset, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    const x = await get('/discovery.xml');
    assert.equal(x.status, 200);
    assert.match(x.type, /^text\/xml/);
    assert.match(x.body, /<discovery>.*<endpoints><endpoint><specification>http:\/\/wiki.open311.org\/GeoReport_v2<\/specification><url>[^<]*\/open311\/v2<\/url>.*<formats><format>text\/xml<\/format><format>application\/json<\/format><\/formats>/s);
    const root = await fetch(`${srv.url}/open311/discovery.json`);
    assert.equal(root.status, 200);
  });

  test('services: online items open to individuals that need no material', async () => {
    const j = await get('/services.json?lang=en');
    assert.equal(j.status, 200);
    const codes = j.json.map((s) => s.service_code);
    assert.ok(codes.includes('gsa-0001'), codes.join());
    assert.ok(codes.includes(ITEM.code));
    assert.ok(!codes.includes(NEEDS_MATERIAL.code), 'an item with a required material is not a service');
    const s = j.json.find((x) => x.service_code === ITEM.code);
    assert.equal(s.service_name, ITEM.name_en);
    assert.equal(s.metadata, true);
    assert.equal(s.type, 'realtime');
    assert.equal(s.group, 'Qinghe Municipal Public Security Bureau');
    const x = await get('/services.xml');
    assert.equal(x.status, 200);
    assert.match(x.body, new RegExp(`<service><service_code>${ITEM.code}</service_code><service_name>${ITEM.name_zh}</service_name><description>[^<]+</description><metadata>true</metadata><type>realtime</type><keywords></keywords><group>[^<]+</group></service>`));
  });

  test('a service definition maps every form field to an attribute', async () => {
    const j = await get(`/services/${ITEM.code}.json?lang=en`);
    assert.equal(j.status, 200, j.body);
    assert.equal(j.json.service_code, ITEM.code);
    const by = Object.fromEntries(j.json.attributes.map((a) => [a.code, a]));
    assert.deepEqual(Object.keys(by), ['name', 'phone', 'kind', 'count', 'seen', 'where', 'content'], 'file fields are left out');
    assert.equal(by.name.datatype, 'string');
    assert.equal(by.phone.datatype, 'string');
    assert.equal(by.content.datatype, 'text');
    assert.equal(by.count.datatype, 'number');
    assert.equal(by.seen.datatype, 'datetime');
    assert.equal(by.kind.datatype, 'singlevaluelist');
    assert.deepEqual(by.kind.values, [{ key: 'pothole', name: 'Pothole' }, { key: 'light', name: 'Street light' }]);
    assert.equal(by.kind.required, true);
    assert.equal(by.count.required, false);
    assert.equal(by.kind.order, 3);
    assert.equal(by.kind.variable, true);
    assert.equal(by.kind.description, 'Facility');
    const x = await get(`/services/${ITEM.code}.xml`);
    assert.equal(x.status, 200);
    assert.match(x.body, /<service_definition><service_code>psb-9311<\/service_code><attributes><attribute><variable>true<\/variable><code>name<\/code>/);
    assert.match(x.body, /<values><value><key>pothole<\/key><name>坑洼<\/name><\/value><value><key>light<\/key><name>路灯<\/name><\/value><\/values>/);
  });

  test('404 for an unknown service or one that is not a service, in both formats', async () => {
    assertJsonErrors(await get('/services/nope-0000.json'), 404);
    assertXmlErrors(await get('/services/nope-0000.xml'), 404);
    assertJsonErrors(await get(`/services/${NEEDS_MATERIAL.code}.json`), 404);
    assertXmlErrors(await get('/services/psb-9311'), 404);
    assertXmlErrors(await get('/nothing-here.xml'), 404);
    assertJsonErrors(await get('/nothing/here.json'), 404);
  });

  test('jurisdiction_id: ours is accepted, another is 404', async () => {
    const d = await get('/discovery.json');
    const mine = d.json.jurisdiction_id;
    assert.equal((await get(`/services.json?jurisdiction_id=${mine}`)).status, 200);
    assertJsonErrors(await get('/services.json?jurisdiction_id=elsewhere.example'), 404);
    assertXmlErrors(await get(`/services/${ITEM.code}.xml?jurisdiction_id=elsewhere.example`), 404);
    assertJsonErrors(await post('/requests.json', report({ jurisdiction_id: 'elsewhere.example' })), 404);
  });
});

describe('posting requests', () => {
  test('403 without an api_key, with a wrong one or a revoked one, in both formats', async () => {
    const { api_key: _, ...nokey } = report();
    assertJsonErrors(await post('/requests.json', nokey), 403);
    assertXmlErrors(await post('/requests.xml', nokey), 403);
    assertJsonErrors(await post('/requests.json', report({ api_key: 'x'.repeat(43) })), 403);
    assertXmlErrors(await post('/requests.xml', report({ api_key: revokedKey })), 403);
    // No cookie or CSRF token makes up for the key.
    const res = await fetch(`${B()}/requests.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'gh_sid=abc' }, body: 'service_code=psb-9311' });
    assert.equal(res.status, 403);
  });

  test('400 for missing service_code, location or required attribute; bad values; 404 unknown service', async () => {
    const r1 = await post('/requests.json', report({ service_code: '' }));
    assertJsonErrors(r1, 400);
    assert.match(r1.json[0].description, /service_code/);
    const r2 = await post('/requests.xml', report({ lat: '', long: '' }));
    assertXmlErrors(r2, 400);
    assert.match(r2.body, /lat|location|位置/);
    const r3 = await post('/requests.json?lang=en', report({ 'attribute[kind]': '', description: '' }));
    assertJsonErrors(r3, 400);
    assert.ok(r3.json.some((e) => /attribute\[kind\]/.test(e.description)), r3.body);
    assert.ok(r3.json.some((e) => /attribute\[content\]/.test(e.description)), r3.body);
    assertJsonErrors(await post('/requests.json', report({ 'attribute[kind]': 'volcano' })), 400);
    assertJsonErrors(await post('/requests.json', report({ 'attribute[bogus]': '1' })), 400);
    assertJsonErrors(await post('/requests.json', report({ lat: '91', long: '0' })), 400);
    assertJsonErrors(await post('/requests.json', report({ lat: '0x1p3', long: '1' })), 400);
    assertJsonErrors(await post('/requests.json', report({ long: '' })), 400);
    assertJsonErrors(await post('/requests.json', report({ email: 'not-an-address' })), 400);
    assertJsonErrors(await post('/requests.json', report({ media_url: 'javascript:alert(1)' })), 400);
    assertJsonErrors(await post('/requests.json', report({ description: '长'.repeat(2001) })), 400);
    assertJsonErrors(await post('/requests.json', report({ service_code: 'nope-0000' })), 404);
    assertXmlErrors(await post('/requests.xml', report({ service_code: NEEDS_MATERIAL.code })), 404);
    const res = await fetch(`${B()}/requests.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report()) });
    assert.equal(res.status, 400);
  });

  test('a posted request (JSON) becomes an application in the department queue; a token finds it', async () => {
    const r = await post('/requests.json', report());
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.length, 1);
    const { service_request_id: id, token, service_notice: notice } = r.json[0];
    assert.match(id, /^QH\d{14}$/);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(notice.length > 0);
    // The department's staff see it in their queue, filed through the open311 channel, with
    // the standard fields in the form.
    const q = await bearer(`${srv.url}/api/v1/staff/queue?per_page=100`, staffTok);
    assert.equal(q.status, 200);
    assert.ok(q.json.items.some((x) => x.number === id), 'in the queue');
    const app = await bearer(`${srv.url}/api/v1/applications/${id}`, staffTok);
    assert.equal(app.status, 200, app.body);
    assert.equal(app.json.channel, 'open311');
    assert.equal(app.json.state, 'submitted');
    // The phone is personal data: masked, and shown in full to the department on request.
    assert.equal(app.json.form.phone, '139****9000');
    const phone = await bearer(`${srv.url}/api/v1/applications/${id}/reveal`, staffTok, { method: 'POST', json: { field: 'phone' } });
    assert.equal(phone.json?.value, '13900139000', phone.body);
    assert.equal(app.json.form.name, '三 张');
    assert.equal(app.json.form.kind, 'pothole');
    assert.match(app.json.form.content, /路面塌陷/);
    assert.equal(app.json.form.where, '31.230****', 'an address field is masked');
    const where = await bearer(`${srv.url}/api/v1/applications/${id}/reveal`, staffTok, { method: 'POST', json: { field: 'where' } });
    assert.equal(where.json?.value, '31.230400,121.473700');
    const page = await pageLogin(srv.url, DEMO.staffA.phone);
    assert.ok(htmlText((await page.get('/staff/queue')).body).includes(id), 'in the queue page');
    // Tokens, both formats.
    const tj = await get(`/tokens/${token}.json`);
    assert.equal(tj.status, 200);
    assert.deepEqual(tj.json, [{ service_request_id: id, token }]);
    const tx = await get(`/tokens/${token}.xml`);
    assert.equal(tx.status, 200);
    assert.match(tx.body, new RegExp(`<service_requests><request><service_request_id>${id}</service_request_id><token>${token}</token></request></service_requests>`));
    assertJsonErrors(await get(`/tokens/${'z'.repeat(43)}.json`), 404);
    assertXmlErrors(await get(`/tokens/${'z'.repeat(43)}.xml`), 404);
  });

  test('a posted request (XML) with attributes and an address; its text is escaped', async () => {
    const r = await post('/requests.xml', report({ lat: '', long: '', address_string: '人民路 <88> 号 & "东"', 'attribute[count]': '2', 'attribute[seen]': '2026-11-01', 'attribute[where]': '人民路口', media_url: 'https://img.example.cn/a.jpg?x=1&y=2' }));
    assert.equal(r.status, 200, r.body);
    assert.match(r.type, /^text\/xml/);
    const id = /<service_request_id>([^<]+)<\/service_request_id>/.exec(r.body)[1];
    assert.match(r.body, /<token>[A-Za-z0-9_-]{43}<\/token>/);
    const one = await get(`/requests/${id}.xml`);
    assert.equal(one.status, 200);
    assert.match(one.body, /<address>人民路 &lt;88&gt; 号 &amp; &quot;东&quot;<\/address>/);
    assert.match(one.body, /<description>人民路 88 号门前路面塌陷 &lt;深 10cm&gt; &amp; 积水<\/description>/);
    assert.match(one.body, /<media_url>https:\/\/img.example.cn\/a.jpg\?x=1&amp;y=2<\/media_url>/);
    assert.match(one.body, /<lat\/><long\/>/);
    const app = await bearer(`${srv.url}/api/v1/applications/${id}`, staffTok);
    assert.equal(app.json.form.count, '2');
    const where = await bearer(`${srv.url}/api/v1/applications/${id}/reveal`, staffTok, { method: 'POST', json: { field: 'where' } });
    assert.equal(where.json?.value, '人民路口', 'an attribute given wins over the standard field');
  });
});

describe('reading requests', () => {
  let id;
  before(async () => {
    const r = await post('/requests.json', report({ 'attribute[kind]': 'light' }));
    assert.equal(r.status, 200, r.body);
    id = r.json[0].service_request_id;
  });

  test('one request in both formats, with every field of the spec', async () => {
    const j = await get(`/requests/${id}.json?lang=en`);
    assert.equal(j.status, 200, j.body);
    assert.equal(j.json.length, 1);
    const q = j.json[0];
    for (const k of ['service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'description', 'agency_responsible',
      'service_notice', 'requested_datetime', 'updated_datetime', 'expected_datetime', 'address', 'address_id', 'zipcode', 'lat', 'long', 'media_url']) {
      assert.ok(k in q, `missing ${k}`);
    }
    assert.equal(q.service_request_id, id);
    assert.equal(q.status, 'open');
    assert.equal(q.status_notes, 'Submitted');
    assert.equal(q.service_code, ITEM.code);
    assert.equal(q.service_name, ITEM.name_en);
    assert.equal(q.agency_responsible, 'Qinghe Municipal Public Security Bureau');
    assert.equal(q.lat, 31.2304);
    assert.equal(q.long, 121.4737);
    assert.equal(q.expected_datetime, null, 'no due day before acceptance');
    assert.match(q.requested_datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    assert.ok(!JSON.stringify(q).includes('13900139000'), 'contact details are never shown');
    assert.ok(!JSON.stringify(q).includes('zhang@example.cn'));
    const x = await get(`/requests/${id}.xml`);
    assert.equal(x.status, 200);
    assert.match(x.body, new RegExp(`^<\\?xml version="1.0" encoding="utf-8"\\?>\\n<service_requests><request><service_request_id>${id}</service_request_id><status>open</status>`));
    assertJsonErrors(await get('/requests/QH20000101999999.json'), 404);
    assertXmlErrors(await get('/requests/QH20000101999999.xml'), 404);
  });

  test('the list filters by ids, service_code, dates and status', async () => {
    const all = await get('/requests.json');
    assert.equal(all.status, 200);
    assert.ok(all.json.some((q) => q.service_request_id === id));
    const x = await get('/requests.xml');
    assert.equal(x.status, 200);
    assert.match(x.body, /^<\?xml[^>]*\?>\n<service_requests><request>/);
    const ids = await get(`/requests.json?service_request_id=${id},QH20000101999999&status=closed`);
    assert.deepEqual(ids.json.map((q) => q.service_request_id), [id], 'ids ignore the other filters; unknown ids are left out');
    const byCode = await get(`/requests.json?service_code=${ITEM.code}`);
    assert.ok(byCode.json.length >= 1 && byCode.json.every((q) => q.service_code === ITEM.code));
    assert.deepEqual((await get('/requests.json?service_code=gsa-0001')).json.filter((q) => q.service_request_id === id), []);
    const open = await get('/requests.json?status=open');
    assert.ok(open.json.some((q) => q.service_request_id === id) && open.json.every((q) => q.status === 'open'));
    const closed = await get('/requests.json?status=closed');
    assert.ok(closed.json.every((q) => q.status === 'closed'));
    const both = await get('/requests.json?status=open,closed');
    assert.equal(both.json.length, all.json.length);
    const past = await get('/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z');
    assert.deepEqual(past.json, []);
    const now = new Date();
    const start = new Date(now.getTime() - 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const end = new Date(now.getTime() + 86400_000).toISOString().replace(/\.\d+Z$/, '+00:00');
    const win = await get(`/requests.json?start_date=${encodeURIComponent(start)}&end_date=${encodeURIComponent(end)}`);
    assert.ok(win.json.some((q) => q.service_request_id === id), win.body);
  });

  test('400 for bad filters, in both formats', async () => {
    assertJsonErrors(await get('/requests.json?start_date=yesterday'), 400);
    assertXmlErrors(await get('/requests.xml?end_date=2026-13-01'), 400);
    assertJsonErrors(await get('/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2025-01-01T00:00:00Z'), 400);
    assertJsonErrors(await get('/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-12-01T00:00:00Z'), 400);
    assertXmlErrors(await get('/requests.xml?status=pending'), 400);
    const many = Array.from({ length: 101 }, (_, i) => `QH${i}`).join(',');
    assertJsonErrors(await get(`/requests.json?service_request_id=${many}`), 400);
  });
});

describe('the status follows the application', () => {
  const act = (number, action, body = {}) =>
    bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, staffTok, { method: 'POST', json: body });
  const status = async (id) => (await get(`/requests/${id}.json?lang=en`)).json[0];

  test('accepted gives an expected time; completed is closed', async () => {
    const r = await post('/requests.json', report());
    const id = r.json[0].service_request_id;
    assert.equal((await act(id, 'accept')).status, 200);
    let s = await status(id);
    assert.equal(s.status, 'open');
    assert.equal(s.status_notes, 'Accepted');
    assert.match(s.expected_datetime, /^\d{4}-\d\d-\d\dT23:59:59\+08:00$/);
    for (const a of ['start_review', 'approve']) assert.equal((await act(id, a)).status, 200, a);
    assert.equal((await status(id)).status, 'open', 'approved but not yet completed');
    assert.equal((await act(id, 'complete')).status, 200);
    s = await status(id);
    assert.equal(s.status, 'closed');
    assert.equal(s.status_notes, 'Completed');
    assert.equal(s.expected_datetime, null);
    const closed = await get('/requests.json?status=closed');
    assert.ok(closed.json.some((q) => q.service_request_id === id));
    const open = await get('/requests.json?status=open');
    assert.ok(!open.json.some((q) => q.service_request_id === id));
  });

  test('a refusal closes it; the public status note is the state, never the reason staff wrote', async () => {
    const r = await post('/requests.xml', report());
    const id = /<service_request_id>([^<]+)</.exec(r.body)[1];
    const reason = '不属于本部门职责，已转交城管部门，联系人王五';
    assert.equal((await act(id, 'refuse', { reason })).status, 200);
    const x = await get(`/requests/${id}.xml`);
    assert.match(x.body, /<status>closed<\/status><status_notes>不予受理<\/status_notes>/);
    for (const list of [await get(`/requests/${id}.json`), await get('/requests.json'), await get('/requests.xml')]) {
      assert.ok(!list.body.includes('王五') && !list.body.includes('转交城管部门'), 'a reason in a public answer');
    }
  });
});

describe('administrators manage keys on a page and through the API', () => {
  test('API: issue (shown once), list, use, revoke; only administrators', async () => {
    const admin = (await apiLogin(srv.url, DEMO.admin.phone, undefined, { totp: await freshTotp(DEMO.admin.totp) })).token;
    const citizen = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
    const url = `${srv.url}/api/v1/admin/open311/keys`;
    assert.equal((await bearer(url, citizen)).status, 403);
    assert.equal((await bearer(url, citizen, { method: 'POST', json: { name: 'x' } })).status, 403);
    const bad = await bearer(url, admin, { method: 'POST', json: { name: '' } });
    assert.equal(bad.status, 422, bad.body);
    const made = await bearer(url, admin, { method: 'POST', json: { name: 'API client' } });
    assert.equal(made.status, 201, made.body);
    assert.match(made.json.key, /^[A-Za-z0-9_-]{43}$/);
    const list = await bearer(url, admin);
    assert.equal(list.status, 200);
    const row = list.json.items.find((k) => k.id === made.json.id);
    assert.equal(row.status, 'active');
    assert.equal(row.hint, made.json.key.slice(0, 6));
    assert.ok(!list.body.includes(made.json.key), 'the list never shows a key');
    assert.equal((await post('/requests.json', report({ api_key: made.json.key }))).status, 200);
    const del = await bearer(`${url}/${made.json.id}`, admin, { method: 'DELETE' });
    assert.equal(del.status, 200, del.body);
    assert.equal((await bearer(`${url}/${made.json.id}`, admin, { method: 'DELETE' })).status, 404, 'revoked already');
    assertJsonErrors(await post('/requests.json', report({ api_key: made.json.key })), 403);
  });

  for (const lang of ['zh', 'en']) {
    test(`page (${lang}): issue a key, see it once, revoke it`, async () => {
      const c = await pageLogin(srv.url, DEMO.admin.phone, undefined, { totpSecret: DEMO.admin.totp, lang });
      const page = await c.get('/admin/open311/keys');
      assert.equal(page.status, 200, page.body.slice(0, 300));
      assert.match(htmlText(page.body), lang === 'en' ? /Open311 API keys/ : /Open311 接口密钥/);
      const csrf = csrfOf(page.body, '/admin/open311/keys');
      const refused = await c.post('/admin/open311/keys', { _csrf: csrf, name: '' });
      assert.equal(refused.status, 422);
      assert.match(refused.body, /aria-invalid="true"/);
      const made = await c.post('/admin/open311/keys', { _csrf: csrf, name: `Page client ${lang}` });
      assert.equal(made.status, 201, made.body.slice(0, 300));
      const k = /id="c-key" type="text" value="([A-Za-z0-9_-]{43})"/.exec(made.body)[1];
      assert.equal((await post('/requests.json', report({ api_key: k }))).status, 200);
      const again = await c.get('/admin/open311/keys');
      assert.ok(!again.body.includes(k), 'shown only once');
      const id = new RegExp(`<tr><td>(\\d+)</td><td>Page client ${lang}</td>`).exec(again.body)[1];
      const rev = await c.post(`/admin/open311/keys/${id}/revoke`, { _csrf: csrfOf(again.body, `/admin/open311/keys/${id}/revoke`) });
      assert.equal(rev.status, 303);
      const after = await c.get(rev.location);
      assert.match(htmlText(after.body), lang === 'en' ? /The key was revoked/ : /密钥已撤销/);
      assertJsonErrors(await post('/requests.json', report({ api_key: k })), 403);
      // Without the CSRF token the page refuses.
      assert.equal((await c.post('/admin/open311/keys', { _csrf: 'x', name: 'forged' })).status, 403);
    });
  }
});
