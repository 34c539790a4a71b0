// The checker every API test's answers go through (tests/api/openapi-check.mjs) refuses what
// the document does not describe, and says where: method, path, operationId, status, the JSON
// pointer of the value and the schema path in the document.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadContract } from '../api/openapi-check.mjs';

const { check } = loadContract();
const json = (v) => Buffer.from(JSON.stringify(v));
const answer = (method, path, status, body, contentType = 'application/json; charset=utf-8') =>
  check({ method, url: `http://127.0.0.1:8080${path}`, status, contentType, body: body === undefined ? Buffer.alloc(0) : json(body) });

const region = { code: 'qinghe', parent: null, level: 'city', name_zh: '清河市', name_en: 'Qinghe City' };
const notFound = { error: { code: 'not_found', message: '找不到' } };

describe('the answer checker', () => {
  test('a documented answer passes', () => {
    assert.equal(answer('GET', '/api/v1/regions', 200, { regions: [region] }), null);
    assert.equal(answer('GET', '/api/v1/services/psb-0001', 404, notFound), null);
    assert.equal(answer('HEAD', '/api/v1/regions', 200, undefined), null, 'HEAD answers as GET, without a body');
    assert.equal(answer('DELETE', '/api/v1/me/tokens/3', 204, undefined, null), null);
  });

  test('an undocumented status names the operation and the statuses it lists', () => {
    const p = answer('GET', '/api/v1/regions', 418, notFound);
    assert.match(p, /GET \/api\/v1\/regions \(\/api\/v1\/regions, operationId listRegions\): answered 418, which the document does not list \(it lists 200, 401\)/);
  });

  test('a member too many, one missing, a wrong type or value: the pointer and the schema path', () => {
    let p = answer('GET', '/api/v1/regions', 200, { regions: [{ ...region, extra: 1 }] });
    assert.match(p, /at \/regions\/0: must NOT have additional properties 'extra'/);
    assert.match(p, /schema #\/paths\/~1regions\/get\/responses\/200\/content\/application~1json\/schema\/properties\/regions\/items\/additionalProperties/);
    const { parent: _, ...noParent } = region;
    p = answer('GET', '/api/v1/regions', 200, { regions: [noParent] });
    assert.match(p, /must have required property 'parent'/);
    p = answer('GET', '/api/v1/regions', 200, { regions: [{ ...region, level: 'province' }] });
    assert.match(p, /at \/regions\/0\/level: must be equal to one of the allowed values \["city","district"\]; got "province"/);
    p = answer('GET', '/api/v1/services/psb-0001', 404, { error: { code: 'conflict', message: 'x' } });
    assert.match(p, /at \/error\/code: must be equal to constant/);
  });

  test('a content type or a body the document does not give', () => {
    assert.match(answer('GET', '/api/v1/regions', 200, { regions: [] }, 'text/html; charset=utf-8'), /answered 200 as text\/html, but the document .* lists only application\/json/);
    assert.match(answer('DELETE', '/api/v1/me/tokens/3', 204, { x: 1 }), /gives 204 no content/);
    assert.match(check({ method: 'GET', url: 'http://127.0.0.1:1/api/v1/regions', status: 200, contentType: 'application/json', body: Buffer.from('{') }), /is not JSON/);
  });

  test('unlisted paths and methods answer as x-unlisted-answers says', () => {
    assert.equal(answer('GET', '/api/v1/no-such-thing', 404, notFound), null);
    assert.match(answer('GET', '/api/v1/no-such-thing', 200, {}), /no path of the document\): answered 200, but an unlisted path under \/api\/v1 must answer 404/);
    assert.equal(answer('PUT', '/api/v1/regions', 405, { error: { code: 'method_not_allowed', message: 'x' } }), null);
    assert.match(answer('PUT', '/api/v1/regions', 404, notFound), /path \/api\/v1\/regions has no PUT/);
    assert.equal(answer('GET', '/api/v1/regions', 503, { error: { code: 'unavailable', message: 'x' } }), null, 'any operation: 503 unavailable');
    assert.match(answer('GET', '/api/v1/regions', 503, { error: { code: 'busy', message: 'x' } }), /must be equal to constant/, 'busy is per operation');
  });
});
