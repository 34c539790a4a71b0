// Compressed responses (src/http/compress.c): Accept-Encoding negotiation with q-values, the
// size threshold, Vary, ETags per coding and 304s, types never compressed (images, event
// streams), the cache's and the static files' ready-made coded bodies, cookies from another
// site (BREACH), and the switch. Bodies are read as bytes (node:http does not decode them) and
// decoded here, so each coded body is compared with the plain one byte for byte.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { cp, readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import zlib from 'node:zlib';
import { deadline, freshDb, initDb, root, serve, startServer, tempDir } from './helpers.mjs';

let srv;
before(async () => { srv = await startServer({ name: 'compress' }); });
after(async () => { await srv?.stop(); });

/** One request; the body as raw bytes, never decoded. */
function raw(url, { method = 'GET', headers = {} } = {}) {
  return deadline(new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), 30_000, `${method} ${url}`);
}

function decode(r) {
  const enc = r.headers['content-encoding'];
  if (!enc) return r.body;
  if (enc === 'gzip') return zlib.gunzipSync(r.body);
  if (enc === 'br') return zlib.brotliDecompressSync(r.body);
  throw new Error(`unexpected Content-Encoding ${enc}`);
}

function varies(r) {
  return /(^|,)\s*accept-encoding\s*(,|$)/i.test(r.headers.vary ?? '');
}

describe('negotiation', () => {
  test('a guide page in each coding decodes to the plain page; Vary always; ETag per coding', async () => {
    const u = `${srv.url}/services/psb-0001`;
    const plain = await raw(u);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(varies(plain), `Vary: ${plain.headers.vary}`);
    assert.ok(plain.body.length > 4096, `${plain.body.length} bytes`);
    const tags = new Set([plain.headers.etag]);
    for (const [ae, want] of [['gzip', 'gzip'], ['br', 'br'], ['gzip, deflate, br', 'br'], ['x-gzip', 'gzip'],
      ['br;q=0.5, gzip;q=0.8', 'gzip'], ['br;q=0, *', 'gzip'], ['identity;q=0, gzip', 'gzip'],
      ['gzip;q=0.5, identity', undefined], ['gzip;q=0, br;q=0', undefined], ['deflate', undefined],
      ['gzip;q=7', undefined], ['', undefined]]) {
      for (let i = 0; i < 3; i++) { // both workers, the entry's first coding and a stored one
        const r = await raw(u, { headers: { 'accept-encoding': ae } });
        assert.equal(r.status, 200, ae);
        assert.equal(r.headers['content-encoding'], want, `Accept-Encoding: ${ae}`);
        assert.ok(varies(r), `${ae}: Vary: ${r.headers.vary}`);
        assert.ok(decode(r).equals(plain.body), `${ae}: the decoded body differs from the plain one`);
        if (want) {
          assert.ok(r.body.length < plain.body.length * 0.4, `${ae}: ${r.body.length} of ${plain.body.length} bytes`);
          assert.equal(Number(r.headers['content-length']), r.body.length);
          // weak while the cache holds the fast level's copy (Brotli), strong once the pool made the strong one
          tags.add(r.headers.etag.replace(/^W\//, ''));
        } else {
          assert.equal(r.headers.etag, plain.headers.etag, ae);
        }
      }
    }
    assert.equal(tags.size, 3, `one ETag per coding: ${[...tags]}`);
  });

  test('304 for the ETag of the coding sent, 200 when the client now takes another coding', async () => {
    const u = `${srv.url}/services/psb-0002`;
    const gz = await raw(u, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const again = await raw(u, { headers: { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, gz.headers.etag);
    assert.ok(varies(again), `304 Vary: ${again.headers.vary}`);
    const weak = await raw(u, { headers: { 'accept-encoding': 'gzip', 'if-none-match': `"x", W/${gz.headers.etag}` } });
    assert.equal(weak.status, 304, 'weak comparison over a list');
    const other = await raw(u, { headers: { 'accept-encoding': 'br', 'if-none-match': gz.headers.etag } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['content-encoding'], 'br');
    const plain = await raw(u, { headers: { 'if-none-match': gz.headers.etag } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
  });

  test('HEAD says the length GET sends in the same coding', async () => {
    for (const p of ['/services/psb-0001', '/api/v1/services', '/static/css/site.css']) {
      const g = await raw(`${srv.url}${p}`, { headers: { 'accept-encoding': 'gzip' } });
      const h = await raw(`${srv.url}${p}`, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
      assert.equal(h.status, 200, p);
      assert.equal(h.body.length, 0, p);
      assert.equal(h.headers['content-encoding'], 'gzip', p);
      assert.equal(h.headers['content-length'], String(g.body.length), p);
    }
  });

  test('JSON, CSS, JavaScript and SVG are compressed; small bodies and images are not', async () => {
    for (const p of ['/api/v1/services', '/api/v1/services/psb-0001', '/static/css/site.css', '/static/js/site.js',
      '/static/icons/icon.svg', '/services', '/']) {
      const plain = await raw(`${srv.url}${p}`);
      const r = await raw(`${srv.url}${p}`, { headers: { 'accept-encoding': 'gzip, br' } });
      assert.equal(r.status, 200, p);
      if (plain.body.length >= 1024) assert.equal(r.headers['content-encoding'], 'br', `${p} (${plain.body.length} bytes)`);
      assert.ok(varies(r), `${p}: Vary: ${r.headers.vary}`);
      assert.ok(decode(r).equals(plain.body), `${p}: the decoded body differs`);
    }
    const small = await raw(`${srv.url}/healthz`, { headers: { 'accept-encoding': 'gzip' } });
    assert.ok(small.body.length < 1024);
    assert.equal(small.headers['content-encoding'], undefined, 'below compress-min-bytes');
    const refused = await raw(`${srv.url}/healthz`, { headers: { 'accept-encoding': 'gzip, identity;q=0' } });
    assert.equal(refused.headers['content-encoding'], 'gzip', 'identity refused: compressed whatever the size');
    assert.equal(zlib.gunzipSync(refused.body).toString(), small.body.toString());
    const png = await raw(`${srv.url}/static/icons/icon-192.png`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(png.status, 200);
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.ok(png.body.equals(await readFile(path.join(root, 'static/icons/icon-192.png'))));
  });

  test('an event stream is never compressed and its events arrive as they happen', async () => {
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/centres/qh-main/display/events`, {
      headers: { 'accept-encoding': 'gzip, br' }, signal: ac.signal,
    });
    try {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      assert.equal(res.headers.get('content-encoding'), null);
      const reader = res.body.getReader();
      let text = '';
      await deadline((async () => {
        while (!/^event: display$/m.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error('the stream ended');
          text += new TextDecoder().decode(value);
        }
      })(), 30_000, 'the first display event');
      assert.match(text, /^data: \{/m);
    } finally {
      ac.abort();
    }
  });
});

describe('cookies from another site (BREACH)', () => {
  test('an answer to a request with cookies is compressed only when the hall itself asked', async () => {
    const u = `${srv.url}/login`;
    const cookie = { cookie: 'gh_lang=zh', 'accept-encoding': 'gzip' };
    const none = await raw(u, { headers: cookie });
    assert.equal(none.status, 200);
    assert.ok(none.body.length > 1024);
    assert.equal(none.headers['content-encoding'], undefined, 'cookies and no Sec-Fetch-Site');
    const cross = await raw(u, { headers: { ...cookie, 'sec-fetch-site': 'cross-site' } });
    assert.equal(cross.headers['content-encoding'], undefined, 'cross-site');
    const sibling = await raw(u, { headers: { ...cookie, 'sec-fetch-site': 'same-site' } });
    assert.equal(sibling.headers['content-encoding'], undefined, 'same-site (another subdomain)');
    for (const site of ['same-origin', 'none']) {
      const r = await raw(u, { headers: { ...cookie, 'sec-fetch-site': site } });
      assert.equal(r.headers['content-encoding'], 'gzip', site);
      assert.match(zlib.gunzipSync(r.body).toString(), /<\/html>\s*$/);
    }
    const anon = await raw(u, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(anon.headers['content-encoding'], 'gzip', 'no cookies: nothing of the caller in the page');
    // a page the same for everyone (the response cache) is compressed whatever the cookies
    const guide = await raw(`${srv.url}/services/psb-0001`, { headers: cookie });
    assert.equal(guide.headers['content-encoding'], 'gzip');
  });
});

describe('static files compressed at install', () => {
  test('FILE.gz and FILE.br beside a file are sent as they are; a stale one is not', async () => {
    const dir = await tempDir('govhall-static-');
    const staticDir = path.join(dir.path, 'static');
    await cp(path.join(root, 'static'), staticDir, { recursive: true });
    await promisify(execFile)(path.join(root, 'scripts/precompress.sh'), [staticDir]);
    const db = await freshDb('compress-static');
    await initDb(db.url, { keyFile: db.keyFile });
    const s = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--static-dir', staticDir] });
    try {
      const css = path.join(staticDir, 'css/site.css');
      const plain = await readFile(css);
      const gz = await readFile(`${css}.gz`);
      const r = await raw(`${s.url}/static/css/site.css`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.ok(r.body.equals(gz), 'the precompressed file itself');
      assert.ok(zlib.gunzipSync(r.body).equals(plain));
      assert.match(r.headers.etag, /-gz"$/);
      assert.ok(varies(r));
      // a browser takes both: the .br when install made one, else the .gz rather than Brotli as it goes
      const both = await raw(`${s.url}/static/css/site.css`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      const br = await readFile(`${css}.br`).catch(() => null);
      assert.equal(both.headers['content-encoding'], br ? 'br' : 'gzip');
      assert.ok(both.body.equals(br ?? gz));
      const again = await raw(`${s.url}/static/css/site.css`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': r.headers.etag } });
      assert.equal(again.status, 304);
      const id = await raw(`${s.url}/static/css/site.css`);
      assert.ok(id.body.equals(plain));
      assert.equal(id.headers['content-encoding'], undefined);
      assert.notEqual(id.headers.etag, r.headers.etag);
      // an edited file whose .gz was not made again: the file, compressed as it goes
      const { utimes } = await import('node:fs/promises');
      const later = new Date(Date.now() + 60_000);
      await utimes(css, later, later);
      const fresh = await raw(`${s.url}/static/css/site.css`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(fresh.headers['content-encoding'], 'gzip');
      assert.ok(zlib.gunzipSync(fresh.body).equals(plain));
      assert.doesNotMatch(fresh.headers.etag, /-gz"$/);
    } finally {
      await s.stop();
      await db.drop();
    }
  });
});

describe('switched off', () => {
  test('compress = false sends everything plain', async () => {
    const db = await freshDb('compress-off');
    await initDb(db.url, { keyFile: db.keyFile });
    const s = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--compress', 'false'] });
    try {
      for (const p of ['/services/psb-0001', '/api/v1/services', '/static/css/site.css']) {
        const r = await raw(`${s.url}${p}`, { headers: { 'accept-encoding': 'gzip, br' } });
        assert.equal(r.status, 200, p);
        assert.equal(r.headers['content-encoding'], undefined, p);
      }
    } finally {
      await s.stop();
      await db.drop();
    }
  });
});
