// Open311 GeoReport v2 conformance of the demo hall, as an independent client sees it: the 22
// rules of the SeeClickFix open311-validator (discovery: 19, service list: 2, service
// definitions: 1), run the way it runs them — start from the discovery address, take every
// endpoint and every format it announces (production ones included), read the service
// list there, and each definition of a service with metadata — followed by what a client that
// writes does with an api_key: post a request from a service definition, find it by token,
// by id and through the list's filters, in both formats; and the spec's error lists,
// jurisdiction_id and content types. The API's own behaviour in detail is in open311.test.mjs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { freePort, govhall, startServer } from './helpers.mjs';

let srv;
let apiKey;
let discoveryUrl; // the address a client is given: .../discovery, the format appended
const docs = {}; // the discovery document, parsed, per format
const lists = []; // [{endpoint, format, services}] for every endpoint and format

// Lists stay lists however many members they have (the validator's "should be an array").
const LISTS = new Set(['endpoint', 'format', 'service', 'request', 'error', 'attribute', 'value']);
const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, isArray: (name) => LISTS.has(name) });

/** GET or POST url; resolves {status, type (the media type), charset, body, doc (parsed)}. */
async function call(url, { form } = {}) {
  const res = await fetch(url, form ? {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
  } : {});
  const body = await res.text();
  const ct = res.headers.get('content-type') ?? '';
  const [type, ...params] = ct.split(';').map((x) => x.trim());
  const charset = params.find((p) => /^charset=/i.test(p))?.split('=')[1]?.toLowerCase() ?? null;
  let doc = null;
  if (type === 'application/json') doc = JSON.parse(body);
  else if (type === 'text/xml') {
    assert.match(body, /^<\?xml version="1\.0" encoding="utf-8"\?>/, `${url}: the XML declaration`);
    doc = xml.parse(body);
  }
  return { status: res.status, type, charset, body, doc };
}

/** The validator's validate_date_time: an ISO 8601 date-time with its offset, really a time. */
function dateTime(s) {
  assert.equal(typeof s, 'string', `a date-time: ${s}`);
  assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `ISO 8601 with an offset: ${s}`);
  const t = new Date(s);
  assert.ok(!Number.isNaN(t.getTime()), `a real time: ${s}`);
  return t;
}

const xmlEndpoints = () => docs.xml.discovery.endpoints.endpoint;
const jsonEndpoints = () => docs.json.endpoints;
const allEndpoints = () => [...jsonEndpoints(), ...xmlEndpoints()];
const formatsOf = (e) => (Array.isArray(e.formats) ? e.formats : e.formats.format);
const ext = (mime) => mime.split('/')[1];

before(async () => {
  // The discovery document gives the endpoints' addresses from public-url; a client follows
  // them, so the hall is served at the address it announces.
  const port = await freePort();
  srv = await startServer({ name: 'open311_conformance', extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', `http://127.0.0.1:${port}`] });
  assert.equal(srv.port, port, 'served where its public address says');
  const add = await govhall(['open311', 'key', 'add', 'Conformance client', '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(add.code, 0, add.stderr);
  apiKey = /: ([A-Za-z0-9_-]{43})\n/.exec(add.stdout)[1];
  discoveryUrl = `${srv.url}/open311/discovery`;
  for (const f of ['json', 'xml']) {
    const r = await call(`${discoveryUrl}.${f}`);
    assert.equal(r.status, 200, r.body);
    docs[f] = r.doc;
    docs[`${f}Response`] = r;
  }
});
after(async () => { await srv?.stop(); });

describe('the open311-validator rules: discovery', () => {
  test('1. discovery.xml is text/xml', () => {
    assert.equal(docs.xmlResponse.type, 'text/xml');
    assert.equal(docs.xmlResponse.charset, 'utf-8');
  });
  test('2. discovery.json is application/json', () => {
    assert.equal(docs.jsonResponse.type, 'application/json');
    assert.equal(docs.jsonResponse.charset, 'utf-8');
  });
  test('3. the discovery address ends with "discovery"', () => {
    assert.ok(discoveryUrl.endsWith('discovery'));
    // ... both where the validator starts and below /open311/v2.
    assert.equal(new URL(`${srv.url}/open311/v2/discovery.json`).pathname.split('/').at(-1).split('.')[0], 'discovery');
  });
  test('4. both formats return results', () => {
    assert.ok(docs.xmlResponse.body.trim().length > 0);
    assert.ok(docs.jsonResponse.body.trim().length > 0);
    assert.ok(docs.xml.discovery && typeof docs.json === 'object');
  });
  test('5. both formats have a contact', () => {
    assert.ok(docs.xml.discovery.contact.trim().length > 0);
    assert.ok(docs.json.contact.trim().length > 0);
  });
  test('6. both formats have key_service information', () => {
    assert.ok(docs.xml.discovery.key_service.trim().length > 0);
    assert.ok(docs.json.key_service.trim().length > 0);
  });
  test('7. the changeset is a valid date-time in both formats', () => {
    dateTime(docs.xml.discovery.changeset);
    dateTime(docs.json.changeset);
  });
  test('8. the contact is the same in both formats', () => {
    assert.equal(docs.xml.discovery.contact, docs.json.contact);
    assert.equal(docs.xml.discovery.key_service, docs.json.key_service);
  });
  test('9. the XML endpoints are a list', () => {
    assert.ok(Array.isArray(xmlEndpoints()));
    assert.ok(Array.isArray(jsonEndpoints()));
  });
  test('10. there is at least one endpoint', () => {
    assert.ok(xmlEndpoints().length > 0);
    assert.equal(jsonEndpoints().length, xmlEndpoints().length);
  });
  test('11. each endpoint has a specification', () => {
    for (const e of allEndpoints()) assert.ok(e.specification?.length > 0);
  });
  test('12. each endpoint has a url', () => {
    for (const e of allEndpoints()) assert.ok(e.url?.length > 0);
  });
  test('13. each endpoint has a changeset', () => {
    for (const e of allEndpoints()) assert.ok(e.changeset?.length > 0);
  });
  test('14. each endpoint has a valid changeset', () => {
    for (const e of allEndpoints()) dateTime(e.changeset);
  });
  test('15. each endpoint has a changeset in the past', () => {
    for (const e of allEndpoints()) assert.ok(dateTime(e.changeset).getTime() <= Date.now(), e.changeset);
  });
  test('16. each endpoint has a type', () => {
    for (const e of allEndpoints()) assert.ok(['production', 'test'].includes(e.type), e.type);
  });
  test('17. each endpoint has a list of formats', () => {
    for (const e of xmlEndpoints()) assert.ok(Array.isArray(e.formats.format));
    for (const e of jsonEndpoints()) assert.ok(Array.isArray(e.formats));
  });
  test('18. each endpoint supports at least one format', () => {
    for (const e of allEndpoints()) assert.ok(formatsOf(e).length > 0);
  });
  test('19. every v2 endpoint supports XML', () => {
    const v2 = allEndpoints().filter((e) => /_v2$/i.test(e.specification));
    assert.ok(v2.length > 0, 'the endpoint names GeoReport_v2');
    for (const e of v2) assert.ok(formatsOf(e).includes('text/xml'));
  });
});

describe('the open311-validator rules: services and definitions', () => {
  before(async () => {
    for (const e of jsonEndpoints()) {
      for (const f of formatsOf(e).map(ext).filter((x) => !/html/i.test(x))) {
        const r = await call(`${e.url}/services.${f}?jurisdiction_id=${encodeURIComponent(docs.json.jurisdiction_id)}`);
        assert.equal(r.status, 200, r.body);
        assert.equal(r.type, f === 'xml' ? 'text/xml' : 'application/json');
        lists.push({ endpoint: e, format: f, services: f === 'xml' ? r.doc.services.service ?? [] : r.doc });
      }
    }
  });

  test('20. every endpoint and format lists at least one service', () => {
    assert.equal(lists.length, 2 * jsonEndpoints().length, 'json and xml');
    for (const l of lists) assert.ok(l.services.length > 0, `${l.endpoint.url} ${l.format}`);
  });

  test('21. every service has a service_code', () => {
    for (const l of lists) for (const s of l.services) assert.ok(typeof s.service_code === 'string' && s.service_code.length > 0);
    const [j, x] = [lists.find((l) => l.format === 'json'), lists.find((l) => l.format === 'xml')];
    assert.deepEqual(x.services.map((s) => s.service_code), j.services.map((s) => s.service_code), 'the same services in both formats');
  });

  test('22. the definition of every service with metadata loads, in the format listed', async () => {
    let n = 0;
    for (const l of lists) {
      for (const s of l.services.filter((x) => x.metadata === true || x.metadata === 'true')) {
        const r = await call(`${l.endpoint.url}/services/${s.service_code}.${l.format}`);
        assert.equal(r.status, 200, r.body);
        const def = l.format === 'xml' ? r.doc.service_definition : r.doc;
        assert.equal(def.service_code, s.service_code);
        const attrs = l.format === 'xml' ? def.attributes.attribute : def.attributes;
        assert.ok(Array.isArray(attrs) && attrs.length > 0);
        for (const a of attrs) {
          assert.ok(a.code && a.description, JSON.stringify(a));
          assert.ok(['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'].includes(a.datatype));
        }
        n++;
      }
    }
    assert.ok(n >= 2, 'the demo hall has a service with metadata, in both formats');
  });
});

describe('a client that writes', () => {
  /** The form a client fills from a definition: each required attribute with a value. */
  function fill(def) {
    const out = {};
    for (const a of def.attributes.filter((x) => x.required)) {
      if (a.values?.length) out[`attribute[${a.code}]`] = a.values[0].key;
      else if (a.datatype === 'number') out[`attribute[${a.code}]`] = '1';
      else if (a.datatype === 'datetime') out[`attribute[${a.code}]`] = '2026-01-05';
      else if (!/phone|address|e-mail|description/i.test(a.datatype_description)) out[`attribute[${a.code}]`] = '张三';
    }
    return out;
  }

  test('posts a request with an api_key in each format, then finds it by token, id and filters', async () => {
    const base = jsonEndpoints()[0].url;
    const code = lists.find((l) => l.format === 'json').services[0].service_code;
    const def = (await call(`${base}/services/${code}.json`)).doc;
    const jurisdiction = docs.json.jurisdiction_id;
    for (const f of ['json', 'xml']) {
      const form = {
        api_key: apiKey, jurisdiction_id: jurisdiction, service_code: code, address_string: '清河市人民路 88 号',
        email: 'reporter@example.cn', phone: '13900139000', first_name: '三', last_name: '张',
        description: `路灯不亮（${f}）`, ...fill(def),
      };
      const r = await call(`${base}/requests.${f}`, { form });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.type, f === 'xml' ? 'text/xml' : 'application/json');
      const created = f === 'xml' ? r.doc.service_requests.request[0] : r.doc[0];
      assert.match(created.service_request_id, /^QH\d{14}$/);
      assert.ok(created.token.length > 20);
      assert.ok(created.service_notice.length > 0);

      const byToken = await call(`${base}/tokens/${created.token}.${f}`);
      assert.equal(byToken.status, 200, byToken.body);
      const t = f === 'xml' ? byToken.doc.service_requests.request[0] : byToken.doc[0];
      assert.equal(t.service_request_id, created.service_request_id);

      const one = await call(`${base}/requests/${created.service_request_id}.${f}?jurisdiction_id=${jurisdiction}`);
      assert.equal(one.status, 200, one.body);
      const req = f === 'xml' ? one.doc.service_requests.request[0] : one.doc[0];
      assert.equal(req.service_code, code);
      assert.equal(req.status, 'open');
      assert.equal(req.description, `路灯不亮（${f}）`);
      dateTime(req.requested_datetime);
      dateTime(req.updated_datetime);
      for (const k of ['email', 'phone', 'first_name', 'last_name']) assert.equal(req[k], undefined, `${k} is never shown`);

      const filtered = await call(`${base}/requests.${f}?service_code=${code}&status=open`);
      assert.equal(filtered.status, 200, filtered.body);
      const ids = (f === 'xml' ? filtered.doc.service_requests.request ?? [] : filtered.doc).map((x) => x.service_request_id);
      assert.ok(ids.includes(created.service_request_id));
      const closed = await call(`${base}/requests.${f}?service_code=${code}&status=closed`);
      assert.ok(!(f === 'xml' ? closed.doc.service_requests.request ?? [] : closed.doc).some((x) => x.service_request_id === created.service_request_id));
      const byId = await call(`${base}/requests.${f}?service_request_id=${created.service_request_id},QH00000000000000`);
      assert.deepEqual((f === 'xml' ? byId.doc.service_requests.request : byId.doc).map((x) => x.service_request_id), [created.service_request_id]);
    }
  });

  test("errors are the spec's list in the resource's format, with the status as code", async () => {
    const base = jsonEndpoints()[0].url;
    const code = lists.find((l) => l.format === 'json').services[0].service_code;
    const cases = [
      ['no api_key', 'requests', { service_code: code, address_string: 'x' }, 403],
      ['a wrong api_key', 'requests', { api_key: 'x'.repeat(43), service_code: code, address_string: 'x' }, 403],
      ['no service_code', 'requests', { api_key: apiKey, address_string: 'x' }, 400],
      ['no location', 'requests', { api_key: apiKey, service_code: code }, 400],
      ['an unknown service', 'requests', { api_key: apiKey, service_code: 'nope-0000', address_string: 'x' }, 404],
      ['another jurisdiction', 'requests', { api_key: apiKey, service_code: code, address_string: 'x', jurisdiction_id: 'elsewhere.example' }, 404],
    ];
    for (const f of ['json', 'xml']) {
      for (const [what, resource, form, status] of cases) {
        const r = await call(`${base}/${resource}.${f}`, { form });
        assert.equal(r.status, status, `${what} (${f}): ${r.body}`);
        assert.equal(r.type, f === 'xml' ? 'text/xml' : 'application/json', what);
        const errors = f === 'xml' ? r.doc.errors.error : r.doc;
        assert.ok(errors.length > 0, what);
        for (const e of errors) {
          assert.equal(Number(e.code), status, what);
          assert.ok(e.description.length > 0, what);
        }
      }
      const missing = await call(`${base}/requests/QH00000000000000.${f}`);
      assert.equal(missing.status, 404);
      const token = await call(`${base}/tokens/no-such-token.${f}`);
      assert.equal(token.status, 404);
      const definition = await call(`${base}/services/nope-0000.${f}`);
      assert.equal(definition.status, 404);
      const filter = await call(`${base}/requests.${f}?start_date=not-a-date`);
      assert.equal(filter.status, 400);
      assert.equal(filter.type, f === 'xml' ? 'text/xml' : 'application/json');
    }
    // A resource without a format answers in XML, the spec's required format.
    const bare = await call(`${base}/services`);
    assert.equal(bare.status, 404);
    assert.equal(bare.type, 'text/xml');
    // A method a resource does not take: 405 in its format, with Allow; no HTML page.
    for (const [method, resource, type, allow] of [['PUT', 'requests.json', 'application/json', /POST/],
      ['DELETE', 'discovery.xml', 'text/xml', /GET/], ['POST', 'services.json', 'application/json', /GET/]]) {
      const res = await fetch(`${base}/${resource}`, { method });
      assert.equal(res.status, 405, `${method} ${resource}`);
      assert.equal(res.headers.get('content-type').split(';')[0], type);
      assert.match(res.headers.get('allow'), allow);
      const body = await res.text();
      const errors = type === 'text/xml' ? xml.parse(body).errors.error : JSON.parse(body);
      assert.equal(Number(errors[0].code), 405);
    }
    assert.equal((await fetch(`${base}/no-such-resource.json`, { method: 'PUT' })).status, 404);
  });

  test('jurisdiction_id: the one discovery names works everywhere, any other is 404', async () => {
    const base = jsonEndpoints()[0].url;
    const mine = encodeURIComponent(docs.json.jurisdiction_id);
    const code = lists.find((l) => l.format === 'json').services[0].service_code;
    for (const p of ['services.json', `services/${code}.json`, 'requests.json', 'services.xml']) {
      assert.equal((await call(`${base}/${p}?jurisdiction_id=${mine}`)).status, 200, p);
      assert.equal((await call(`${base}/${p}?jurisdiction_id=elsewhere.example`)).status, 404, p);
    }
  });
});
