// federation-national.test.mjs: the national catalog and national supervision. A hub and two
// halls, Qinghe (the demo catalog, 12 days of history) and Lanshan (its own demo catalog,
// `init --demo --region lanshan`, 4 days: unequal halls), both joined and approved, and a third
// hall whose key and answers this file holds (a server of its own), which serves tampered,
// wrongly signed, unsigned and misaddressed documents before good ones. The hub reads every
// hall's signed catalog feed and statistics each second (fed-directory-period 1). On
// PostgreSQL when the suite runs there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { get, getJson, govhall, htmlText, root, sql, startServer, tempDir, waitFor, writeJsonFile } from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';
import { b64url, now, registerHall } from './federation-fixtures.mjs';

let hub;
let hubUrl;
let qinghe;
let qingheUrl;
let lanshan;
let lanshanUrl;
let probe; // {privateKey, kid}
let probeUrl;
let probeServer;
const probeMode = { catalog: 'good', statistics: 'good' };

async function addClient(id) {
  const r = await govhall(['federation', 'client', 'add', id, '--name', `${id} hall`, '--redirect', `http://127.0.0.1:9/${id}/callback`, '--db', hub.db]);
  assert.equal(r.code, 0, r.stderr);
  return /client_secret: (\S+)/.exec(r.stdout)[1];
}

async function startHall(id, name, secret, initArgs) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const srv = await startServer({ name: `fnat_${id}`, initArgs, extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', url,
    '--fed-hub-url', hubUrl, '--fed-client-id', id, '--fed-client-secret', secret, '--fed-timeout', '3000', '--fed-directory-period', '1'] });
  const r = await govhall(['federation', 'join', '--name', name, '--region', name.replace(/市$/, ''), '--db', srv.db, '--fed-hub-url', hubUrl,
    '--fed-client-id', id, '--public-url', url], { keyFile: srv.keyFile });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await govhall(['federation', 'hall', 'approve', id, '--db', hub.db])).code, 0);
  return { srv, url };
}

/** A JWS of claims signed by key as kid (the way halls sign their documents). */
function jws(claims, key, kid, alg = 'EdDSA') {
  const h = b64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
  const p = b64url(JSON.stringify(claims));
  const sig = alg === 'none' ? '' : b64url(edSign(null, Buffer.from(`${h}.${p}`), key));
  return `${h}.${p}.${sig}`;
}

/** The claims of a token after checking its signature against the hub's directory entry of hall. */
async function verified(token, hall) {
  const dir = await get(`${hubUrl}/.well-known/govhall-directory`);
  const halls = JSON.parse(Buffer.from(dir.body.split('.')[1], 'base64url')).halls;
  const entry = halls.find((h) => h.id === hall);
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  assert.equal(header.alg, 'EdDSA');
  const key = entry.keys.find((k) => k.kid === header.kid);
  assert.ok(key, 'signed by a key the directory lists for the hall');
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' });
  assert.ok(edVerify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, 'base64url')), 'the signature verifies');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

const probeItem = () => ({ code: 'probe-0001', version: 1, department: 'psb', dept_zh: '试点市公安局', dept_en: 'Probe Municipal Public Security Bureau',
  name_zh: '试点专属登记事项', name_en: 'Probe-only registration', keywords: '试点专属', summary_zh: '试点', summary_en: 'probe', online_depth: 3,
  url: `${probeUrl}/services/probe-0001` });
// The probe's figures: large and lopsided, so that averaging rates would differ from pooling them.
const probeDepts = [{ code: 'psb', name_zh: '试点市公安局', name_en: 'Probe Municipal Public Security Bureau', submitted: 900, concluded: 800,
  on_time: 80, online: 700, evals: 400, bad: 300, rect_closed: 50, rect_done: 5 }];

/** What the probe answers for kind in its current mode. */
function probeAnswer(kind, url) {
  const t = now();
  const claims = kind === 'catalog'
    ? { iss: 'probe', kind, iat: t, exp: t + 300, after: url.searchParams.get('after') ?? '', next: 'c1', more: false, items: [probeItem()] }
    : { iss: 'probe', kind, iat: t, exp: t + 300, from: `${new Date().getFullYear()}-01-01`, to: '2099-12-31', departments: probeDepts };
  const other = generateKeyPairSync('ed25519');
  switch (probeMode[kind]) {
    case 'tampered': { // signed, then a figure or a name changed
      const [h, , s] = jws(claims, probe.privateKey, probe.kid).split('.');
      const changed = kind === 'catalog' ? { ...claims, items: [{ ...probeItem(), name_zh: '篡改后的事项' }] }
        : { ...claims, departments: [{ ...probeDepts[0], submitted: 1 }] };
      return `${h}.${b64url(JSON.stringify(changed))}.${s}`;
    }
    case 'tamperedwithdrawal': { // signed with its item, then the item turned into a withdrawal
      const [h, , s] = jws(claims, probe.privateKey, probe.kid).split('.');
      return `${h}.${b64url(JSON.stringify({ ...claims, items: [], withdrawn: [{ code: 'probe-0001', version: 1 }] }))}.${s}`;
    }
    case 'withdrawn': return jws({ ...claims, items: [], withdrawn: [{ code: 'probe-0001', version: 1 }] }, probe.privateKey, probe.kid);
    case 'wrongkey': return jws(claims, other.privateKey, probe.kid);
    case 'unsigned': return jws(claims, probe.privateKey, probe.kid, 'none');
    case 'plain': return JSON.stringify(claims);
    case 'otherhall': return jws({ ...claims, iss: 'qinghe' }, probe.privateKey, probe.kid);
    case 'expired': return jws({ ...claims, iat: t - 2000, exp: t - 1000 }, probe.privateKey, probe.kid);
    case 'otherpage': return jws({ ...claims, after: 'an-older-cursor' }, probe.privateKey, probe.kid); // a page played back
    case 'inconsistent': return jws({ ...claims, departments: [{ ...probeDepts[0], on_time: 801 }] }, probe.privateKey, probe.kid);
    default: return jws(claims, probe.privateKey, probe.kid);
  }
}

before(async () => {
  const hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  hub = await startServer({ name: 'fnat_hub', demo: false, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub',
    '--fed-directory-period', '1', '--fed-timeout', '3000'] });
  const qs = await addClient('qinghe');
  const ls = await addClient('lanshan');
  await addClient('probe');
  [{ srv: qinghe, url: qingheUrl }, { srv: lanshan, url: lanshanUrl }] = await Promise.all([
    startHall('qinghe', '清河市', qs, ['--history', '12']),
    startHall('lanshan', '兰山市', ls, ['--region', 'lanshan', '--history', '4']),
  ]);
  const probePort = await freePort();
  probeUrl = `http://127.0.0.1:${probePort}`;
  probeServer = http.createServer((req, res) => {
    const url = new URL(req.url, probeUrl);
    const kind = url.pathname === '/federation/catalog' ? 'catalog' : url.pathname === '/federation/statistics' ? 'statistics' : null;
    if (!kind) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/jwt' }).end(probeAnswer(kind, url));
  });
  await new Promise((resolve) => probeServer.listen(probePort, '127.0.0.1', resolve));
  probe = await registerHall(hubUrl, 'probe', { name: '试点市', region: '试点', baseUrl: probeUrl });
  probeMode.catalog = 'tampered';
  probeMode.statistics = 'tampered';
  assert.equal((await govhall(['federation', 'hall', 'approve', 'probe', '--db', hub.db])).code, 0);
  // Both halls' catalogs at the hub.
  await waitFor(async () => {
    const r = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('居民身份证首次申领')}`);
    return r.json.services[0]?.variants.length === 2;
  }, { what: 'the hub to hold both halls\' catalogs' });
});

after(async () => {
  await Promise.allSettled([hub?.stop(), qinghe?.stop(), lanshan?.stop()]);
  await new Promise((resolve) => (probeServer ? probeServer.close(resolve) : resolve()));
});

describe('a hall\'s signed catalog feed', () => {
  let last; // the cursor after the whole feed
  test('is signed by the hall\'s directory key, paged and incremental by version', async () => {
    const services = JSON.parse(readFileSync(path.join(root, 'data/catalog/services.json'), 'utf8'));
    const seen = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const r = await get(`${qingheUrl}/federation/catalog?limit=50&after=${encodeURIComponent(after)}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /application\/jwt/);
      const c = await verified(r.body, 'qinghe');
      assert.equal(c.iss, 'qinghe');
      assert.equal(c.kind, 'catalog');
      assert.equal(c.after, after);
      assert.ok(c.exp > c.iat && c.exp - c.iat <= 600);
      assert.ok(c.items.length <= 50);
      for (const it of c.items) {
        assert.equal(it.url, `${qingheUrl}/services/${it.code}`);
        const src = services.find((x) => x.code === it.code);
        assert.equal(it.materials, src.materials.map((m) => m.name_zh).join(' '), `${it.code}: its materials`);
        seen.push(`${it.code}@${it.version}`);
      }
      after = c.next;
      if (!c.more) break;
      assert.equal(c.items.length, 50, 'a page that says more is full');
    }
    assert.equal(new Set(seen).size, seen.length, 'no item version twice');
    assert.deepEqual(seen.map((s) => s.split('@')[0]).sort(), services.map((s) => s.code).sort());
    // Nothing new after the end.
    const rest = await verified((await get(`${qingheUrl}/federation/catalog?after=${encodeURIComponent(after)}`)).body, 'qinghe');
    assert.deepEqual([rest.items.length, rest.more, rest.next], [0, false, after]);
    last = after;
  });

  test('a new version of an item is the only thing after the cursor, and reaches the national catalog', async () => {
    const services = JSON.parse(readFileSync(path.join(root, 'data/catalog/services.json'), 'utf8'));
    const item = { ...services.find((s) => s.code === 'psb-0009'), name_zh: '无犯罪记录证明开具（新版）' };
    const dir = await tempDir('govhall-fnat-');
    const file = await writeJsonFile(dir.path, 'catalog.json', { services: [item] });
    const r = await govhall(['import', 'catalog', file, '--db', qinghe.db], { keyFile: qinghe.keyFile });
    assert.equal(r.code, 0, r.stderr);
    await dir.remove();
    const c = await verified((await get(`${qingheUrl}/federation/catalog?after=${encodeURIComponent(last)}`)).body, 'qinghe');
    assert.deepEqual(c.items.map((i) => [i.code, i.version, i.name_zh]), [['psb-0009', 2, '无犯罪记录证明开具（新版）']]);
    const v = await waitFor(async () => {
      const s = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('无犯罪记录证明')}`);
      return s.json.services.find((x) => x.code === 'psb-0009')?.variants.find((x) => x.hall === 'qinghe' && x.version === 2);
    }, { what: 'the new version at the hub' });
    assert.equal(v.name, '无犯罪记录证明开具（新版）');
  });

  test('each entry written after a cursor is after it, whatever its code and however soon after the last', async () => {
    // Imports one after another, each code lower than the one before (a cursor that ordered by
    // the second written, then the code, passed over a lower code written in the same second).
    const services = JSON.parse(readFileSync(path.join(root, 'data/catalog/services.json'), 'utf8'));
    const codes = ['jus-0005', 'jus-0004', 'jus-0003', 'gsa-0004', 'gsa-0003', 'gsa-0002'];
    const dir = await tempDir('govhall-fnat-order-');
    const end = async (after) => {
      for (let more = true; more;) {
        const c = await verified((await get(`${qingheUrl}/federation/catalog?limit=200&after=${encodeURIComponent(after)}`)).body, 'qinghe');
        after = c.next;
        more = c.more;
      }
      return after;
    };
    let cursor = await end('');
    for (const code of codes) {
      const item = { ...services.find((x) => x.code === code), conditions_en: `Revised conditions of ${code}.` };
      const r = await govhall(['import', 'catalog', await writeJsonFile(dir.path, `${code}.json`, { services: [item] }), '--db', qinghe.db],
        { keyFile: qinghe.keyFile });
      assert.equal(r.code, 0, r.stderr);
      const c = await verified((await get(`${qingheUrl}/federation/catalog?after=${encodeURIComponent(cursor)}`)).body, 'qinghe');
      assert.deepEqual([c.items.map((i) => `${i.code}@${i.version}`), c.withdrawn], [[`${code}@2`], []], `after importing ${code}`);
      cursor = c.next;
    }
    await dir.remove();
    // And the hub has every one of them.
    await waitFor(async () => {
      const held = await sql(hub.db, `SELECT code || '@' || version FROM fed_nat_items WHERE hall_id = 'qinghe' AND code IN (${codes.map((x) => `'${x}'`).join(', ')}) ORDER BY 1`);
      return held.split('\n').filter(Boolean).every((x) => x.endsWith('@2')) && held.split('\n').filter(Boolean).length === codes.length;
    }, { what: 'every new version at the hub' });
  });

  test('bad paging is refused; the feed is a hall\'s, not the hub\'s', async () => {
    assert.equal((await get(`${qingheUrl}/federation/catalog?after=not-a-cursor!`)).status, 400);
    for (const bad of ['-1', '01', '1.5', '1234567890123456789', '12 ']) {
      assert.equal((await get(`${qingheUrl}/federation/catalog?after=${encodeURIComponent(bad)}`)).status, 400, bad);
    }
    assert.equal((await get(`${qingheUrl}/federation/catalog?limit=0`)).status, 400);
    assert.equal((await get(`${qingheUrl}/federation/catalog?limit=201`)).status, 400);
    assert.equal((await get(`${hubUrl}/federation/catalog`)).status, 404);
    assert.equal((await get(`${hubUrl}/federation/statistics`)).status, 404);
    assert.equal((await getJson(`${qingheUrl}/api/v1/national/statistics`)).status, 404);
  });
});

describe('documents the hub refuses', () => {
  test('tampered, wrongly signed, unsigned, misaddressed or expired feeds and statistics change nothing', async () => {
    const q = `${hubUrl}/api/v1/national/search?q=${encodeURIComponent('试点专属登记事项')}`;
    const probeRow = async () => (await getJson(`${hubUrl}/api/v1/national/statistics`)).json.rows.find((x) => x.key === 'probe');
    for (const [mode, statsMode] of [['tampered'], ['wrongkey'], ['unsigned'], ['plain'], ['otherhall'], ['expired'],
      ['otherpage', 'inconsistent']]) {
      probeMode.catalog = mode;
      probeMode.statistics = statsMode ?? mode;
      const from = hub.stderr.length;
      await waitFor(() => {
        const lines = hub.stderr.slice(from);
        return lines.some((l) => l.includes('the catalog feed of probe is refused')) && lines.some((l) => l.includes('the statistics of probe are refused'));
      }, { what: `the hub to refuse the probe's ${mode} documents` });
      const found = (await getJson(q)).json;
      assert.equal(found.region, '试点', 'the probe\'s region is a place of the directory');
      assert.deepEqual(found.services, [], `nothing of a ${mode} feed is taken`);
      assert.equal(await probeRow(), undefined, `nothing of ${mode} statistics is taken`);
    }
    // The same documents, well signed, are taken.
    probeMode.catalog = 'good';
    probeMode.statistics = 'good';
    const s = await waitFor(async () => ((await getJson(q)).json.services[0]), { what: 'the probe\'s good feed at the hub' });
    assert.deepEqual(s.variants.map((v) => [v.hall, v.name]), [['probe', '试点专属登记事项']]);
    const row = await waitFor(probeRow, { what: 'the probe\'s good statistics at the hub' });
    assert.equal(row.submitted, 900);
    // A hall taken out of the directory leaves the national pages; approved again, it returns.
    assert.equal((await govhall(['federation', 'hall', 'refuse', 'probe', '--db', hub.db])).code, 0);
    const probeItems = async () => (await getJson(q)).json.services.filter((x) => x.variants.some((v) => v.hall === 'probe')).length;
    await waitFor(async () => (await probeItems()) === 0 && !(await probeRow()), { what: 'the refused hall out of the national pages' });
    // Its items dropped from the hub's copy, and its feed to be read again from its start.
    await waitFor(async () => (await sql(hub.db, "SELECT count(*) FROM fed_nat_items WHERE hall_id = 'probe'")) === '0'
      && (await sql(hub.db, "SELECT feed_cursor FROM fed_nat_sources WHERE hall_id = 'probe'")) === '', { what: 'the refused hall\'s items dropped' });
    assert.equal((await govhall(['federation', 'hall', 'approve', 'probe', '--db', hub.db])).code, 0);
    await waitFor(async () => (await probeItems()) === 1 && (await probeRow()), { what: 'the probe back' });
  });
});

describe('the national search', () => {
  test('one service per national item code, a variant per hall, each linking to its hall\'s guide', async () => {
    const r = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('居民身份证首次申领')}`);
    assert.equal(r.status, 200);
    const s = r.json.services[0];
    assert.equal(s.code, 'psb-0001');
    assert.deepEqual(s.variants.map((v) => v.hall).sort(), ['lanshan', 'qinghe']);
    for (const v of s.variants) {
      assert.equal(v.url, `${v.hall === 'qinghe' ? qingheUrl : lanshanUrl}/services/psb-0001`);
      assert.equal((await get(v.url)).status, 200, 'the guide exists at its hall');
    }
    assert.equal(new Set(r.json.services.map((x) => x.code)).size, r.json.services.length, 'each code once');
    assert.deepEqual(s.variants.map((v) => v.region).sort(), ['兰山', '清河']);
    // An item only Qinghe offers has one variant; one only Lanshan offers, one too.
    const passport = (await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('普通护照签发')}`)).json.services.find((x) => x.code === 'eea-0001');
    assert.deepEqual(passport.variants.map((v) => v.hall), ['qinghe']);
  });

  test('a query naming a place finds that region\'s items: 兰山 户口迁移, 在兰山办, in Lanshan', async () => {
    const named = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('兰山 户口迁入')}`);
    assert.equal(named.json.region, '兰山');
    assert.ok(named.json.services.length > 0);
    assert.ok(named.json.services.every((s) => s.variants.every((v) => v.hall === 'lanshan')));
    assert.ok(named.json.services.some((s) => s.code === 'psb-0007'), '户口迁入 at Lanshan');
    const tea = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('在兰山办民宿登记')}`);
    assert.equal(tea.json.services[0].code, 'ctb-0101', 'Lanshan\'s own item first');
    const en = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('identity card in Lanshan')}&lang=en`);
    assert.equal(en.json.region, '兰山');
    assert.ok(en.json.services.some((s) => s.code === 'psb-0001'));
    assert.ok(en.json.services.every((s) => s.variants.every((v) => v.hall === 'lanshan')));
    // Without a place: both regions.
    const both = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('户口迁入')}`);
    assert.equal(both.json.region, null);
    assert.deepEqual(both.json.services.find((s) => s.code === 'psb-0007').variants.map((v) => v.hall).sort(), ['lanshan', 'qinghe']);
    // Only a place: its services.
    const only = await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent('在兰山办')}&limit=50`);
    assert.equal(only.json.region, '兰山');
    assert.ok(only.json.total > 50 && only.json.services.length === 50);
  });

  test('the page, and bad requests answered 400', async () => {
    const p = await get(`${hubUrl}/national/search?q=${encodeURIComponent('兰山 民宿')}`);
    assert.equal(p.status, 200);
    assert.match(p.body, /data-code="ctb-0101"/);
    assert.match(p.body, new RegExp(`href="${lanshanUrl}/services/ctb-0101"`));
    // At the hub an item applied for online is applied for right there (全程网办 at the hub).
    assert.match(p.body, /href="\/federation\/apply\/lanshan\/ctb-0101"/);
    // A hall showing the hub's answer links to the guides only.
    const atHall = await get(`${qingheUrl}/national/search?q=${encodeURIComponent('兰山 民宿')}`);
    assert.equal(atHall.status, 200);
    assert.match(atHall.body, /data-code="ctb-0101"/);
    assert.doesNotMatch(atHall.body, /\/federation\/apply\//);
    assert.equal((await getJson(`${hubUrl}/api/v1/national/search?q=x&limit=0`)).status, 400);
    assert.equal((await getJson(`${hubUrl}/api/v1/national/search?q=${'x'.repeat(1001)}`)).status, 400);
    assert.equal((await getJson(`${hubUrl}/api/v1/national/search?q=x&region=`)).status, 400);
  });
});

describe('a hall\'s search', () => {
  test('offers the services of a region the citizen names, through the hub; not of its own or none', async () => {
    await waitFor(async () => {
      const d = await getJson(`${qingheUrl}/federation/directory`);
      return d.status === 200 && d.json.halls.some((h) => h.id === 'lanshan');
    }, { what: 'Qinghe to hold the directory with Lanshan' });
    const q = '兰山 户口迁入';
    const page = await get(`${qingheUrl}/search?q=${encodeURIComponent(q)}`);
    assert.equal(page.status, 200);
    const href = htmlText(/class="notice search-elsewhere"><a href="([^"]+)"/.exec(page.body)?.[1] ?? '');
    assert.equal(href, `/national/search?q=${encodeURIComponent(q)}`);
    const there = await get(`${qingheUrl}${href}`);
    assert.equal(there.status, 200);
    assert.match(there.body, /data-code="psb-0007"/);
    assert.match(there.body, new RegExp(`href="${lanshanUrl}/services/psb-0007"`));
    assert.doesNotMatch(there.body, new RegExp(`href="${qingheUrl}/services/`), 'only Lanshan\'s');
    const api = await getJson(`${qingheUrl}/api/v1/national/search?q=${encodeURIComponent(q)}`);
    assert.deepEqual(api.json, (await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent(q)}`)).json);
    assert.equal((await getJson(`${qingheUrl}/api/v1/national/search?q=x&limit=0`)).status, 400);
    for (const plain of ['户口迁入', '清河 户口迁入']) {
      const own = await get(`${qingheUrl}/search?q=${encodeURIComponent(plain)}`);
      assert.doesNotMatch(own.body, /search-elsewhere/, `${plain}: no other region named`);
    }
    const en = await get(`${qingheUrl}/search?q=${encodeURIComponent('passport in Lanshan')}&lang=en`);
    assert.match(en.body, /search-elsewhere/);
  });
});

describe('national supervision', () => {
  const pairs = [['submitted', 'submitted'], ['concluded', 'concluded'], ['on_time', 'on_time'], ['online', 'online'],
    ['evals', 'evaluations'], ['bad', 'bad_reviews'], ['rect_closed', 'rectifications_closed'], ['rect_done', 'rectified']];
  const rate = (n, d) => (d ? n / d : null);

  test('a hall publishes its public statistics by department, signed', async () => {
    const c = await verified((await get(`${qingheUrl}/federation/statistics`)).body, 'qinghe');
    assert.equal(c.kind, 'statistics');
    const pub = (await getJson(`${qingheUrl}/api/v1/stats`)).json;
    for (const d of pub.by_department) {
      const mine = c.departments.find((x) => x.code === d.code);
      for (const [k, p] of pairs) assert.equal(mine[k], d[p], `${d.code} ${k}`);
    }
  });

  test('national figures equal the halls\' combined: counts summed, rates from summed parts, never averaged', async () => {
    const own = {};
    for (const [id, url] of [['qinghe', qingheUrl], ['lanshan', lanshanUrl]]) own[id] = (await getJson(`${url}/api/v1/stats`)).json.totals;
    assert.notEqual(own.qinghe.submitted, own.lanshan.submitted, 'the halls are unequal');
    const r = await waitFor(async () => {
      const x = (await getJson(`${hubUrl}/api/v1/national/statistics?by=hall`)).json;
      return x.rows.length === 3 && ['qinghe', 'lanshan'].every((id) => x.rows.find((y) => y.key === id).submitted === own[id].submitted) ? x : null;
    }, { what: 'the hub to hold the halls\' current figures' });
    for (const id of ['qinghe', 'lanshan']) {
      const row = r.rows.find((x) => x.key === id);
      for (const [k, p] of pairs) assert.equal(row[k], own[id][p], `${id} ${k}`);
    }
    for (const [k] of pairs) assert.equal(r.total[k], r.rows.reduce((s, x) => s + x[k], 0), `national ${k} is the sum`);
    const t = r.total;
    const want = { online_rate: rate(t.online, t.concluded), on_time_rate: rate(t.on_time, t.concluded),
      satisfaction_rate: rate(t.evals - t.bad, t.evals), rectification_rate: rate(t.rect_done, t.rect_closed) };
    let compared = 0;
    for (const [k, v] of Object.entries(want)) {
      assert.ok(Math.abs(t[k] - v) < 1e-9, `${k}: ${t[k]} is ${v}`);
      const rated = r.rows.filter((x) => x[k] !== null);
      if (rated.length < 2) continue; // one hall's rate is the national one
      const mean = rated.reduce((s, x) => s + x[k], 0) / rated.length;
      assert.ok(Math.abs(t[k] - mean) > 1e-3, `${k} is not the mean of the halls' rates (${mean})`);
      compared++;
    }
    assert.ok(compared >= 2, 'at least two rates come from several halls');
    // Ranked: by applications by default, by a rate when asked (halls without one last).
    assert.deepEqual(r.rows.map((x) => x.rank), [1, 2, 3]);
    assert.ok(r.rows[0].submitted >= r.rows[1].submitted && r.rows[1].submitted >= r.rows[2].submitted);
    const byRate = (await getJson(`${hubUrl}/api/v1/national/statistics?by=hall&sort=on_time_rate`)).json.rows;
    for (let i = 1; i < byRate.length; i++) assert.ok(byRate[i].on_time_rate === null || byRate[i - 1].on_time_rate >= byRate[i].on_time_rate);
    // By department: the same department of every hall is one row, summed.
    const d = (await getJson(`${hubUrl}/api/v1/national/statistics?by=department`)).json;
    const psb = d.rows.find((x) => x.key === 'psb');
    assert.equal(psb.name, '公安局');
    const halls = await Promise.all([qingheUrl, lanshanUrl].map(async (u) => (await getJson(`${u}/api/v1/stats`)).json.by_department.find((x) => x.code === 'psb')));
    assert.equal(psb.submitted, halls[0].submitted + halls[1].submitted + probeDepts[0].submitted);
    assert.equal(d.total.submitted, t.submitted);
  });

  test('the page, CSV and XLSX; bad requests answered 400', async () => {
    const x = (await getJson(`${hubUrl}/api/v1/national/statistics?by=hall`)).json;
    const page = await get(`${hubUrl}/national/statistics?by=hall`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<tr class="total">/);
    const csv = await get(`${hubUrl}/national/statistics/export?by=hall&format=csv&lang=en`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    const national = csv.body.split(/\r?\n/).find((l) => l.includes('National'));
    assert.ok(national.split(',').map((c) => c.replace(/"/g, '')).includes(String(x.total.submitted)), national);
    const xlsx = await fetch(`${hubUrl}/national/statistics/export?by=department&format=xlsx`);
    assert.equal(xlsx.status, 200);
    assert.equal(Buffer.from(await xlsx.arrayBuffer()).subarray(0, 2).toString(), 'PK');
    assert.equal((await getJson(`${hubUrl}/api/v1/national/statistics?by=city`)).status, 400);
    assert.equal((await getJson(`${hubUrl}/api/v1/national/statistics?sort=average`)).status, 400);
    assert.equal((await get(`${hubUrl}/national/statistics/export?format=pdf`)).status, 400);
  });
});

describe('withdrawals', () => {
  const lanshanServices = () => JSON.parse(readFileSync(path.join(root, 'data/regions/lanshan/catalog/services.json'), 'utf8'));
  const hubSearch = async (q) => (await getJson(`${hubUrl}/api/v1/national/search?q=${encodeURIComponent(q)}`)).json;
  const variantsOf = (ans, code) => ans.services.find((x) => x.code === code)?.variants ?? [];
  const importAt = async (srv, doc) => {
    const dir = await tempDir('govhall-fnat-wd-');
    const file = await writeJsonFile(dir.path, 'catalog.json', doc);
    const r = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
    await dir.remove();
    return r;
  };

  test('an item withdrawn at Lanshan leaves the national catalog, its search and the places offered; a new version brings it back', async () => {
    // Lanshan's own item and one it shares with Qinghe.
    const own = 'ctb-0101';
    const shared = 'psb-0001';
    await waitFor(async () => variantsOf(await hubSearch('乡村民宿经营登记备案'), own).length === 1, { what: 'Lanshan\'s own item at the hub' });
    assert.deepEqual(variantsOf(await hubSearch('居民身份证首次申领'), shared).map((v) => v.hall).sort(), ['lanshan', 'qinghe']);
    // Where the feed stands now.
    let cursor = '';
    for (let more = true; more;) {
      const c = await verified((await get(`${lanshanUrl}/federation/catalog?limit=200&after=${encodeURIComponent(cursor)}`)).body, 'lanshan');
      cursor = c.next;
      more = c.more;
    }
    // Refused with the fix named: an unknown code, one imported by the same file, one listed twice.
    const bad = await importAt(lanshan, { services: [lanshanServices().find((x) => x.code === own)], withdrawn: ['no-such-item', own, shared, shared] });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /withdrawn\[0\]: unknown service item "no-such-item"/);
    assert.match(bad.stderr, /withdrawn\[1\]: "ctb-0101" is also among this file's services/);
    assert.match(bad.stderr, /withdrawn\[3\]: listed twice/);
    const r = await importAt(lanshan, { withdrawn: [own, shared] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 withdrawn/);
    assert.equal((await get(`${lanshanUrl}/services/${own}`)).status, 404, 'no longer offered at Lanshan');
    // The feed says so, signed, after the cursor: the two withdrawals and nothing else.
    const c = await verified((await get(`${lanshanUrl}/federation/catalog?after=${encodeURIComponent(cursor)}`)).body, 'lanshan');
    assert.deepEqual(c.items, []);
    assert.deepEqual(c.withdrawn.map((w) => w.code).sort(), [own, shared]);
    assert.ok(c.withdrawn.every((w) => w.version === 1));
    const rest = await verified((await get(`${lanshanUrl}/federation/catalog?after=${encodeURIComponent(c.next)}`)).body, 'lanshan');
    assert.deepEqual([rest.items.length, rest.withdrawn.length, rest.next], [0, 0, c.next], 'nothing after a withdrawal cursor');
    // The hub drops them: its search, a place named, and a hall's offer through the hub.
    await waitFor(async () => variantsOf(await hubSearch('乡村民宿经营登记备案'), own).length === 0, { what: 'the withdrawn item out of the hub' });
    assert.deepEqual(variantsOf(await hubSearch('居民身份证首次申领'), shared).map((v) => v.hall), ['qinghe']);
    assert.equal(variantsOf(await hubSearch('在兰山办民宿登记'), own).length, 0);
    assert.ok(!(await hubSearch('在兰山办')).services.some((x) => x.code === own || x.code === shared));
    const offered = await getJson(`${qingheUrl}/api/v1/national/search?q=${encodeURIComponent('在兰山办民宿登记')}`);
    assert.equal(offered.status, 200);
    assert.equal(variantsOf(offered.json, own).length, 0);
    // Withdrawn once: again is refused.
    assert.match((await importAt(lanshan, { withdrawn: [own] })).stderr, /unknown service item "ctb-0101" \(or withdrawn already\)/);
    // A new version brings it back, as version 2.
    const back = await importAt(lanshan, { services: lanshanServices().filter((x) => x.code === own) });
    assert.equal(back.code, 0, back.stderr);
    const v = await waitFor(async () => variantsOf(await hubSearch('乡村民宿经营登记备案'), own)[0], { what: 'the item back at the hub' });
    assert.deepEqual([v.hall, v.version], ['lanshan', 2]);
    assert.equal((await get(`${lanshanUrl}/services/${own}`)).status, 200);
    // The log covers the withdrawal: the audit passes.
    const audit = await govhall(['audit', '--db', lanshan.db], { keyFile: lanshan.keyFile });
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  });

  test('a withdrawal is taken only well signed: a tampered one changes nothing', async () => {
    const q = `${hubUrl}/api/v1/national/search?q=${encodeURIComponent('试点专属登记事项')}`;
    const probeItems = async () => (await getJson(q)).json.services.filter((x) => x.variants.some((v) => v.hall === 'probe')).length;
    probeMode.catalog = 'good';
    await waitFor(async () => (await probeItems()) === 1, { what: 'the probe\'s item at the hub' });
    probeMode.catalog = 'tamperedwithdrawal';
    const from = hub.stderr.length;
    await waitFor(() => hub.stderr.slice(from).some((l) => l.includes('the catalog feed of probe is refused')),
      { what: 'the hub to refuse the tampered withdrawal' });
    assert.equal(await probeItems(), 1, 'the item stays');
    probeMode.catalog = 'withdrawn';
    await waitFor(async () => (await probeItems()) === 0, { what: 'the well-signed withdrawal taken' });
    probeMode.catalog = 'good';
    await waitFor(async () => (await probeItems()) === 1, { what: 'the item again' });
  });
});
