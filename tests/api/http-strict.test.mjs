// The connection layer against hostile and unseen input, over raw sockets:
// - framing per RFC 9112 §6, as a request smuggler behind a proxy would try it (two lengths,
//   Content-Length with Transfer-Encoding, unsupported or repeated codings, NUL and control
//   bytes, bare CR/LF, obs-fold, whitespace before a colon, bad chunk sizes), each refused
//   with 400 (501 for an unsupported coding) and nothing after it on the connection answered;
//   chunk extensions accepted; 100-continue; pipelined answers in order;
// - errors produced below the router carry the security headers and X-Request-Id, and are the
//   JSON error body under /api/ and an HTML page elsewhere;
// - total deadlines for a request's head and body that a trickle does not extend;
// - connections capped per client address; the hall answering /healthz while many slow
//   connections are held against a low descriptor limit; descriptors running out (the
//   reserve descriptor sheds, the log does not flood, and the hall recovers);
// - the client address through trusted proxies only (X-Forwarded-For, PROXY v1 and v2);
// - a second server refused on a port the first one serves.
// Waits are for conditions (a response, a close, a log line) with generous hang guards;
// nothing here measures time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { DEMO, DEMO_PASSWORD, get, govhall, startServer } from './helpers.mjs';

// ---- a raw client ---------------------------------------------------------------------------

const HANG_GUARD = 30_000;

/** Opens a connection (from a chosen local address: Linux routes all of 127/8 to lo). */
function open(url, { from } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port), localAddress: from });
    const c = { sock, buf: Buffer.alloc(0), closed: false, sent: 0, waiters: new Set() };
    const notify = () => { for (const w of c.waiters) w(); };
    sock.on('data', (d) => { c.buf = Buffer.concat([c.buf, d]); notify(); });
    sock.on('close', () => { c.closed = true; notify(); });
    sock.on('error', () => {});
    sock.once('connect', () => resolve(c));
    sock.once('error', reject);
  });
}

/** Resolves when pred(c) holds; rejects (naming what) after the hang guard. */
function until(c, pred, what = 'a condition') {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred(c)) return;
      c.waiters.delete(check);
      clearTimeout(timer);
      resolve(c);
    };
    const timer = setTimeout(() => {
      c.waiters.delete(check);
      reject(new Error(`waited too long for ${what}; got ${JSON.stringify(c.buf.toString('latin1').slice(0, 300))}`));
    }, HANG_GUARD);
    c.waiters.add(check);
    check();
  });
}

function send(c, data) {
  return new Promise((resolve) => {
    if (c.closed || c.sock.destroyed) return resolve(false);
    c.sock.write(data, (err) => {
      if (!err) c.sent += Buffer.byteLength(data);
      resolve(!err);
    });
  });
}

/** Every complete response in buf: [{status, headers, body}], in order. */
function parseAll(buf) {
  const out = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) break;
    const head = buf.subarray(off, end).toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) break;
    const headers = {};
    for (const line of head.split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] !== undefined ? `${headers[k]}, ${line.slice(i + 1).trim()}` : line.slice(i + 1).trim();
    }
    const status = Number(m[1]);
    const len = status < 200 || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    if (buf.length < end + 4 + len) break;
    out.push({ status, headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    off = end + 4 + len;
  }
  return out;
}

/** Sends data on a fresh connection; waits until the server closed it (or n responses came). */
async function exchange(url, data, { from, responses } = {}) {
  const c = await open(url, { from });
  await send(c, data);
  await until(c, (x) => x.closed || (responses && parseAll(x.buf).length >= responses), 'the server to answer');
  const res = parseAll(c.buf);
  c.sock.destroy();
  return { res, closed: c.closed, raw: c.buf.toString('latin1') };
}

function checkSecurityHeaders(h, what) {
  assert.match(h['content-security-policy'] ?? '', /default-src 'self'/, `${what}: Content-Security-Policy`);
  assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/, what);
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
  assert.ok(h['referrer-policy'], `${what}: Referrer-Policy`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.match(h['x-request-id'] ?? '', /^\S{6,}$/, `${what}: X-Request-Id`);
}

const SLUG = { 400: 'bad_request', 408: 'request_timeout', 413: 'too_large', 414: 'uri_too_long', 417: 'expectation_failed',
  431: 'headers_too_large', 501: 'not_implemented', 503: 'busy', 505: 'http_version_not_supported' };

/** An error answer: status, the fields of every response, JSON under /api/ and HTML elsewhere. */
function checkError(r, status, api, what) {
  assert.ok(r, `${what}: no response`);
  assert.equal(r.status, status, `${what}: status`);
  checkSecurityHeaders(r.headers, what);
  if (api) {
    assert.match(r.headers['content-type'] ?? '', /^application\/json/, `${what}: content type`);
    const j = JSON.parse(r.body);
    assert.equal(j.error.code, SLUG[status], `${what}: error code`);
    assert.ok(j.error.message, `${what}: error message`);
  } else {
    assert.match(r.headers['content-type'] ?? '', /^text\/html/, `${what}: content type`);
    assert.match(r.body, /<html/i, `${what}: an HTML page`);
  }
}

const staffLogin = JSON.stringify({ login: DEMO.staffA.phone, password: DEMO_PASSWORD, channel: 'other', scopes: 'profile' });
const citizenLogin = JSON.stringify({ login: DEMO.citizen.phone, password: DEMO_PASSWORD, channel: 'other', scopes: 'profile' });
const len = (s) => Buffer.byteLength(s);

function post(target, fields, body, { version = '1.1' } = {}) {
  return `POST ${target} HTTP/${version}\r\n${version === '1.1' ? 'Host: x\r\n' : ''}Content-Type: application/json\r\n${fields}\r\n${body}`;
}
const chunked = (body) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
// A request that must never be answered: it comes after one the server refused.
const SMUGGLED = 'GET /api/v1/services/psb-0001 HTTP/1.1\r\nHost: x\r\n\r\n';

// ---- framing ----------------------------------------------------------------------------------

describe('framing: what a proxy may read differently is refused (RFC 9112 §6)', () => {
  let srv;
  before(async () => { srv = await startServer({ name: 'http_strict' }); });
  after(async () => { await srv?.stop(); });

  const T = '/api/v1/auth/token';
  const cases = [
    ['two different Content-Length', post(T, `Content-Length: ${len(staffLogin)}\r\nContent-Length: ${len(staffLogin) + 1}\r\n`, `${staffLogin} `), 400],
    ['the same Content-Length twice', post(T, `Content-Length: ${len(staffLogin)}\r\nContent-Length: ${len(staffLogin)}\r\n`, staffLogin), 400],
    ['a Content-Length list', post(T, `Content-Length: ${len(staffLogin)}, ${len(staffLogin)}\r\n`, staffLogin), 400],
    ['a signed Content-Length', post(T, `Content-Length: +${len(staffLogin)}\r\n`, staffLogin), 400],
    ['a hexadecimal Content-Length', post(T, `Content-Length: 0x${len(staffLogin).toString(16)}\r\n`, staffLogin), 400],
    ['Content-Length with Transfer-Encoding', post(T, `Content-Length: ${len(staffLogin)}\r\nTransfer-Encoding: chunked\r\n`, chunked(staffLogin)), 400],
    ['Transfer-Encoding with Content-Length', post(T, `Transfer-Encoding: chunked\r\nContent-Length: 4\r\n`, chunked(staffLogin)), 400],
    ['Transfer-Encoding: gzip, chunked', post(T, 'Transfer-Encoding: gzip, chunked\r\n', chunked(staffLogin)), 501],
    ['gzip and chunked in two fields', post(T, 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', chunked(staffLogin)), 501],
    ['Transfer-Encoding: identity, chunked', post(T, 'Transfer-Encoding: identity, chunked\r\n', chunked(staffLogin)), 501],
    ['chunked followed by a NUL', post(T, 'Transfer-Encoding: chunked\0\r\n', chunked(staffLogin)), 400],
    ['chunked followed by junk', post(T, 'Transfer-Encoding: chunked;x=1\r\n', chunked(staffLogin)), 400],
    ['chunked not last', post(T, 'Transfer-Encoding: chunked, gzip\r\n', chunked(staffLogin)), 400],
    ['chunked twice', post(T, 'Transfer-Encoding: chunked, chunked\r\n', chunked(staffLogin)), 400],
    ['a coding without chunked', post(T, 'Transfer-Encoding: gzip\r\n', staffLogin), 400],
    ['a quoted coding', post(T, 'Transfer-Encoding: "chunked"\r\n', chunked(staffLogin)), 400],
    ['Transfer-Encoding in HTTP/1.0', post(T, 'Transfer-Encoding: chunked\r\n', chunked(staffLogin), { version: '1.0' }), 400],
    ['whitespace before the colon', post(T, 'Transfer-Encoding : chunked\r\n', chunked(staffLogin)), 400],
    ['a vertical tab before the value', post(T, 'Transfer-Encoding:\x0bchunked\r\n', chunked(staffLogin)), 400],
    ['obs-fold carrying Transfer-Encoding', post(T, `Content-Length: ${len(staffLogin)}\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\n`, staffLogin), 400],
    ['a field line without a colon', post(T, `Content-Length: ${len(staffLogin)}\r\nNoColonHere\r\n`, staffLogin), 400],
    ['an empty field name', post(T, `Content-Length: ${len(staffLogin)}\r\n: empty\r\n`, staffLogin), 400],
    ['a control byte in a value', post(T, `Content-Length: ${len(staffLogin)}\r\nX-A: a\x01b\r\n`, staffLogin), 400],
    ['bare LF line ends', `POST ${T} HTTP/1.1\nHost: x\nContent-Length: ${len(staffLogin)}\n\n${staffLogin}`, 400],
    ['a bare LF inside the head', `POST ${T} HTTP/1.1\r\nHost: x\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 400],
    ['a bare CR inside the head', `POST ${T} HTTP/1.1\r\nHost: x\rContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 400],
    ['two spaces in the request line', `POST  ${T} HTTP/1.1\r\nHost: x\r\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 400],
    ['two Host fields', `POST ${T} HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 400],
    ['no Host in HTTP/1.1', `POST ${T} HTTP/1.1\r\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 400],
    ['two Content-Type fields', post(T, `Content-Type: text/plain\r\nContent-Length: ${len(staffLogin)}\r\n`, staffLogin), 400],
    ['a chunk size with junk', post(T, 'Transfer-Encoding: chunked\r\n', `${len(staffLogin).toString(16)}x\r\n${staffLogin}\r\n0\r\n\r\n`), 400],
    ['a negative chunk size', post(T, 'Transfer-Encoding: chunked\r\n', `-${len(staffLogin).toString(16)}\r\n${staffLogin}\r\n0\r\n\r\n`), 400],
    ['a chunk size after a space', post(T, 'Transfer-Encoding: chunked\r\n', ` ${len(staffLogin).toString(16)}\r\n${staffLogin}\r\n0\r\n\r\n`), 400],
    ['a chunk longer than its size', post(T, 'Transfer-Encoding: chunked\r\n', `2\r\n${staffLogin}\r\n0\r\n\r\n`), 400],
    ['chunk lines ending in bare LF', post(T, 'Transfer-Encoding: chunked\r\n', `${len(staffLogin).toString(16)}\n${staffLogin}\n0\n\n`), 400],
    ['a last chunk ending in bare LF', post(T, 'Transfer-Encoding: chunked\r\n', `${len(staffLogin).toString(16)}\r\n${staffLogin}\r\n0\r\n\n`), 400],
    ['a trailer field without a colon', post(T, 'Transfer-Encoding: chunked\r\n', `${len(staffLogin).toString(16)}\r\n${staffLogin}\r\n0\r\nX-Trailer\r\n\r\n`), 400],
    ['a chunk size over any body', post(T, 'Transfer-Encoding: chunked\r\n', `fffffffffffffffff\r\n${staffLogin}\r\n0\r\n\r\n`), 413],
    ['a malformed chunk extension', post(T, 'Transfer-Encoding: chunked\r\n', `${len(staffLogin).toString(16)};a=b c\r\n${staffLogin}\r\n0\r\n\r\n`), 400],
    ['HTTP/1.2', `POST ${T} HTTP/1.2\r\nHost: x\r\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 505],
    ['HTTP/2.0 in an HTTP/1 request line', `POST ${T} HTTP/2.0\r\nHost: x\r\nContent-Length: ${len(staffLogin)}\r\n\r\n${staffLogin}`, 505],
    ['an expectation other than 100-continue', post(T, `Expect: 200-ok\r\nContent-Length: ${len(staffLogin)}\r\n`, staffLogin), 417],
    ['TRACE', `TRACE ${T} HTTP/1.1\r\nHost: x\r\n\r\n`, 501],
    ['an unknown method', `BREW ${T} HTTP/1.1\r\nHost: x\r\n\r\n`, 501],
  ];

  // A request line broken before its target leaves nothing to tell /api/ by: an HTML page.
  const noTarget = new Set(['two spaces in the request line']);
  for (const [name, data, status] of cases) {
    test(`${name}: ${status}, JSON under /api/, and nothing after it answered`, async () => {
      const { res, closed } = await exchange(srv.url, data + SMUGGLED);
      checkError(res[0], status, !noTarget.has(name), name);
      assert.equal(res.length, 1, `${name}: ${res.length} responses on the connection (a smuggled request was answered)`);
      assert.ok(closed, `${name}: the connection stays open after a framing error`);
    });
  }

  test('the same errors outside /api/ are HTML pages with the same fields', async () => {
    for (const [name, data, status] of cases.slice(0, 12)) {
      const { res } = await exchange(srv.url, data.replace(T, '/login'));
      checkError(res[0], status, false, `${name} on /login`);
    }
  });

  test('a request line that is not one (no target known): an HTML 400 with the same fields', async () => {
    for (const data of ['GARBAGE\r\n\r\n', 'GET /\r\n\r\n', ' GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03']) {
      const { res, closed } = await exchange(srv.url, data);
      checkError(res[0], 400, false, JSON.stringify(data));
      assert.ok(closed);
    }
  });

  test('limits below the router answer in JSON under /api/ too: 414, 431, 413', async () => {
    const long = await exchange(srv.url, `GET /api/v1/services?q=${'a'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    checkError(long.res[0], 414, true, 'a long target');
    const big = await exchange(srv.url, `GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    checkError(big.res[0], 431, true, 'a large header');
    const many = await exchange(srv.url, `GET /api/v1/services HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 120 }, (_, i) => `X-H${i}: 1\r\n`).join('')}\r\n`);
    checkError(many.res[0], 431, true, 'many header fields');
    const huge = await exchange(srv.url, post(T, 'Content-Length: 20000000\r\n', '{"a":'));
    checkError(huge.res[0], 413, true, 'a large Content-Length');
    const page = await exchange(srv.url, `GET /services HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    checkError(page.res[0], 431, false, 'a large header on a page');
  });

  test('chunk extensions are accepted (and ignored)', async () => {
    const a = citizenLogin.slice(0, 10);
    const b = citizenLogin.slice(10, 30);
    const c = citizenLogin.slice(30);
    const body = `${a.length.toString(16)};name=value;flag\r\n${a}\r\n`
      + `${b.length.toString(16)} ; q="a \\" quoted ; ext" ; x = y\r\n${b}\r\n`
      + `${c.length.toString(16)};last\r\n${c}\r\n0;final=1\r\nX-Trailer: dropped\r\n\r\n`;
    const { res } = await exchange(srv.url, post(T, 'Transfer-Encoding: chunked\r\nConnection: close\r\n', body));
    assert.equal(res[0]?.status, 201, res[0]?.body);
    assert.ok(JSON.parse(res[0].body).token, 'no token');
  });

  test('Expect: 100-continue gets an interim 100, then the answer', async () => {
    const c = await open(srv.url);
    await send(c, `POST ${T} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${len(citizenLogin)}\r\n\r\n`);
    await until(c, (x) => parseAll(x.buf).length >= 1, 'the interim response');
    assert.equal(parseAll(c.buf)[0].status, 100);
    await send(c, citizenLogin);
    await until(c, (x) => parseAll(x.buf).length >= 2, 'the final response');
    assert.equal(parseAll(c.buf)[1].status, 201);
    c.sock.destroy();
  });

  test('pipelined requests are answered in order, each with its own request id', async () => {
    const reqs = ['/healthz', '/api/v1/services/psb-0001', '/no/such/page', '/api/v1/nope', '/healthz']
      .map((p, i, all) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${i === all.length - 1 ? 'Connection: close\r\n' : ''}\r\n`);
    const { res } = await exchange(srv.url, reqs.join(''));
    assert.deepEqual(res.map((r) => r.status), [200, 200, 404, 404, 200]);
    assert.match(res[1].body, /psb-0001/);
    assert.equal(new Set(res.map((r) => r.headers['x-request-id'])).size, 5);
    for (const r of res) checkSecurityHeaders(r.headers, `pipelined ${r.status}`);
  });

  test('HTTP/1.0: closed after the answer unless kept alive; HEAD has no body', async () => {
    const one = await exchange(srv.url, 'GET /healthz HTTP/1.0\r\n\r\n');
    assert.equal(one.res[0].status, 200);
    assert.ok(one.closed);
    const two = await exchange(srv.url, 'GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n');
    assert.deepEqual(two.res.map((r) => r.status), [200, 200]);
    assert.equal(two.res[0].headers.connection, 'keep-alive');
    assert.ok(two.closed);
    const head = await exchange(srv.url, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(head.raw, /^HTTP\/1\.1 200 [^]*\r\ncontent-length: 3\r\n/i);
    assert.ok(head.raw.endsWith('\r\n\r\n'), 'a HEAD answer carried a body');
  });

  test('a second server on the same port is refused, and the first keeps serving', async () => {
    for (const listen of [`127.0.0.1:${srv.port}`, `0.0.0.0:${srv.port}`]) {
      const r = await govhall(['serve', '--db', srv.db, '--listen', listen, '--threads', '1'], { timeout: 20_000 });
      assert.notEqual(r.code, 0, `serve on ${listen} started beside the first`);
      assert.match(r.stderr, /already in use/, r.stderr);
    }
    assert.equal((await get(`${srv.url}/healthz`)).status, 200);
    assert.ok(srv.running);
  });
});

// ---- deadlines --------------------------------------------------------------------------------

describe('deadlines: a trickle does not extend them', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      name: 'http_deadlines', demo: false,
      extraArgs: ['--header-timeout', '1', '--body-timeout', '1', '--max-headers', '1048576'],
    });
  });
  after(async () => { await srv?.stop(); });

  /** One request answered on a kept-alive connection of its own: the trickle's clock. */
  async function pacer() {
    const c = await open(srv.url);
    let n = 0;
    return async () => {
      await send(c, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      n++;
      await until(c, (x) => parseAll(x.buf).length >= n, 'the pacing answer');
      if (n % 100 === 0) { c.buf = Buffer.alloc(0); n = 0; }
    };
  }

  /**
   * Sends head, then tail one byte per round trip to the server on another connection (a slow
   * client, with no clock but the server's), until the server closes; returns what came back
   * and whether the whole tail got through.
   */
  async function trickle(head, tail) {
    const step = await pacer();
    const c = await open(srv.url);
    await send(c, head);
    for (const ch of tail) {
      if (c.closed) break;
      await send(c, ch);
      await step();
    }
    const finished = !c.closed;
    await until(c, (x) => x.closed, 'the server to close');
    c.sock.destroy();
    return { res: parseAll(c.buf), finished };
  }
  const LONG = 500_000; // far more round trips than fit in a second

  test('a head trickled a byte at a time is cut off with 408 (HTML)', async () => {
    const { res, finished } = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', `${'a'.repeat(LONG)}\r\n\r\n`);
    assert.ok(!finished, 'the whole trickled head was read');
    checkError(res[0], 408, false, 'a trickled head');
  });

  test('under /api/ the 408 is JSON', async () => {
    const { res, finished } = await trickle('GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-Slow: ', `${'a'.repeat(LONG)}\r\n\r\n`);
    assert.ok(!finished);
    checkError(res[0], 408, true, 'a trickled head under /api/');
  });

  test('a connection trickling from its first byte (empty lines before a request) is cut off too', async () => {
    const { res, finished } = await trickle('', `${'\r\n'.repeat(LONG / 2)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.ok(!finished);
    checkError(res[0], 408, false, 'a trickle from the first byte');
  });

  test('a body trickled a byte at a time is cut off with 408', async () => {
    const { res, finished } = await trickle(`POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LONG}\r\n\r\n`, 'a'.repeat(LONG));
    assert.ok(!finished, 'the whole trickled body was read');
    checkError(res[0], 408, true, 'a trickled body');
  });

  test('a connection that never sends a byte is closed without an answer', async () => {
    const c = await open(srv.url);
    await until(c, (x) => x.closed, 'the server to close a silent connection');
    assert.equal(c.buf.length, 0);
  });

});

// ---- connection limits ------------------------------------------------------------------------

function metric(text, name) {
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

describe('connections: capped per address, slow ones cannot take the hall down', () => {
  const PER_ADDRESS = 8;
  let srv;
  before(async () => {
    srv = await startServer({
      name: 'http_limits', demo: false,
      extraArgs: ['--max-conns-per-ip', String(PER_ADDRESS), '--max-open-files', '192', '--header-timeout', '120', '--idle-timeout', '120'],
    });
  });
  after(async () => { await srv?.stop(); });

  test(`an address gets ${PER_ADDRESS} connections; the next is answered 503 and closed; others are unaffected`, async () => {
    const from = '127.0.0.3';
    const held = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      const c = await open(srv.url, { from });
      await send(c, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(c, (x) => parseAll(x.buf).length === 1, 'a kept-alive answer');
      held.push(c);
    }
    const over = await open(srv.url, { from });
    await until(over, (x) => x.closed, 'the extra connection to be refused');
    const r = parseAll(over.buf)[0];
    assert.equal(r?.status, 503, over.buf.toString());
    checkSecurityHeaders(r.headers, 'the 503 for an address over its cap');
    assert.ok(r.headers['retry-after']);
    // Another address is served.
    const other = await exchange(srv.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { from: '127.0.0.4' });
    assert.equal(other.res[0]?.status, 200);
    // One closed: the address may connect again (once the server has seen the close).
    held.pop().sock.destroy();
    let again;
    for (let i = 0; i < 200 && again?.res[0]?.status !== 200; i++) {
      again = await exchange(srv.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { from });
    }
    assert.equal(again.res[0]?.status, 200);
    for (const c of held) c.sock.destroy();
  });

  test('many slow connections from many addresses against a low descriptor limit: /healthz is answered', async () => {
    const slow = [];
    for (let a = 1; a <= 24; a++) {
      for (let i = 0; i < PER_ADDRESS; i++) {
        const c = await open(srv.url, { from: `127.0.2.${a}` });
        await send(c, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: '); // and nothing more
        slow.push(c);
      }
    }
    for (let i = 0; i < 5; i++) {
      const r = await exchange(srv.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.res[0]?.status, 200, `/healthz while ${slow.length} slow connections were opened`);
    }
    const m = (await get(`${srv.url}/metrics`)).body;
    const open_ = metric(m, 'govhall_http_connections ');
    assert.ok(open_ < slow.length, `${open_} connections open: every slow one was kept against a 192-descriptor limit`);
    assert.ok(metric(m, 'govhall_http_connections_evicted_total') > 0, 'no slow connection was closed to make room');
    assert.ok(!srv.stderr.some((l) => /Too many open files|out of file descriptors/.test(l)), 'descriptors ran out');
    for (const c of slow) c.sock.destroy();
  });

  test('out of descriptors: the reserve sheds, the log does not flood, the hall recovers', async () => {
    const pid = srv.proc.pid;
    // Once the earlier tests' connections are all closed, every descriptor is in use.
    const conns = async () => {
      const r = await exchange(srv.url, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      return metric(r.res[0].body, 'govhall_http_connections ');
    };
    while (await conns() > 1);
    // A new descriptor takes the lowest free number, and must be below the limit.
    const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    let fds = 0;
    while (used.has(fds)) fds++;
    // The soft limit only: lowering the hard one could not be undone without privileges.
    const prlimit = (n) => new Promise((resolve, reject) => {
      execFile('prlimit', [`--pid=${pid}`, `--nofile=${n}:`], (e) => (e ? reject(e) : resolve()));
    });
    await prlimit(fds);
    try {
      const results = [];
      for (let i = 0; i < 20; i++) {
        const c = await open(srv.url, { from: '127.0.0.5' }).catch(() => null);
        if (!c) continue;
        await send(c, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await until(c, (x) => x.closed || parseAll(x.buf).length > 0, 'an answer or a close');
        results.push(parseAll(c.buf)[0]?.status ?? 'closed');
        c.sock.destroy();
      }
      assert.ok(results.some((s) => s === 503 || s === 'closed'), `nothing was shed: ${results}`);
    } finally {
      await prlimit(192);
    }
    // Accepting resumes after its back-off.
    let ok;
    for (let i = 0; i < 400 && ok !== 200; i++) {
      ok = (await exchange(srv.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { from: '127.0.0.6' })).res[0]?.status;
    }
    assert.equal(ok, 200);
    const lines = srv.stderr.filter((l) => /out of file descriptors|Too many open files/.test(l));
    assert.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} log lines about descriptors:\n${lines.slice(0, 5).join('\n')}`);
  });
});

// ---- the client's address ----------------------------------------------------------------------

/** The address the server logged for a request to a unique unknown path (once the line is out). */
function loggedIp(srv, path) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = srv.logs().find((l) => l.path === path);
      if (!line) return;
      srv.proc.stderr.off('data', check);
      clearTimeout(timer);
      resolve(line.ip);
    };
    const timer = setTimeout(() => {
      srv.proc.stderr.off('data', check);
      reject(new Error(`no log line for ${path}`));
    }, HANG_GUARD);
    // The helper's own listener (registered first) has appended the lines by the time this runs.
    srv.proc.stderr.on('data', check);
    check();
  });
}

let seq = 0;
async function ipOf(srv, { from, xff = [], proxy = '' } = {}) {
  const p = `/whoami-${process.pid}-${++seq}`;
  const fields = xff.map((v) => `X-Forwarded-For: ${v}\r\n`).join('');
  const { res } = await exchange(srv.url, Buffer.concat([Buffer.from(proxy, 'latin1'), Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\n${fields}Connection: close\r\n\r\n`)]), { from });
  if (res[0]?.status !== 404) return { status: res[0]?.status ?? null };
  return { status: 404, ip: await loggedIp(srv, p) };
}

function v6bytes(s) {
  const [l, r] = s.split('::');
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** A PROXY protocol v2 header (PROXY command, TCP) naming src as the client. */
function proxyV2(src, srcPort = 40000) {
  const sig = Buffer.from([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]);
  const v6 = src.includes(':');
  const addrs = v6 ? Buffer.concat([v6bytes(src), v6bytes('::1')]) : Buffer.from([...src.split('.').map(Number), 127, 0, 0, 1]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(80, 2);
  const body = Buffer.concat([addrs, ports]);
  return Buffer.concat([sig, Buffer.from([0x21, v6 ? 0x21 : 0x11, 0x00, body.length]), body]).toString('latin1');
}

describe('the client address comes through trusted proxies only', () => {
  let xffSrv; let ppSrv; let legacySrv;
  before(async () => {
    [xffSrv, ppSrv, legacySrv] = await Promise.all([
      startServer({ name: 'http_xff', demo: false, extraArgs: ['--trusted-proxies', '127.0.0.1, 10.0.0.0/8'] }),
      startServer({ name: 'http_pp', demo: false, extraArgs: ['--trusted-proxies', '127.0.0.1', '--proxy-protocol', 'true'] }),
      startServer({ name: 'http_legacy', demo: false, extraArgs: ['--trust-proxy', 'true'] }),
    ]);
  });
  after(async () => { await Promise.all([xffSrv?.stop(), ppSrv?.stop(), legacySrv?.stop()]); });

  test('X-Forwarded-For from a trusted proxy: the rightmost hop that is not a proxy', async () => {
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1', xff: ['203.0.113.7'] })).ip, '203.0.113.7');
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1', xff: ['198.51.100.66, 203.0.113.7'] })).ip, '203.0.113.7', 'a spoofed left hop was believed');
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1', xff: ['198.51.100.66', '203.0.113.8, 10.1.2.3'] })).ip, '203.0.113.8', 'through a second trusted proxy');
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1', xff: ['2001:db8::7'] })).ip, '2001:db8::7');
    // A trusted proxy that names nobody stands for itself.
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1' })).ip, '127.0.0.1');
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.1', xff: ['not-an-address'] })).ip, '127.0.0.1');
  });

  test('X-Forwarded-For from an untrusted peer is ignored', async () => {
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.2', xff: ['203.0.113.7'] })).ip, '127.0.0.2');
    assert.equal((await ipOf(xffSrv, { from: '127.0.0.2', xff: ['203.0.113.7, 10.0.0.1'] })).ip, '127.0.0.2');
  });

  test('the older trust-proxy switch trusts this machine only', async () => {
    assert.equal((await ipOf(legacySrv, { from: '127.0.0.1', xff: ['203.0.113.9'] })).ip, '203.0.113.9');
    assert.equal((await ipOf(legacySrv, { from: '127.0.0.2', xff: ['203.0.113.9'] })).ip, '203.0.113.9'); // 127/8 is this machine
  });

  test('PROXY protocol v1 and v2 from a trusted proxy name the client', async () => {
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: 'PROXY TCP4 203.0.113.10 127.0.0.1 40000 80\r\n' })).ip, '203.0.113.10');
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: 'PROXY TCP6 2001:db8::7 ::1 40000 80\r\n' })).ip, '2001:db8::7');
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: proxyV2('203.0.113.11') })).ip, '203.0.113.11');
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: proxyV2('2001:db8::7') })).ip, '2001:db8::7');
    // A health check (v1 UNKNOWN): the proxy itself.
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: 'PROXY UNKNOWN\r\n' })).ip, '127.0.0.1');
    // The client PROXY names may not add X-Forwarded-For hops of its own.
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.1', proxy: 'PROXY TCP4 203.0.113.12 127.0.0.1 40000 80\r\n', xff: ['198.51.100.1'] })).ip, '203.0.113.12');
  });

  test('a trusted proxy without a PROXY header is cut off; an untrusted peer cannot send one', async () => {
    const bare = await exchange(ppSrv.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { from: '127.0.0.1' });
    assert.equal(bare.res.length, 0);
    assert.ok(bare.closed);
    const spoof = await ipOf(ppSrv, { from: '127.0.0.2', proxy: 'PROXY TCP4 203.0.113.10 127.0.0.1 40000 80\r\n' });
    assert.equal(spoof.status, 400, 'an untrusted peer\'s PROXY header was not refused');
    assert.equal((await ipOf(ppSrv, { from: '127.0.0.2' })).ip, '127.0.0.2');
  });

  test('a bad trusted-proxies setting stops the server with a message', async () => {
    const r = await govhall(['serve', '--db', xffSrv.db, '--listen', '127.0.0.1:0', '--trusted-proxies', '10.0.0.0/33'], { timeout: 20_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /trusted-proxies/);
  });
});
