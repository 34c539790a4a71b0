// docs/openapi.yaml is what clients build on: it must pass the tools they use and describe the
// server exactly.
//   - Redocly CLI `lint` with its recommended rules: no error and no warning beyond the
//     reviewed ones in .redocly.lint-ignore.yaml;
//   - @readme/openapi-parser, a second validator that knows OpenAPI 3.1: valid;
//   - the house rules: every operation has an operationId, tags, its security and the error
//     answers that security implies; every object of a 2xx JSON body is closed and says which
//     members are required; no mapping key holds a space (the trace of an unquoted comma in a
//     YAML flow value, which YAML reads as a new key);
//   - `govhall routes --json`: every /api/ and /open311/ route is documented, nothing else
//     is, and each operation names the roles and scopes the router enforces.
// Every answer the API tests receive is checked against the document as well
// (tests/api/openapi-check.mjs).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '@readme/openapi-parser';
import { DOC_FILE, loadContract } from '../api/openapi-check.mjs';
import { root, routes } from '../api/helpers.mjs';

const contract = loadContract();
const { doc } = contract;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const SCOPES = { 1: 'profile', 2: 'account', 4: 'apply', 8: 'admin' };

/** [{template, docPath, method, op}] of every operation, with its server prefix. */
function operations() {
  const out = [];
  for (const r of contract.routes) {
    for (const m of METHODS) if (r.item[m]) out.push({ template: r.template, docPath: r.docPath, method: m, op: r.item[m], item: r.item });
  }
  return out;
}

function resolve(obj) {
  let o = obj;
  for (let i = 0; i < 10 && o && typeof o.$ref === 'string' && Object.keys(o).length === 1; i++) {
    o = o.$ref.replace(/^#\//, '').split('/').reduce((v, t) => v?.[t.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return o;
}

function run(cmd, args) {
  return new Promise((res) => {
    execFile(cmd, args, { cwd: root, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      res({ code: err ? (err.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('docs/openapi.yaml', () => {
  test('Redocly CLI lint (recommended rules): no error, no unreviewed warning', async () => {
    const r = await run(path.join(root, 'node_modules/.bin/redocly'), ['lint', path.relative(root, DOC_FILE), '--format=json']);
    let out;
    try {
      out = JSON.parse(r.stdout);
    } catch {
      assert.fail(`redocly lint gave no JSON (exit ${r.code}):\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
    }
    const list = out.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer})`).join('\n');
    assert.equal(out.totals.errors, 0, list);
    assert.equal(out.totals.warnings, 0, list);
  });

  test('@readme/openapi-parser validates it as OpenAPI 3.1', async () => {
    assert.match(doc.openapi, /^3\.1\./);
    const result = await validate(DOC_FILE);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 4000));
    assert.deepEqual(result.warnings ?? [], []);
  });

  test('no mapping key holds a space (an unquoted comma in a flow value makes one)', () => {
    const bad = [];
    (function walk(o, ptr) {
      if (Array.isArray(o)) o.forEach((v, i) => walk(v, `${ptr}/${i}`));
      else if (o && typeof o === 'object') {
        for (const [k, v] of Object.entries(o)) {
          if (/\s/.test(k)) bad.push(`${ptr}/${k}`);
          walk(v, `${ptr}/${k}`);
        }
      }
    })(doc, '#');
    assert.deepEqual(bad, []);
  });

  test('every operation: a unique operationId, tags, its security and the answers it implies', () => {
    const ids = new Map();
    const problems = [];
    for (const { template, method, op } of operations()) {
      const at = `${method.toUpperCase()} ${template}`;
      if (!op.operationId) problems.push(`${at}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${at}: operationId ${op.operationId} is also ${ids.get(op.operationId)}`);
      else ids.set(op.operationId, at);
      if (!op.tags?.length) problems.push(`${at}: no tags`);
      if (!Array.isArray(op.security)) { problems.push(`${at}: no security (public operations say security: [])`); continue; }
      const codes = Object.keys(op.responses ?? {});
      if (!codes.some((c) => /^4/.test(c)) && !/discovery/.test(template)) problems.push(`${at}: no 4xx answer`);
      if (op.security.length > 0) {
        for (const c of ['401', '403']) if (!codes.includes(c)) problems.push(`${at}: needs a token but does not list ${c}`);
        if (!op['x-roles']?.length) problems.push(`${at}: needs a token but names no x-roles`);
        for (const req of op.security) {
          for (const name of Object.keys(req)) if (!doc.components.securitySchemes[name]) problems.push(`${at}: unknown scheme ${name}`);
        }
      } else if (op['x-roles']) {
        problems.push(`${at}: public, yet names x-roles`);
      }
      if (op.requestBody?.content?.['application/json'] && !codes.includes('415') && op.security.length > 0) {
        problems.push(`${at}: takes JSON but does not list 415`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('every object of a 2xx JSON body is closed and lists its required members', () => {
    const problems = [];
    function check(schema, where, closedByParent, seen) {
      if (!schema || typeof schema !== 'object') return;
      if (schema.$ref) {
        const target = resolve({ $ref: schema.$ref });
        const closed = closedByParent || schema.unevaluatedProperties === false;
        const key = `${schema.$ref}|${closed}`;
        if (!seen.has(key)) check(target, schema.$ref, closed, new Set([...seen, key]));
      }
      const closedHere = closedByParent || schema.unevaluatedProperties === false || schema.additionalProperties === false;
      for (const k of ['allOf']) for (const [i, s] of (schema[k] ?? []).entries()) check(s, `${where}/${k}/${i}`, closedHere, seen);
      for (const k of ['oneOf', 'anyOf']) for (const [i, s] of (schema[k] ?? []).entries()) check(s, `${where}/${k}/${i}`, closedByParent, seen);
      const types = [].concat(schema.type ?? []);
      if (schema.properties) {
        if (!Array.isArray(schema.required)) problems.push(`${where}: an object without "required"`);
        if (!closedHere) problems.push(`${where}: an open object (additionalProperties: false, or unevaluatedProperties: false where it is composed)`);
        for (const [k, s] of Object.entries(schema.properties)) check(s, `${where}/properties/${k}`, false, seen);
      } else if (types.includes('object') && schema.additionalProperties === undefined && !schema.allOf && !schema.$ref) {
        problems.push(`${where}: an object with neither properties nor an explicit additionalProperties`);
      }
      if (schema.items) check(schema.items, `${where}/items`, false, seen);
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') check(schema.additionalProperties, `${where}/additionalProperties`, false, seen);
    }
    for (const { template, docPath, method, op } of operations()) {
      for (const [code, resp] of Object.entries(op.responses ?? {})) {
        if (!/^2/.test(code)) continue;
        const r = resolve(resp);
        const schema = r?.content?.['application/json']?.schema;
        if (schema) check(schema, `#/paths/${docPath.replace(/\//g, '~1')}/${method}/responses/${code} (${method.toUpperCase()} ${template})`, false, new Set());
      }
    }
    assert.deepEqual([...new Set(problems)], []);
  });
});

describe('docs/openapi.yaml and `govhall routes --json`', () => {
  const isDocumented = (p) => /^\/(api|open311)\//.test(p);
  const catchAll = (p) => /\*\}/.test(p);
  let table;
  const load = async () => { table ??= await routes(); return table; };
  /** [{r, m, op}]: each method of each documented route of the server, with its operation
   * (null when the document has none); a parameter may hold the resource's format. */
  async function routeOps() {
    const out = [];
    for (const r of await load()) {
      if (!isDocumented(r.pattern) || catchAll(r.pattern)) continue;
      for (const m of r.methods.filter((x) => x !== 'HEAD' && x !== 'OPTIONS')) {
        const hit = ['1', '1.json', '1.xml'].map((v) => contract.match(m, r.pattern.replace(/\{[^}]+\}/g, v))).find((x) => x.op);
        out.push({ r, m, op: hit?.op ?? null });
      }
    }
    return out;
  }

  test('every /api/ and /open311/ route of the server is documented', async () => {
    const missing = (await routeOps()).filter((x) => !x.op).map(({ r, m }) => `${m} ${r.pattern} (${r.name})`);
    assert.deepEqual(missing, [], 'routes the server has and docs/openapi.yaml does not');
  });

  test('every documented operation is a route of the server', async () => {
    const live = (await load()).filter((r) => isDocumented(r.pattern) && !catchAll(r.pattern))
      .map((r) => ({ ...r, re: new RegExp(`^${r.pattern.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
    const extra = [];
    for (const { template, method, op, item } of operations()) {
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve);
      let paths = [template];
      for (const [, name] of template.matchAll(/\{([^}]+)\}/g)) {
        const p = params.find((x) => x.name === name && x.in === 'path');
        const values = p?.schema?.enum ?? ['1'];
        paths = paths.flatMap((t) => values.map((v) => t.replace(`{${name}}`, v)));
      }
      for (const p of paths) {
        if (!live.some((r) => r.re.test(p) && r.methods.includes(method.toUpperCase()))) extra.push(`${method.toUpperCase()} ${p} (${op.operationId})`);
      }
    }
    assert.deepEqual(extra, [], 'operations docs/openapi.yaml has and the server does not');
  });

  test('each operation names the roles and scopes the router enforces', async () => {
    const problems = [];
    for (const { r, m, op } of await routeOps()) {
      if (!op) continue;
      const at = `${m} ${r.pattern} (${op.operationId})`;
      const codes = Object.keys(op.responses);
      if (r.roles.includes('anonymous')) {
        if (op.security?.length !== 0) problems.push(`${at}: public route, but security is ${JSON.stringify(op.security)}`);
        if (!r.noauth && !codes.includes('401')) problems.push(`${at}: a token sent to it is checked, so it can answer 401`);
        continue;
      }
      const scopes = Object.entries(SCOPES).filter(([bit]) => r.scopes & Number(bit)).map(([, n]) => n);
      if (JSON.stringify(op.security) !== JSON.stringify([{ bearer: scopes }])) {
        problems.push(`${at}: security ${JSON.stringify(op.security)}, the router wants ${JSON.stringify([{ bearer: scopes }])}`);
      }
      const roles = r.roles.filter((x) => x !== 'system').sort();
      if (JSON.stringify([...(op['x-roles'] ?? [])].sort()) !== JSON.stringify(roles)) {
        problems.push(`${at}: x-roles ${JSON.stringify(op['x-roles'])}, the router allows ${JSON.stringify(roles)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('.redocly.lint-ignore.yaml names only problems that still occur', () => {
    // A fixed problem left in the ignore file would hide its return.
    const text = readFileSync(path.join(root, '.redocly.lint-ignore.yaml'), 'utf8');
    for (const [, ptr] of text.matchAll(/- '(#\/[^']+)'/g)) {
      const parts = ptr.slice(2).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
      assert.notEqual(parts.reduce((v, t) => v?.[t], doc), undefined, `${ptr} is not in the document any more`);
    }
  });
});
