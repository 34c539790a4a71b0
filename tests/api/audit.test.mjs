// `govhall audit` against an insider with SQL access. A hall with every kind of covered row
// (applications completed with certificates, denied, shared e-certificates; evaluations, one bad
// with its rectification and an upheld appeal; a complaint, a consultation published to the FAQ;
// a published announcement with an attachment; Open311 requests; agents, roles, contact data,
// a calendar edit) is built through the API. Then, with the covered columns taken from the
// database's own catalog: every covered table × {each covered column altered, a row deleted, a
// row inserted} must fail the audit and name the row, each alteration on a row of its own,
// batched on copies of the database; every column of the schema is covered or listed, with its
// reason, in docs/security.md. Also: deleted checkpoints, a saved checkpoint the log does not
// extend, the log's origin after public-url changed, legitimate later changes and corrections,
// and key rotation, all followed by a clean audit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign as edSign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEMO, DEMO_PASSWORD, apiLogin, backend, bearer, demoCatalog, demoForm, freshDb, freshIp, freshTotp, get, govhall,
  initDb, root, serve, sql, tempDir, uploadAttachment, waitFor, writeJsonFile,
} from './helpers.mjs';
import { ALLDAY, bookingDuties, dayNumber, dayString, importCentres, openToday } from './booking-fixtures.mjs';
import { payArgs, paymentTrail, paysim } from './pay-fixtures.mjs';

const catalog = demoCatalog();
const MARRIAGE = catalog.services.find((s) => s.code === 'civ-0001'); // issues marriage_cert
const BIRTH = catalog.services.find((s) => s.code === 'psb-0005'); // accepts marriage_cert for a material
const CIV_ITEM = catalog.services.find((s) => s.code === 'civ-0006');
// An item Open311 clients may report to, of the demo staff's department (psb).
const REPORT = {
  ...catalog.services.find((s) => s.code === 'gsa-0001'), code: 'psb-9311', department: 'psb', name_zh: '道路设施报修',
  name_en: 'Report a damaged road facility',
  form: [
    { key: 'phone', label_zh: '联系电话', label_en: 'Contact phone', type: 'phone', required: true },
    { key: 'kind', label_zh: '设施类型', label_en: 'Facility', type: 'select', required: true,
      options: [{ value: 'pothole', label_zh: '坑洼', label_en: 'Pothole' }, { value: 'light', label_zh: '路灯', label_en: 'Street light' }] },
    { key: 'content', label_zh: '情况描述', label_en: 'What happened', type: 'textarea', required: true },
  ],
};

let db; // {url, keyFile, drop}
let srv;
let sim; // the payment gateway simulator, for a row of every payment table
let tmp;
const tok = {};
let seq = 0;
let given; // a receipt given out, and the keys document then
let givenKeys;

const audit = (args = [], opts = {}) => govhall(['audit', '--db', opts.db ?? db.url, ...args], { keyFile: db.keyFile, ...opts });

async function expectClean(what, args = [], opts = {}) {
  const r = await audit(args, opts);
  assert.equal(r.code, 0, `${what}: the audit is not clean:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /, 0 problem\(s\)/);
  return r;
}

async function api(method, p, token, json) {
  const r = await bearer(`${srv.url}${p}`, token, { method, json });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p}: ${r.status} ${r.body}`);
  return r.json;
}

async function apply(token, item, ecerts = {}) {
  const materials = [];
  for (const [i, m] of item.materials.entries()) {
    if (ecerts[i]) materials.push({ slot: i, ecert: ecerts[i] });
    else if (m.required) materials.push({ slot: i, attachments: [(await uploadAttachment(srv.url, token)).json.id] });
  }
  return api('POST', `/api/v1/services/${item.code}/applications`, token,
    { form: demoForm(item), materials, submit: true, idempotency_key: `audit-${process.pid}-${++seq}` });
}

async function steps(token, number, actions, body = {}) {
  for (const a of actions) await api('POST', `/api/v1/applications/${number}/actions/${a}`, token, a === 'deny' || a === 'refuse' ? body : {});
}

async function publishDoc(title) {
  const d = await api('POST', '/api/v1/publish', tok.psb, { category: 'announcement', title_zh: title, body_zh: `# ${title}\n\n正文。` });
  const fd = new FormData();
  fd.append('file', new Blob([Buffer.from(`%PDF-1.4\n% ${title}\n%%EOF\n`)]), 'notice.pdf');
  const res = await fetch(`${srv.url}/api/v1/publish/${d.id}/attachments`, {
    method: 'POST', body: fd, headers: { authorization: `Bearer ${tok.psb}`, 'x-forwarded-for': freshIp() },
  });
  assert.equal(res.status, 201, await res.text());
  await api('POST', `/api/v1/publish/${d.id}/actions/submit`, tok.psb, {});
  await api('POST', `/api/v1/publish/${d.id}/actions/approve`, tok.admin, {});
  return d.id;
}

async function open311(key, description) {
  const res = await fetch(`${srv.url}/open311/v2/requests.json`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key, service_code: REPORT.code, lat: '31.2304', long: '121.4737', description,
      phone: '13900139000', email: 'zhang@example.cn', first_name: '三', last_name: '张', 'attribute[kind]': 'pothole' }).toString(),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return JSON.parse(body)[0].service_request_id;
}

before(async () => {
  tmp = await tempDir('govhall-audit-');
  db = await freshDb('audit');
  await initDb(db.url, { keyFile: db.keyFile });
  // Beside REPORT, an item the hall withdraws (a row of service_withdrawals).
  const file = await writeJsonFile(tmp.path, 'report.json', { services: [REPORT], withdrawn: [catalog.services.at(-1).code] });
  const imp = await govhall(['import', 'catalog', file, '--db', db.url], { keyFile: db.keyFile });
  assert.equal(imp.code, 0, imp.stderr);
  const add = await govhall(['open311', 'key', 'add', 'Audit client', '--db', db.url], { keyFile: db.keyFile });
  assert.equal(add.code, 0, add.stderr);
  const o311key = /: ([A-Za-z0-9_-]{43})\n/.exec(add.stdout)[1];
  sim = await paysim();
  srv = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--trust-proxy', 'true', ...await payArgs(sim)] });
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, ent: DEMO.enterprise, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
  tok.admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;

  // Two marriages completed with certificates (one later revoked), one used in place of an
  // upload by a birth registration (a sharing), one application denied, one refused.
  const m1 = await apply(tok.a, MARRIAGE);
  await steps(tok.civ, m1.number, ['accept', 'start_review', 'approve', 'complete']);
  const m2 = await apply(tok.b, MARRIAGE);
  await steps(tok.civ, m2.number, ['accept', 'start_review', 'approve', 'complete']);
  const wallet = await api('GET', '/api/v1/wallet', tok.b);
  const cert2 = wallet.items.find((c) => c.application === m2.number);
  await api('POST', `/api/v1/certs/${cert2.number}/revoke`, tok.civ, { reason: '登记信息有误' });
  const slot = BIRTH.materials.findIndex((m) => m.ecert === 'marriage_cert');
  const birth = await apply(tok.a, BIRTH, { [slot]: 'marriage_cert' });
  await steps(tok.psb, birth.number, ['accept']);
  const denied = await apply(tok.a, CIV_ITEM);
  await steps(tok.civ, denied.number, ['accept', 'start_review']);
  await steps(tok.civ, denied.number, ['deny'], { reason: '不符合条件' });
  const refused = await apply(tok.b, CIV_ITEM);
  await steps(tok.civ, refused.number, ['refuse'], { reason: '不属于本部门' });

  // Three evaluations, two bad: one rectified and rated, one appealed and upheld.
  await api('POST', '/api/v1/evaluations', tok.a, { subject: 'application', ref: m1.number, level: 5, tags: ['efficient'], comment: '很好' });
  const bad = await api('POST', '/api/v1/evaluations', tok.a, { subject: 'application', ref: denied.number, level: 1, tags: ['too_slow'], comment: '太慢了' });
  for (const [s, body] of [['visit', { method: 'phone', notes: '电话回访' }], ['rectify', { notes: '已整改' }], ['feedback', { notes: '已反馈' }]]) {
    await api('POST', `/api/v1/evaluations/${bad.id}/rectification/${s}`, tok.civ, body);
  }
  await api('POST', `/api/v1/evaluations/${bad.id}/rectification/rate`, tok.a, { level: 3 });
  const bad2 = await api('POST', '/api/v1/evaluations', tok.b, { subject: 'application', ref: refused.number, level: 2, tags: ['too_slow'] });
  const appeal = await api('POST', `/api/v1/evaluations/${bad2.id}/appeal`, tok.civ, { reason: '当日系统维护' });
  await api('POST', `/api/v1/admin/appeals/${appeal.appeal.id}/decision`, tok.admin, { decision: 'upheld', note: '属实' });

  // Answers to the public: complaints and consultations, one published to the FAQ.
  for (const n of [1, 2]) {
    const c = await api('POST', '/api/v1/complaints', tok.a, { kind: 'complaint', department: 'psb', subject: `投诉 ${n}`, body: `内容 ${n}` });
    await api('POST', `/api/v1/complaints/${c.id}/answer`, tok.psb, { answer: `答复 ${n}` });
    const q = await api('POST', '/api/v1/consultations', tok.a, { item_code: CIV_ITEM.code, subject: `咨询 ${n}`, question: `问题 ${n}`, public: true });
    await api('POST', `/api/v1/consultations/${q.id}/answer`, tok.civ, { answer: `答 ${n}`, publish: n === 1, public_question: '问', public_answer: '答' });
  }
  // Duplicate reports: one followed, then merged into another (report_followers rows).
  const lamp = await api('POST', '/api/v1/complaints', tok.a, { kind: 'complaint', department: 'psb', subject: '路灯坏了', body: '门口路灯坏了' });
  const lamp2 = await api('POST', '/api/v1/complaints', tok.a, { kind: 'complaint', department: 'psb', subject: '路灯不亮', body: '门口路灯不亮' });
  await api('POST', `/api/v1/complaints/${lamp2.id}/follow`, tok.b, { department: 'psb', subject: '路灯不亮', body: '门口的路灯不亮了' });
  await api('POST', `/api/v1/complaints/${lamp2.id}/merge`, tok.psb, { into: lamp.id });
  // Publications, withdrawn and published.
  const first = await publishDoc('公告一');
  await api('POST', `/api/v1/publish/${first}/actions/withdraw`, tok.admin, { note: '已过期' });
  await publishDoc('公告二');
  // Powers and personal data: an agent authorised and another withdrawn, roles, an e-mail.
  await api('POST', '/api/v1/me/agents', tok.ent, { id_number: DEMO.citizen.id_number, name: DEMO.citizen.name });
  const agents = await api('GET', '/api/v1/me/agents', tok.ent);
  const withdrawn = agents.items?.find((x) => x.name === DEMO.citizen.name) ?? agents.agents?.find((x) => x.name === DEMO.citizen.name);
  assert.ok(withdrawn, JSON.stringify(agents));
  await api('DELETE', `/api/v1/me/agents/${withdrawn.id}`, tok.ent);
  const staff = await api('GET', '/api/v1/admin/accounts?kind=staff', tok.admin);
  const psbStaff = (staff.items ?? staff.accounts).find((x) => x.department === 'psb');
  await api('PATCH', `/api/v1/admin/accounts/${psbStaff.id}`, tok.admin, { department: 'psb', staff_roles: 'counter,reviewer,head' });
  await api('PUT', '/api/v1/me/email', tok.a, { email: 'zhangsan@example.cn' });
  // a request to correct a registered name, decided by an administrator (name_corrections)
  const nameFix = await api('POST', '/api/v1/me/name-corrections', tok.b, { name: '李四改', reason: '登记有误' });
  await api('POST', `/api/v1/admin/name-corrections/${nameFix.id}`, tok.admin, { decision: 'reject', note: '请到窗口办理' });
  await api('POST', '/api/v1/admin/calendar', tok.admin, { day: '2027-03-09', kind: 'holiday', note: '测试' });
  // Open311 requests, one answered.
  const r1 = await open311(o311key, '路灯不亮');
  const r2 = await open311(o311key, '井盖缺失');
  await steps(tok.psb, r1, ['refuse'], { reason: '不属于本部门' });
  // A duplicate, followed, merged into it by the department's staff (open311_merges; its
  // follower moved, report_followers).
  const r3 = await open311(o311key, '井盖丢了');
  await api('POST', `/api/v1/open311/requests/${r3}/follow`, tok.b);
  await api('POST', `/api/v1/open311/requests/${r3}/merge`, tok.psb, { into: r2 });
  // Appointments: a visit booked and confirmed, three missed by one person (online booking
  // paused), and a ticket issued at the desk of a centre open today.
  const slots = async (item) => (await api('GET', `/api/v1/centres/qh-main/slots?item=${item}&days=3`, null)).days
    .flatMap((d) => d.slots.filter((x) => x.free > 0).map((x) => ({ day: d.day, start: x.start })));
  const bookVisit = async (token, item) => {
    const [s] = await slots(item);
    const b = await api('POST', '/api/v1/bookings', token, { centre: 'qh-main', item, day: s.day, start: s.start });
    assert.ok(b.ref, JSON.stringify(b));
    await api('POST', `/api/v1/bookings/${b.ref}/confirm`, token);
    return dayNumber(s.day);
  };
  await bookVisit(tok.a, 'psb-0002');
  let lastDay = 0;
  for (const item of ['psb-0001', 'psb-0003', 'psb-0004']) lastDay = Math.max(lastDay, await bookVisit(tok.b, item));
  assert.ok((await bookingDuties(db.url, db.keyFile, `${dayString(lastDay + 1)}T08:00`)).paused >= 1);
  await importCentres(db.url, db.keyFile, [ALLDAY]);
  await openToday(srv.url, tok.admin);
  await waitFor(async () => {
    const r = await bearer(`${srv.url}/api/v1/centres/t-allday/tickets`, tok.psb, { method: 'POST', json: { item: 'psb-0001', name: '赵六' } });
    return r.status === 201 ? r : null;
  }, { what: 'a ticket at the desk (the calendar refreshed)' });
  // A fee paid, part refunded, the day reconciled with a difference.
  await paymentTrail(srv.url, db.url, db.keyFile, sim, { citizen: tok.a, admin: tok.admin });
  // A message to another hall, queued (the outbox; no hub here, so it stays queued).
  const sent = await govhall(['federation', 'send', 'lanshan', '--subject', 'audit-1', '--body', '{"n":1}', '--db', db.url,
    '--fed-client-id', 'qinghe'], { keyFile: db.keyFile });
  assert.equal(sent.code, 0, sent.stderr);
  // A receipt given out, and the keys document (the leaves stored as text, below).
  const number = await sql(db.url, "SELECT number FROM applications WHERE state = 'completed' ORDER BY id LIMIT 1");
  const receipts = (await api('GET', `/api/v1/applications/${number}/receipts`, tok.a)).receipts;
  given = (await bearer(`${srv.url}/api/v1/applications/${number}/receipts/${receipts.at(-1).leaf_index}`, tok.a)).json;
  givenKeys = JSON.parse((await get(`${srv.url}/.well-known/govhall-keys.json`)).body);
  await srv.stop();
  srv = null;
  await sim.stop();
});

after(async () => {
  await srv?.stop().catch(() => {});
  await sim?.stop().catch(() => {});
  await db?.drop();
  await tmp?.remove();
});

// ---- the database's catalog, the declarations and the documented exceptions ----

async function schema(url) {
  const cols = new Map(); // table -> [{name, type}]
  const rows = backend === 'postgres'
    ? await sql(url, `SELECT table_name || '|' || column_name || '|' || data_type FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)
    : await sql(url, `SELECT m.name || '|' || p.name || '|' || p.type FROM sqlite_master m, pragma_table_info(m.name) p
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`);
  for (const line of rows.split('\n').filter(Boolean)) {
    const [t, c, type] = line.split('|');
    if (!cols.has(t)) cols.set(t, []);
    cols.get(t).push({ name: c, type: type.toLowerCase() });
  }
  return cols;
}

function documented() {
  const text = readFileSync(path.join(root, 'docs/security.md'), 'utf8');
  const section = text.split('## What `govhall audit` covers')[1]?.split('\n## ')[0];
  assert.ok(section, 'docs/security.md has the section on what the audit covers');
  const out = new Map(); // table -> Set of columns ('*': the whole table)
  for (const m of section.matchAll(/^\| `([a-z0-9_]+)` \| `([a-z0-9_*]+)` \| (.+) \|$/gm)) {
    assert.ok(m[3].trim().length > 10, `a reason for ${m[1]}.${m[2]}`);
    if (!out.has(m[1])) out.set(m[1], new Set());
    out.get(m[1]).add(m[2]);
  }
  return out;
}

async function coverage() {
  const r = await govhall(['audit', '--coverage']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// ---- copies of the database and SQL of an insider ----

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

async function copyDb(name) {
  if (backend === 'postgres') {
    const u = new URL(db.url);
    const base = u.pathname.slice(1);
    const copy = `${base}_${name}`.slice(0, 60);
    const admin = new URL(process.env.GOVHALL_TEST_PG);
    await sql(admin.toString(), `CREATE DATABASE ${copy} TEMPLATE ${base}`);
    u.pathname = `/${copy}`;
    return { url: u.toString(), drop: () => sql(admin.toString(), `DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`) };
  }
  const file = path.join(tmp.path, `${name}.db`);
  await sql(db.url, `VACUUM INTO ${q(file)}`);
  return { url: file, drop: async () => {} };
}

/** Runs statements as one script with what stands in an insider's way switched off. */
async function insider(url, statements) {
  const pre = backend === 'postgres' ? 'SET session_replication_role = replica; ' : 'PRAGMA ignore_check_constraints = 1; ';
  return sql(url, pre + statements.join('; '));
}

const FEDERATED = { fed_halls: 'federation.test.mjs', fed_inbox: 'federation-messages.test.mjs', fed_forwarded: 'federation-apply.test.mjs',
  fed_forwarded_events: 'federation-apply.test.mjs', fed_received: 'federation-apply.test.mjs', witness_logs: 'federation-witness.test.mjs',
  witness_splits: 'federation-witness.test.mjs', fed_joint: 'federation-joint.test.mjs', fed_joint_prior: 'federation-joint.test.mjs',
  interact_forwards: 'federation-ask.test.mjs', interact_received: 'federation-ask.test.mjs',
  wallet_fed_consents: 'federation-wallet.test.mjs' };
const keyExpr = (t) => t.key.map((k) => `CAST(${k} AS TEXT)`).join(" || ':' || ");

/** A different value of the same type for column c (value v, SQL type type). */
function altered(c, type) {
  if (/int|real|double|numeric/.test(type)) return `COALESCE(${c}, 0) + 1000003`;
  if (/blob|bytea/.test(type)) return backend === 'postgres' ? `decode(md5(random()::text), 'hex')` : 'randomblob(16)';
  // JSON stays JSON (a form still parses, with one more member); other text gets a mark.
  return `CASE WHEN ${c} LIKE '{%}' THEN substr(${c}, 1, length(${c}) - 1) || CASE WHEN ${c} = '{}' THEN '' ELSE ',' END || '"x":"y"}' `
    + `WHEN ${c} LIKE '[%]' THEN '["x"' || CASE WHEN ${c} = '[]' THEN '' ELSE ',' END || substr(${c}, 2) `
    + `ELSE COALESCE(${c}, '') || '~' END`;
}

describe('govhall audit against SQL written behind the application', () => {
  test('every column of the schema is covered or listed with its reason', async () => {
    const cols = await schema(db.url);
    const doc = documented();
    const cov = await coverage();
    const covered = new Map(cov.map((t) => [t.table, new Set([...t.key, ...t.columns, ...Object.keys(t.pointers)])]));
    const problems = [];
    for (const [table, list] of cols) {
      const left = doc.get(table) ?? new Set();
      if (left.has('*')) {
        if (covered.has(table)) problems.push(`${table} is covered, but listed as left out`);
        continue;
      }
      if (!covered.has(table)) {
        problems.push(`${table}: neither covered nor listed in docs/security.md`);
        continue;
      }
      for (const c of list) {
        const isCovered = covered.get(table).has(c.name);
        if (!isCovered && !left.has(c.name)) problems.push(`${table}.${c.name}: neither covered nor listed in docs/security.md`);
        if (isCovered && left.has(c.name)) problems.push(`${table}.${c.name}: covered, but listed as left out`);
      }
      for (const c of left) if (!list.some((x) => x.name === c)) problems.push(`${table}.${c}: listed, but not in the schema`);
    }
    for (const t of covered.keys()) if (!cols.has(t)) problems.push(`${t}: declared covered, but not in the schema`);
    for (const t of doc.keys()) if (!cols.has(t)) problems.push(`${t}: listed, but not in the schema`);
    assert.deepEqual(problems, []);
  });

  test('each covered column altered, a row deleted, a row inserted: each is reported with its row', { timeout: 600_000 }, async () => {
    await expectClean('the hall as the application left it');
    const cols = await schema(db.url);
    const cov = await coverage();
    // An insider owning the database drops what stands in the way (PostgreSQL: identity
    // columns and checks; SQLite ignores checks for the asking), on each copy.
    const drops = backend !== 'postgres' ? [] : (await sql(db.url, `SELECT 'ALTER TABLE ' || c.relname || ' DROP CONSTRAINT ' || k.conname
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'c' AND c.relnamespace = 'public'::regnamespace
      UNION ALL SELECT 'ALTER TABLE ' || table_name || ' ALTER COLUMN ' || column_name || ' DROP IDENTITY'
      FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES'`)).split('\n').filter(Boolean);
    // Per table: its rows' keys, its unique columns, and the alterations to try.
    const plan = [];
    for (const t of cov) {
      const types = new Map(cols.get(t.table).map((c) => [c.name, c.type]));
      const where = t.where ? `WHERE ${t.where}` : '';
      const keys = (await sql(db.url, `SELECT ${keyExpr(t)} FROM ${t.table} ${where} ORDER BY 1`)).split('\n').filter(Boolean);
      // Rows only a federation of several nodes writes (a hub's registrations, messages signed
      // by another hall): their alterations are checked by federation-*.test.mjs.
      if (keys.length === 0 && FEDERATED[t.table]) continue;
      assert.ok(keys.length > 0, `the hall has no covered row of ${t.table} to alter`);
      // Columns of its primary key and unique indexes: an inserted copy needs new values there.
      const unique = (backend === 'postgres'
        ? await sql(db.url, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = '${t.table}'::regclass AND i.indisunique`)
        : await sql(db.url, `SELECT ii.name FROM pragma_index_list('${t.table}') il, pragma_index_info(il.name) ii
            WHERE il."unique" = 1 UNION SELECT name FROM pragma_table_info('${t.table}') WHERE pk > 0`)).split('\n').filter(Boolean);
      const alts = [...t.key, ...t.columns, ...Object.keys(t.pointers)].map((c) => ({ kind: 'update', col: c }));
      alts.push({ kind: 'delete' }, { kind: 'insert' });
      plan.push({ t, types, keys, unique, alts });
    }
    // Batches: in each, every table gets as many alterations as it has rows, each on its own row.
    const cond = (t, key) => (t.key.length === 1 ? [`${t.key[0]} = ${q(key)}`] : [`${t.key[0]} = ${q(key.slice(0, key.lastIndexOf(':')))}`,
      `${t.key[1]} = ${q(key.slice(key.lastIndexOf(':') + 1))}`]).join(' AND ');
    let batch = 0;
    let tried = 0;
    for (;;) {
      const stmts = [];
      const expect = [];
      for (const p of plan) {
        for (const key of p.keys) {
          const a = p.alts.shift();
          if (!a) break;
          const { t } = p;
          const name = `${t.table}.${a.kind === 'update' ? a.col : a.kind}`;
          if (a.kind === 'update') {
            stmts.push(`UPDATE ${t.table} SET ${a.col} = ${altered(a.col, p.types.get(a.col))} WHERE ${cond(t, key)}`);
            expect.push({ name, row: `${t.table}:${key}` });
          } else if (a.kind === 'delete') {
            stmts.push(`DELETE FROM ${t.table} WHERE ${cond(t, key)}`);
            expect.push({ name, row: `${t.table}:${key}` });
          } else {
            // A copy of the row under a new key (unique columns changed too, as they must be).
            const list = [...p.types.keys()];
            const vals = list.map((c) => (t.key.includes(c) || p.unique.includes(c) ? altered(c, p.types.get(c)) : c));
            stmts.push(`INSERT INTO ${t.table} (${list.join(', ')}) SELECT ${vals.join(', ')} FROM ${t.table} WHERE ${cond(t, key)}`);
            const newKey = (await sql(db.url, `SELECT ${t.key.map((k) => `CAST(${altered(k, p.types.get(k))} AS TEXT)`).join(" || ':' || ")} FROM ${t.table} WHERE ${cond(t, key)}`));
            expect.push({ name, row: `${t.table}:${newKey}` });
          }
        }
      }
      if (!stmts.length) break;
      const copy = await copyDb(`b${++batch}`);
      try {
        await insider(copy.url, [...drops, ...stmts]);
        const r = await audit([], { db: copy.url });
        assert.equal(r.code, 1, `batch ${batch}: the audit exits 1\n${r.stdout}\n${r.stderr}`);
        for (const e of expect) {
          const re = new RegExp(`(^|\\s)${e.row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[:\\s])`, 'm');
          assert.match(r.stdout, re, `${e.name} on ${e.row} was not reported:\n${r.stdout}`);
          tried++;
        }
      } finally {
        await copy.drop();
      }
    }
    const expected = plan.reduce((n, p) => n + p.t.key.length + p.t.columns.length + Object.keys(p.t.pointers).length + 2, 0);
    assert.equal(tried, expected, 'every alteration was tried');
  });
});

// ---- tree heads ----

const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** A checkpoint signed with the log's own current key (as a node would), for any size and root. */
function signNote(origin, size, root) {
  const lines = readFileSync(`${db.keyFile}.ledger`, 'utf8').split('\n').filter((l) => /^\d+ /.test(l));
  const seed = Buffer.from(lines.at(-1).split(' ')[2], 'hex');
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const pk = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyHash = sha256(Buffer.from(`${origin}\n`), Buffer.from([1]), pk).subarray(0, 4);
  const body = `${origin}\n${size}\n${root.toString('base64')}\n`;
  const sig = edSign(null, Buffer.from(body), priv);
  return `${body}\n\u2014 ${origin} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`;
}

describe('tree heads', () => {
  test('deleted checkpoints are reported: at once by the head, and by the leaves they covered once time passes', async () => {
    const copy = await copyDb('cp');
    try {
      await expectClean('the copy', [], { db: copy.url });
      await sql(copy.url, 'DELETE FROM ledger_checkpoints');
      let r = await audit([], { db: copy.url });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^checkpoints: the log head records a checkpoint of \d+ leaves signed, the largest stored has 0: checkpoints were deleted/m);
      // An insider who also resets the head's record: the leaves, an hour old (as they would be
      // by the next audit), are covered by no checkpoint although one is signed every minute.
      await sql(copy.url, 'UPDATE ledger_head SET signed_size = 0');
      r = await audit([], { db: copy.url });
      assert.equal(r.code, 0, `leaves appended moments ago wait for the next signing:\n${r.stdout}`);
      await sql(copy.url, 'UPDATE ledger_leaves SET created_at = created_at - 3600');
      r = await audit([], { db: copy.url });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^leaves 0\.\.\d+: appended more than \d+ s ago .* covered by no checkpoint/m);
      // a longer grace accepts them (a hall that was not running)
      await expectClean('--grace 86400', ['--grace', '86400'], { db: copy.url });
      r = await audit(['--grace', 'soon'], { db: copy.url });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--grace takes seconds/);
    } finally {
      await copy.drop();
    }
  });

  test('a checkpoint saved earlier must be a prefix of the log', async () => {
    const note = await sql(db.url, 'SELECT note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1');
    const full = `${note}\n`.replace(/\n+$/, '\n');
    const [origin, size] = full.split('\n');
    const saved = await writeJsonFile(tmp.path, 'saved.json', { checkpoint: full });
    const text = path.join(tmp.path, 'saved.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(text, full));
    await expectClean('a checkpoint of this log (JSON)', ['--checkpoint', saved]);
    await expectClean('a checkpoint of this log (note)', ['--checkpoint', text]);
    // Signed by the log's key, but not of this log's history: its root differs ...
    const other = path.join(tmp.path, 'other.txt');
    const fs = await import('node:fs/promises');
    await fs.writeFile(other, signNote(origin, Number(size) - 1, Buffer.alloc(32, 7)));
    let r = await audit(['--checkpoint', text, '--checkpoint', other]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`^the saved checkpoint of ${Number(size) - 1} leaves: its root is not the root of the first`, 'm'));
    assert.match(r.stdout, new RegExp(`^the saved checkpoint of ${Number(size) - 1} leaves: no consistency proof leads from it`, 'm'));
    // ... or it has leaves the log no longer has (the log was cut back and rewritten).
    const head = Number(await sql(db.url, 'SELECT size FROM ledger_head'));
    await fs.writeFile(other, signNote(origin, head + 5, Buffer.alloc(32, 7)));
    r = await audit(['--checkpoint', other]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /the log has only \d+ leaves: leaves were removed since it was signed/);
    // not signed by the log's key; not a checkpoint at all
    await fs.writeFile(other, full.replace(/\u2014 (\S+) \S+/, '\u2014 $1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    r = await audit(['--checkpoint', other]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^saved checkpoint 1: /m);
    await fs.writeFile(other, 'not a checkpoint');
    r = await audit(['--checkpoint', other]);
    assert.equal(r.code, 1, r.stdout);
    r = await audit(['--checkpoint', path.join(tmp.path, 'missing.txt')]);
    assert.equal(r.code, 2);
  });

  test('the log keeps its origin when the hall is served under another public-url', async () => {
    const origin = (await sql(db.url, 'SELECT note FROM ledger_checkpoints ORDER BY size LIMIT 1')).split('\n')[0];
    const moved = await serve(db.url, { keyFile: db.keyFile, extraArgs: ['--public-url', 'https://hall.elsewhere.example/'] });
    try {
      const keys = JSON.parse((await get(`${moved.url}/.well-known/govhall-keys.json`)).body);
      assert.equal(keys.log.origin, origin);
      assert.equal(keys.log.keys[0].name, origin);
      const cp = JSON.parse((await get(`${moved.url}/api/v1/ledger/checkpoint?fresh=1`)).body);
      assert.equal(cp.origin, origin);
    } finally {
      await moved.stop();
    }
    await expectClean('audit under another public-url', ['--public-url', 'https://hall.elsewhere.example/']);
  });
});

// ---- legitimate later changes ----

describe('legitimate later changes', () => {
  test('a correction or an erasure made by hand is accepted once it is logged, and only then', async () => {
    const copy = await copyDb('fix');
    try {
      const consult = await sql(copy.url, 'SELECT id FROM consultations ORDER BY id LIMIT 1');
      await sql(copy.url, `UPDATE consultations SET answer = '答复（已更正错别字）' WHERE id = ${consult}`);
      const account = await sql(copy.url, "SELECT id FROM accounts WHERE email_enc IS NOT NULL ORDER BY id LIMIT 1");
      await sql(copy.url, `UPDATE accounts SET email_enc = NULL, email_mask = NULL WHERE id = ${account}`);
      let r = await audit([], { db: copy.url });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, new RegExp(`^consultations:${consult}: the row differs`, 'm'));
      assert.match(r.stdout, new RegExp(`^accounts:${account}: the row differs`, 'm'));
      const fix = (args) => govhall(['ledger', 'correct', ...args, '--db', copy.url], { keyFile: db.keyFile });
      r = await fix([`consultations:${consult}`, '--reason', '答复中的错别字']);
      assert.equal(r.code, 0, r.stderr);
      r = await fix([`accounts:${account}`, '--erasure', '--reason', '本人申请删除电子邮箱']);
      assert.equal(r.code, 0, r.stderr);
      await expectClean('after the logged correction and erasure', [], { db: copy.url });
      // The leaves say what happened, and nothing of the reason or the row.
      const last = (await sql(copy.url, "SELECT idx FROM ledger_leaves WHERE kind = 'change' ORDER BY idx DESC LIMIT 2")).split('\n');
      const shown = await govhall(['ledger', 'leaf', ...last, '--db', copy.url]);
      assert.equal(shown.code, 0, shown.stderr);
      const leaves = shown.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(leaves.map((l) => l.action).sort(), ['correction', 'erasure']);
      for (const l of leaves) {
        assert.match(l.reason, /^[0-9a-f]{64}$/);
        assert.equal(Object.keys(l.rows).length, 1);
        assert.ok(!JSON.stringify(l).includes('错别字') && !JSON.stringify(l).includes(`accounts:${account}`));
      }
      // A later change by hand is not covered by the correction.
      await sql(copy.url, `UPDATE consultations SET answer = '又改了' WHERE id = ${consult}`);
      r = await audit([], { db: copy.url });
      assert.equal(r.code, 1, r.stdout);
      // bad input: a row that is not covered, no reason
      assert.equal((await fix(['sessions:1', '--reason', 'x'])).code, 1);
      assert.equal((await fix([`consultations:${consult}`])).code, 2);
    } finally {
      await copy.drop();
    }
  });

  test('key rotation re-seals personal data and the audit stays clean; swapped sealed values are still caught', async () => {
    const copy = await copyDb('keys');
    const keyFile = path.join(tmp.path, 'rotated.key');
    const fs = await import('node:fs/promises');
    await fs.copyFile(db.keyFile, keyFile);
    await fs.copyFile(`${db.keyFile}.ledger`, `${keyFile}.ledger`);
    try {
      const before = await sql(copy.url, 'SELECT COUNT(*) FROM ledger_leaves');
      const r = await govhall(['key', 'rotate', '--db', copy.url], { keyFile });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Number(await sql(copy.url, "SELECT COUNT(*) FROM accounts WHERE key_id = 2")) > 0, 'values were re-sealed');
      assert.equal(await sql(copy.url, 'SELECT COUNT(*) FROM ledger_leaves'), before, 're-sealing is no change of content');
      await expectClean('after govhall key rotate', [], { db: copy.url, keyFile });
      // Two valid sealed phone numbers swapped between accounts: each account's content changed.
      const [x, y] = (await sql(copy.url, 'SELECT id FROM accounts WHERE phone_enc IS NOT NULL ORDER BY id LIMIT 2')).split('\n');
      await sql(copy.url, `UPDATE accounts SET phone_enc = (SELECT phone_enc FROM accounts WHERE id = ${y}) WHERE id = ${x}`);
      const a = await audit([], { db: copy.url, keyFile });
      assert.equal(a.code, 1, a.stdout);
      assert.match(a.stdout, new RegExp(`^accounts:${x}: the row differs`, 'm'));
      // Without the key file, sealed columns cannot be read: said so, not passed.
      const none = await audit([], { db: copy.url, keyFile: path.join(tmp.path, 'no.key') });
      assert.equal(none.code, 1, none.stdout);
      assert.match(none.stdout, /^accounts:\d+: the row cannot be read/m);
    } finally {
      await copy.drop();
    }
  });
});

// ---- the leaves stored before they were packed ----

describe('leaves stored as text, from before migration leaf_bytes', () => {
  test('a database of the old form migrates: every leaf keeps its text and hash, a receipt given out before still verifies against it, the audit passes', async () => {
    // A receipt given out before (in before()), with the checkpoint it carries.
    const receipt = given;
    assert.equal(receipt.type, 'govhall.receipt/v1');
    const receiptFile = await writeJsonFile(tmp.path, 'old-receipt.json', receipt);
    const keysFile = await writeJsonFile(tmp.path, 'old-keys.json', givenKeys);
    const copy = await copyDb('oldleaves');
    try {
      // The copy made into the old form: leaf a TEXT column holding the canonical text, and
      // the schema version before the migration (found by its name, whatever its number; the
      // migrations after it run again, and make what is missing).
      const n = Number(await sql(copy.url, 'SELECT COUNT(*) FROM ledger_leaves'));
      const texts = [];
      for (let i = 0; i < n; i += 500) {
        const r = await govhall(['ledger', 'leaf', ...Array.from({ length: Math.min(500, n - i) }, (_, k) => String(i + k)), '--db', copy.url]);
        assert.equal(r.code, 0, r.stderr);
        texts.push(...r.stdout.split('\n').slice(0, -1));
      }
      assert.equal(texts.length, n);
      assert.equal(texts[receipt.leaf_index], receipt.leaf);
      const migration = (suffix) => Number(readdirSync(path.join(root, 'src/store/migrations', backend === 'postgres' ? 'postgres' : 'sqlite'))
        .find((f) => f.endsWith(suffix)).slice(0, 4));
      const version = migration('_leaf_bytes.sql');
      // The form before also kept each leaf's hash beside the leaf, and its salt as hex text (what
      // the later lean migration changes, run again with it).
      const lean = migration('_ledger_lean.sql');
      await sql(copy.url, backend === 'postgres'
        ? `ALTER TABLE ledger_leaves ALTER COLUMN leaf TYPE TEXT USING ''; ALTER TABLE ledger_leaves ADD COLUMN hash BYTEA;
           ALTER TABLE ledger_leaves ALTER COLUMN salt TYPE TEXT USING encode(salt, 'hex');
           DELETE FROM schema_migrations WHERE version IN (${version}, ${lean})`
        : `CREATE TABLE ledger_leaves_text (idx INTEGER NOT NULL PRIMARY KEY, kind TEXT NOT NULL, ref TEXT, salt TEXT,
             leaf TEXT NOT NULL, hash BLOB NOT NULL, created_at INTEGER NOT NULL) STRICT;
           INSERT INTO ledger_leaves_text SELECT idx, kind, ref, salt, '', zeroblob(32), created_at FROM ledger_leaves;
           DROP TABLE ledger_leaves; ALTER TABLE ledger_leaves_text RENAME TO ledger_leaves;
           CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref) WHERE ref IS NOT NULL;
           DELETE FROM schema_migrations WHERE version IN (${version}, ${lean})`);
      for (let i = 0; i < n;) {
        const values = [];
        let size = 0;
        for (; i < n && size < 60_000; i++) {
          values.push(`(${i}, ${q(texts[i])})`);
          size += texts[i].length * 3;
        }
        await sql(copy.url, `WITH v(i, t) AS (VALUES ${values.join(', ')}) UPDATE ledger_leaves
          SET leaf = (SELECT t FROM v WHERE v.i = ledger_leaves.idx) WHERE idx IN (SELECT i FROM v)`);
      }
      const type = backend === 'postgres'
        ? "SELECT data_type FROM information_schema.columns WHERE table_name = 'ledger_leaves' AND column_name = 'leaf'"
        : 'SELECT DISTINCT typeof(leaf) FROM ledger_leaves';
      assert.equal(await sql(copy.url, type), 'text');
      assert.equal(await sql(copy.url, `SELECT leaf FROM ledger_leaves WHERE idx = ${receipt.leaf_index}`), receipt.leaf);

      // Opened by this govhall: migrated, audited clean with the receipt's checkpoint as a
      // prefix of the log, every leaf the same text under the same hash.
      await expectClean('after the migration of text leaves', ['--checkpoint', receiptFile], { db: copy.url });
      assert.equal(await sql(copy.url, type), backend === 'postgres' ? 'bytea' : 'blob');
      const first = backend === 'postgres' ? 'get_byte(leaf, 0)' : "CAST(hex(substr(leaf, 1, 1)) AS INTEGER)";
      assert.equal(await sql(copy.url, `SELECT COUNT(*) FROM ledger_leaves WHERE ${first} = 0`), String(n), 'old leaves are kept as text (version 0)');
      const again = await govhall(['ledger', 'leaf', String(receipt.leaf_index), '--db', copy.url]);
      assert.equal(again.stdout, `${receipt.leaf}\n`);
      const v = await govhall(['verify', receiptFile, '--keys', keysFile]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /valid receipt/);

      // A leaf appended now is packed, beside the old ones, and the audit still passes.
      const account = await sql(copy.url, 'SELECT id FROM accounts ORDER BY id LIMIT 1');
      const fix = await govhall(['ledger', 'correct', `accounts:${account}`, '--reason', '核对', '--db', copy.url], { keyFile: db.keyFile });
      assert.equal(fix.code, 0, fix.stderr);
      assert.equal(await sql(copy.url, `SELECT ${first} FROM ledger_leaves WHERE idx = ${n}`), '1', 'a new leaf is packed (version 1)');
      await expectClean('with text and packed leaves', ['--checkpoint', receiptFile], { db: copy.url });
    } finally {
      await copy.drop();
    }
  });
});
