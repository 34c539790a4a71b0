// Public statistics (社会监督): every figure of /api/v1/stats checked against counts computed
// here by SQL over the raw rows (accounts, applications, application_events) after real
// registrations and applications through the API; the figures survive a restart and
// `govhall stats rebuild`; the page (both languages) with accessible SVG charts and tables;
// CSV and XLSX exports; bad ranges, periods, tables and formats answered with a 400 a citizen
// understands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, apiLogin, bearer, demoCatalog, freshDb, freshIp, get, getJson, govhall, initDb, newIdNumber, newPhone,
  newUscc, serve, sql,
} from './helpers.mjs';

let db;
let srv;
const tok = {};
const catalog = demoCatalog();
const ITEM = catalog.services.find((s) => s.code === 'psb-0001')
  ?? catalog.services.find((s) => s.department === 'psb' && s.online_depth >= 3 && s.promised_limit_days >= 10);

const cstDay = (ms = Date.now()) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
const TODAY = cstDay();
const RANGE = `from=${TODAY.slice(0, 4)}-01-01&to=${TODAY}&period=month`;

before(async () => {
  db = await freshDb('stats');
  await initDb(db.url, { keyFile: db.keyFile });
  srv = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--trust-proxy', 'true'] });
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, psb: DEMO.staffA })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

function formFor(item) {
  const v = {};
  for (const f of item.form) {
    switch (f.type) {
      case 'id_number': v[f.key] = DEMO.citizen.id_number; break;
      case 'phone': v[f.key] = DEMO.citizen.phone; break;
      case 'uscc': v[f.key] = DEMO.enterprise.uscc; break;
      case 'select': v[f.key] = f.options[0].value; break;
      case 'date': v[f.key] = '2026-01-05'; break;
      case 'number': v[f.key] = '3'; break;
      case 'email': v[f.key] = 'zhang@example.com'; break;
      case 'address': v[f.key] = '清河市和平路 1 号'; break;
      case 'textarea': v[f.key] = '情况说明'; break;
      case 'file': break;
      default: v[f.key] = '张三';
    }
  }
  return v;
}

function pdf(tag = Math.random().toString(36).slice(2)) {
  return Buffer.from(`%PDF-1.4\n% ${tag}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n`);
}

async function upload(token) {
  const fd = new FormData();
  fd.append('file', new Blob([pdf()], { type: 'application/pdf' }), 'scan.pdf');
  const res = await fetch(`${srv.url}/api/v1/attachments`, {
    method: 'POST', body: fd, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() },
  });
  assert.equal(res.status, 201);
  return (await res.json()).id;
}

let keySeq = 0;
async function applied(token) {
  const materials = [];
  for (const [i, m] of ITEM.materials.entries()) if (m.required) materials.push({ slot: i, attachments: [await upload(token)] });
  const r = await bearer(`${srv.url}/api/v1/services/${ITEM.code}/applications`, token, {
    method: 'POST', json: { form: formFor(ITEM), materials, submit: true, idempotency_key: `st-${process.pid}-${++keySeq}` },
  });
  assert.equal(r.status, 201, r.body);
  return r.json.number;
}

async function act(number, action, body = {}) {
  const r = await bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, tok.psb, { method: 'POST', json: body });
  assert.equal(r.status, 200, `${action}: ${r.body}`);
}

/** Rows of `a|b|c|n` from the test database. */
async function rows(statement) {
  const out = await sql(db.url, statement);
  return out ? out.split('\n').map((l) => l.split('|')) : [];
}

const ONLINE = "a.channel IN ('web', 'app', 'miniprogram', 'open311') AND NOT EXISTS (SELECT 1 FROM application_events e "
  + "JOIN accounts s ON s.id = e.actor_id WHERE e.application_id = a.id AND s.kind = 'staff' AND e.action IN ('submit', 'resubmit'))";

/** Every count of the range, computed from the raw rows. */
async function expected(from, to) {
  const t0 = Date.parse(`${from}T00:00:00+08:00`) / 1000;
  const t1 = Date.parse(`${to}T00:00:00+08:00`) / 1000 + 86400;
  const zero = () => ({ submitted: 0, concluded: 0, on_time: 0, online: 0 });
  const x = { total: zero(), dept: {}, item: {}, channel: {}, regs: { individual: 0, enterprise: 0 } };
  const bump = (d, i, c, k, n) => {
    for (const [map, key] of [[x.dept, d], [x.item, i], [x.channel, c]]) (map[key] ??= zero())[k] += n;
    x.total[k] += n;
  };
  for (const [d, i, c, n] of await rows(`SELECT department, item_code, channel, COUNT(*) FROM applications WHERE submitted_at >= ${t0} AND submitted_at < ${t1} GROUP BY department, item_code, channel`)) bump(d, i, c, 'submitted', Number(n));
  for (const [d, i, c, n, ontime, online] of await rows(`SELECT a.department, a.item_code, a.channel, COUNT(*), SUM(CASE WHEN (a.completed_at + 28800) / 86400 <= a.due_day THEN 1 ELSE 0 END), SUM(CASE WHEN ${ONLINE} THEN 1 ELSE 0 END) FROM applications a WHERE a.state IN ('completed', 'denied') AND a.completed_at >= ${t0} AND a.completed_at < ${t1} GROUP BY a.department, a.item_code, a.channel`)) {
    bump(d, i, c, 'concluded', Number(n));
    bump(d, i, c, 'on_time', Number(ontime));
    bump(d, i, c, 'online', Number(online));
  }
  for (const [kind, n] of await rows(`SELECT kind, COUNT(*) FROM accounts WHERE kind IN ('individual', 'enterprise') AND created_at >= ${t0} AND created_at < ${t1} GROUP BY kind`)) x.regs[kind] = Number(n);
  x.registered = { individual: 0, enterprise: 0 };
  for (const [kind, n] of await rows(`SELECT kind, COUNT(*) FROM accounts WHERE kind IN ('individual', 'enterprise') AND created_at < ${t1} GROUP BY kind`)) x.registered[kind] = Number(n);
  return x;
}

function checkCounts(got, want, where) {
  for (const k of ['submitted', 'concluded', 'on_time', 'online']) assert.equal(got[k], want?.[k] ?? 0, `${where}.${k}`);
  const rate = (n, d) => (d ? Math.round((n / d) * 10000) / 10000 : null);
  assert.equal(got.on_time_rate, rate(want?.on_time ?? 0, want?.concluded ?? 0), `${where}.on_time_rate`);
  assert.equal(got.online_rate, rate(want?.online ?? 0, want?.concluded ?? 0), `${where}.online_rate`);
}

async function checkAll(query) {
  const r = await getJson(`${srv.url}/api/v1/stats?${query}`);
  assert.equal(r.status, 200, r.body);
  const j = r.json;
  const x = await expected(j.range.from, j.range.to);
  checkCounts(j.totals, x.total, 'totals');
  assert.deepEqual(
    { individual: j.totals.registrations.individual, enterprise: j.totals.registrations.enterprise },
    x.regs,
  );
  assert.equal(j.totals.registrations.total, x.regs.individual + x.regs.enterprise);
  assert.deepEqual(j.registered, { ...x.registered, total: x.registered.individual + x.registered.enterprise, as_of: j.range.to });
  for (const [list, map] of [[j.by_department, x.dept], [j.by_item, x.item], [j.by_channel, x.channel]]) {
    for (const row of list) checkCounts(row, map[row.code], row.code);
    for (const code of Object.keys(map)) assert.ok(list.some((row) => row.code === code), `row for ${code}`);
  }
  // The series adds up to the totals, and each of its buckets matches the raw rows of its days.
  let sub = 0;
  for (const b of j.series) {
    const bx = await expected(b.from, b.to);
    checkCounts(b, bx.total, `series ${b.label}`);
    assert.equal(b.registrations.individual, bx.regs.individual);
    sub += b.submitted;
  }
  assert.equal(sub, j.totals.submitted);
  return j;
}

describe('figures', () => {
  test('match the raw rows after registrations and applications', async () => {
    const before = await checkAll(RANGE);
    // Two registrations (the accounts trigger counts them in the account's transaction).
    const n = Math.floor(Math.random() * 100000);
    const ind = { name: '王小明', id_number: newIdNumber(n), phone: newPhone(), password: `Lantern river ${n} maple` };
    const ent = { name: '清河统计有限公司', uscc: newUscc(n), legal_rep: '赵大海', phone: newPhone(), password: `Harbour bridge ${n} kite` };
    assert.equal((await bearer(`${srv.url}/api/v1/accounts/individual`, null, { method: 'POST', json: ind })).status, 202);
    assert.equal((await bearer(`${srv.url}/api/v1/accounts/enterprise`, null, { method: 'POST', json: ent })).status, 202);
    await apiLogin(srv.url, ind.phone, ind.password); // registration is done once the account logs in
    await apiLogin(srv.url, ent.phone, ent.password);
    // Applications: one completed, one denied, one still running.
    const done = await applied(tok.a);
    for (const a of ['accept', 'start_review', 'approve', 'complete']) await act(done, a);
    const denied = await applied(tok.a);
    await act(denied, 'accept');
    await act(denied, 'start_review');
    await act(denied, 'deny', { reason: '材料不符合要求' });
    await applied(tok.a);
    const j = await checkAll(RANGE);
    assert.equal(j.totals.submitted, before.totals.submitted + 3);
    assert.equal(j.totals.concluded, before.totals.concluded + 2);
    assert.equal(j.totals.registrations.total, before.totals.registrations.total + 2);
    assert.equal(j.totals.handling_workdays, 0); // accepted and concluded the same day
    const psb = j.by_department.find((d) => d.code === 'psb');
    assert.equal(psb.on_time_rate, 1);
    assert.equal(typeof psb.name, 'string');
    // Other groupings and ranges agree with the raw rows too.
    await checkAll(`from=${TODAY}&to=${TODAY}`);
    await checkAll(`from=${TODAY.slice(0, 4)}-01-01&to=${TODAY}&period=week`);
    await checkAll(`from=2020-01-01&to=${TODAY}&period=year`);
  });

  test('stay right across a restart and a rebuild', async () => {
    const a = (await getJson(`${srv.url}/api/v1/stats?${RANGE}`)).json;
    await srv.stop();
    const r = await govhall(['stats', 'rebuild', '--db', db.url], { keyFile: db.keyFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /statistics rebuilt/);
    srv = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--trust-proxy', 'true'] });
    const b = (await getJson(`${srv.url}/api/v1/stats?${RANGE}`)).json;
    assert.deepEqual(b, a);
    tok.psb = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
    tok.a = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  });

  test('bad ranges are refused plainly', async () => {
    for (const [q, re] of [['from=2026-02-30', /YYYY-MM-DD/], ['from=2026-05-01&to=2026-04-01', /start date/],
      ['period=fortnight', /day, week, month or year/], ['from=2000-01-01&to=2026-01-01&period=day', /400 periods/]]) {
      const r = await getJson(`${srv.url}/api/v1/stats?${q}&lang=en`);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.error.code, 'bad_request');
      assert.match(r.json.error.detail, re);
    }
    const page = await get(`${srv.url}/stats?from=nope`);
    assert.equal(page.status, 400);
    assert.match(page.body, /YYYY-MM-DD/);
  });
});

describe('page and exports', () => {
  test('the page shows accessible charts beside tables, in both languages', async () => {
    for (const [lang, title] of [['zh', '政务服务数据公开'], ['en', 'Service figures']]) {
      const r = await get(`${srv.url}/stats?${RANGE}&lang=${lang}`);
      assert.equal(r.status, 200);
      assert.ok(r.body.includes(title));
      const svgs = r.body.match(/<svg[^>]*>/g) ?? [];
      assert.equal(svgs.length, 3);
      for (const s of svgs) {
        assert.match(s, /role="img"/);
        const ids = /aria-labelledby="([^"]+)"/.exec(s)[1].split(' ');
        for (const id of ids) assert.ok(r.body.includes(`id="${id}"`), `${id} exists`);
      }
      assert.match(r.body, /<title id="chart-channels-title">/);
      assert.match(r.body, /<desc id="chart-channels-desc">[^<]*\d/);
      assert.equal((r.body.match(/<table class="stats-table"/g) ?? []).length, 5);
      assert.match(r.body, /href="\/stats\/export\?table&#61;departments&amp;format&#61;csv&amp;from&#61;/);
    }
  });

  test('every table exports to CSV and XLSX', async () => {
    const j = (await getJson(`${srv.url}/api/v1/stats?${RANGE}`)).json;
    for (const table of ['overview', 'channels', 'departments', 'items', 'series']) {
      const csv = await get(`${srv.url}/stats/export?table=${table}&format=csv&${RANGE}`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type'), /^text\/csv/);
      assert.match(csv.headers.get('content-disposition'), new RegExp(`attachment; filename="govhall-${table}-`));
      const raw = Buffer.from(await (await fetch(`${srv.url}/stats/export?table=${table}&format=csv&${RANGE}`)).arrayBuffer());
      assert.deepEqual([...raw.subarray(0, 4)], [0xef, 0xbb, 0xbf, 0x22]); // a byte order mark for spreadsheets
      const lines = csv.body.trim().split('\r\n');
      assert.ok(lines.length >= 2, table);
      const xlsx = await fetch(`${srv.url}/api/v1/stats/export?table=${table}&format=xlsx&${RANGE}`);
      assert.equal(xlsx.status, 200);
      assert.equal(xlsx.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const buf = Buffer.from(await xlsx.arrayBuffer());
      assert.equal(buf.subarray(0, 2).toString(), 'PK');
    }
    // The departments CSV carries the JSON's numbers.
    const csv = await get(`${srv.url}/stats/export?table=departments&format=csv&${RANGE}&lang=en`);
    const psb = j.by_department.find((d) => d.code === 'psb');
    const line = csv.body.split('\r\n').find((l) => l.startsWith(`"${psb.name}"`) || l.includes('Public Security'));
    assert.ok(line, csv.body);
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    assert.equal(Number(cells[1]), psb.submitted);
    assert.equal(Number(cells[2]), psb.concluded);
    for (const [q, re] of [['table=nope&format=csv', /no such table/], ['table=items&format=pdf', /csv or xlsx/]]) {
      const r = await getJson(`${srv.url}/api/v1/stats/export?${q}&lang=en`);
      assert.equal(r.status, 400);
      assert.match(r.json.error.detail, re);
    }
  });
});
