// openapi-check.mjs: every answer a test receives from the API is checked against
// docs/openapi.yaml, so the document cannot drift from the server.
//
// install() wraps globalThis.fetch (helpers.mjs calls it once, so every test file that imports
// the helpers is covered, whichever helper or plain fetch it uses). An answer from a loopback
// server to a path under /api/ or /open311/ is matched by method + path template + status +
// content type to the document's operation, and its body is validated with ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1) against the documented schema:
//
//   - a path or method the document does not list must answer as the document's
//     x-unlisted-answers says (404 / 405 with the error body), and any operation may give
//     the answers its `any` lists (503 while the database is unreachable);
//   - a status the operation does not list, a content type its answer does not list, a body
//     where none is documented or a body that fails its schema is a mismatch.
//
// A mismatch makes the fetch reject with an OpenApiMismatch naming the method, the path, the
// matched template and operationId, the status, and for each schema error the JSON pointer of
// the value, the schema path in the document and what was wanted; it is also printed when the
// test process exits (and makes it exit non-zero), so a test that swallowed the rejection
// still fails.
//
// checkAnswer() checks one answer got another way. rawRequest (helpers.mjs) does not use it:
// it sends deliberately malformed HTTP, whose answers come from below the API.
//
// GOVHALL_OPENAPI_RECORD=FILE appends one JSON line per checked answer (method, path,
// template, operationId, status, content type, body) for looking at real answers.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DOC_FILE = path.resolve(here, '../../docs/openapi.yaml');
const DOC_ID = 'https://govhall.invalid/openapi.json';

export class OpenApiMismatch extends Error {
  constructor(message) {
    super(message);
    this.name = 'OpenApiMismatch';
  }
}

/** JSON pointer escaping of one reference token (RFC 6901). */
const esc = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** The value at a JSON pointer inside obj (undefined when absent). */
function atPointer(obj, pointer) {
  if (pointer === '' || pointer === '#') return obj;
  let v = obj;
  for (const t of pointer.replace(/^#?\//, '').split('/')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[t.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

function short(v) {
  const s = JSON.stringify(v);
  if (s === undefined) return 'undefined';
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/**
 * Loads the document and prepares the matcher. Returns {doc, routes (the path templates with
 * their server prefix, most literal first), match(method, pathname) -> {route, op},
 * check({method, url, status, contentType, body}) -> null or the mismatch message}.
 */
export function loadContract(file = DOC_FILE) {
  const doc = YAML.parse(readFileSync(file, 'utf8'), { uniqueKeys: true });
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, verbose: true, inlineRefs: false });
  addFormats(ajv);
  // OpenAPI's own schema keywords (annotations for validation purposes).
  ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
  // The document itself is added as one schema so that its $refs resolve; its top-level
  // members are not schema keywords, so they are declared as inert ones.
  for (const k of Object.keys(doc)) if (!ajv.getKeyword(k)) ajv.addKeyword(k);
  ajv.addSchema(doc, DOC_ID, undefined, false);
  // Where each schema object sits in the document, to name the failing keyword's place.
  const schemaPlace = new Map();
  (function index(o, ptr) {
    if (!o || typeof o !== 'object' || schemaPlace.has(o)) return;
    schemaPlace.set(o, ptr);
    for (const [k, v] of Object.entries(o)) index(v, `${ptr}/${esc(k)}`);
  })(doc, '#');
  const compiled = new Map();
  function validator(pointer) {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}${pointer}` });
      compiled.set(pointer, v);
    }
    return v;
  }

  // Path templates of every operation, the most literal first: `{name}` matches one segment
  // or, inside a segment (`{service_code}.{format}`), a part without dots or slashes.
  const routes = [];
  for (const [tmpl, item] of Object.entries(doc.paths ?? {})) {
    const servers = item.servers ?? doc.servers ?? [{ url: '/' }];
    for (const s of servers) {
      const prefix = new URL(s.url, 'http://x').pathname.replace(/\/$/, '');
      const full = prefix + tmpl;
      let params = 0;
      let literal = 0;
      const re = full.replace(/\{[^}]+\}|[^{]+/g, (part, offset) => {
        if (part.startsWith('{')) {
          params++;
          const next = full[offset + part.length];
          return next === '.' ? '([^/.]+)' : '([^/]+)';
        }
        literal += part.length;
        return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      });
      routes.push({ template: full, docPath: tmpl, item, re: new RegExp(`^${re}$`), params, literal });
    }
  }
  routes.sort((a, b) => a.params - b.params || b.literal - a.literal);

  function match(method, pathname) {
    const route = routes.find((r) => r.re.test(pathname));
    if (!route) return { route: null, op: null };
    const m = method.toLowerCase();
    const op = route.item[m] ?? (m === 'head' ? route.item.get : undefined) ?? null;
    return { route, op, method: op ? (route.item[m] ? m : 'get') : m };
  }

  // The answers to paths and methods the document does not list, per base path (the
  // longest base that starts the request's path applies).
  const unlistedBases = Object.keys(doc['x-unlisted-answers'] ?? {}).sort((a, b) => b.length - a.length);
  function unlistedFor(pathname) {
    const base = unlistedBases.find((b) => pathname === b || pathname.startsWith(`${b}/`));
    return base ? { base, answers: doc['x-unlisted-answers'][base] } : { base: null, answers: {} };
  }

  function deref(obj, ptr) {
    let p = ptr;
    let o = obj;
    for (let i = 0; i < 10 && o && typeof o.$ref === 'string'; i++) {
      p = o.$ref;
      o = atPointer(doc, o.$ref);
    }
    return { obj: o, pointer: p };
  }

  function checkBody({ what, resPointer, response, status, contentType, body, method }) {
    const { obj: res, pointer: rp } = deref(response, resPointer);
    const content = res?.content ?? null;
    const mt = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!content || Object.keys(content).length === 0) {
      if (body.length > 0 && method !== 'HEAD') {
        return `${what}: the document gives ${status} no content (${rp}), but ${body.length} bytes of ${mt || 'no type'} came back: ${short(body.toString('utf8').slice(0, 200))}`;
      }
      return null;
    }
    let key = Object.keys(content).find((k) => k.toLowerCase() === mt);
    key ??= Object.keys(content).find((k) => k.endsWith('/*') && mt.startsWith(k.slice(0, -1)));
    key ??= Object.keys(content).find((k) => k === '*/*');
    if (!key) {
      return `${what}: answered ${status} as ${mt || '(no Content-Type)'}, but the document (${rp}/content) lists only ${Object.keys(content).join(', ')}`;
    }
    if (method === 'HEAD') return null;
    const media = content[key];
    if (!/json/.test(key) || !media?.schema) return null;
    let value;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return `${what}: ${status} ${key} body is not JSON (${e.message}): ${short(body.toString('utf8').slice(0, 200))}`;
    }
    const schemaPointer = `${rp}/content/${esc(key)}/schema`;
    const v = validator(schemaPointer);
    if (v(value)) return null;
    const lines = v.errors.slice(0, 8).map((e) => {
      const where = e.instancePath || '(the body)';
      const sp = schemaPlace.has(e.parentSchema) ? `${schemaPlace.get(e.parentSchema)}/${e.keyword}` : e.schemaPath;
      let extra = '';
      if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
        extra = ` '${e.params.additionalProperty ?? e.params.unevaluatedProperty}'`;
      } else if (e.keyword === 'required') {
        extra = ` '${e.params.missingProperty}'`;
      } else if (e.keyword === 'enum') {
        extra = ` ${short(e.params.allowedValues)}`;
      }
      return `    at ${where}: ${e.message}${extra}; got ${short(atPointer(value, e.instancePath))}\n      schema ${sp}`;
    });
    if (v.errors.length > 8) lines.push(`    ... and ${v.errors.length - 8} more`);
    return `${what}: the ${status} ${key} body does not match ${schemaPointer}:\n${lines.join('\n')}`;
  }

  function check({ method, url, status, contentType, body }) {
    const u = new URL(url);
    const M = method.toUpperCase();
    const { route, op, method: m } = match(M, u.pathname);
    const target = `${u.pathname}${u.search}`;
    let what = `${M} ${target.length > 200 ? `${target.slice(0, 200)}... (${target.length} bytes)` : target}`;
    if (!route || !op) {
      const kind = route ? 'method' : 'path';
      const { base, answers: all } = unlistedFor(u.pathname);
      const answers = all[kind] ?? {};
      what += route ? ` (path ${route.template} has no ${M})` : ' (no path of the document)';
      const response = answers[String(status)];
      if (!response) {
        return `${what}: answered ${status}, but an unlisted ${kind} under ${base ?? '(no base of x-unlisted-answers)'} must answer ${Object.keys(answers).join(' or ') || '(x-unlisted-answers says nothing)'}; body: ${short(body.toString('utf8').slice(0, 300))}`;
      }
      return checkBody({ what, resPointer: `#/x-unlisted-answers/${esc(base)}/${kind}/${status}`, response, status, contentType, body, method: M });
    }
    what += ` (${M === 'HEAD' && m === 'get' ? 'GET, for HEAD, ' : ''}${route.template}, operationId ${op.operationId ?? '(none)'})`;
    const responses = op.responses ?? {};
    const code = String(status);
    const key = code in responses ? code : (`${code[0]}XX` in responses ? `${code[0]}XX` : null);
    if (!key) {
      const { base, answers } = unlistedFor(u.pathname);
      const any = answers.any?.[code];
      if (any) return checkBody({ what, resPointer: `#/x-unlisted-answers/${esc(base)}/any/${code}`, response: any, status, contentType, body, method: M });
      return `${what}: answered ${status}, which the document does not list (it lists ${Object.keys(responses).join(', ')}); body: ${short(body.toString('utf8').slice(0, 300))}`;
    }
    const resPointer = `#/paths/${esc(route.docPath)}/${m}/responses/${key}`;
    return checkBody({ what, resPointer, response: responses[key], status, contentType, body, method: M });
  }

  return { doc, match, check, routes };
}

let installed = false;
let contract = null;
const mismatches = [];
const record = process.env.GOVHALL_OPENAPI_RECORD;

/**
 * Checks one answer ({method, url, status, contentType, body: Buffer}) of a server under test
 * against the document; throws an OpenApiMismatch (and remembers it for the exit report) when
 * it does not match. Answers from elsewhere, or to paths the document does not cover, pass.
 */
export function checkAnswer({ method, url, status, contentType, body }) {
  const u = new URL(url);
  if (!described(u)) return;
  contract ??= loadContract();
  const problem = contract.check({ method, url: u.href, status, contentType, body });
  if (record) {
    const { route, op } = contract.match(method, u.pathname);
    let b = body.toString('utf8');
    if (!/json|xml|text/.test(contentType ?? '')) b = `(${body.length} bytes)`;
    appendFileSync(record, `${JSON.stringify({ method, path: u.pathname, search: u.search, template: route?.template ?? null,
      operationId: op?.operationId ?? null, status, contentType, body: b.slice(0, 20000), problem })}\n`);
  }
  if (problem) {
    const msg = `answer does not match docs/openapi.yaml: ${problem}`;
    mismatches.push(msg);
    throw new OpenApiMismatch(msg);
  }
}

/** Is this a request to a govhall under test whose answer the document describes? */
function described(u) {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && /^\/(api|open311)(\/|$)/.test(u.pathname);
}

/**
 * Wraps globalThis.fetch once per process so every answer of the API is checked (see the top
 * of this file). Safe to call more than once.
 */
export function install() {
  if (installed) return;
  installed = true;
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function checkedFetch(input, init = {}) {
    const res = await realFetch(input, init);
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!described(new URL(href))) return res;
    const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.clone().arrayBuffer());
    checkAnswer({ method, url: href, status: res.status, contentType: res.headers.get('content-type'), body });
    return res;
  };
  process.on('exit', (code) => {
    if (mismatches.length === 0) return;
    process.stderr.write(`\n${mismatches.length} answer(s) did not match docs/openapi.yaml:\n${mismatches.map((m) => `- ${m}`).join('\n')}\n`);
    if (code === 0) process.exitCode = 1;
  });
}
