// Evaluations (好差评) through the JSON API: who may rate what (only one's own application,
// only once it has ended, only once), the level/tag/comment rules, the counter rating device,
// a bad review's rectification (return visit -> rectification -> feedback -> the citizen's
// rating of it) with its order and its owners, appeals (upheld: excluded and the task
// cancelled; rejected: the review stays), the invitation to rate after 3 days (run by the
// duties command for a later day, once per case) and the overdue warning of a task.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, apiLogin, bearer, freshTotp, pageLogin, sql, startServer } from './helpers.mjs';
import {
  CIV_ITEM, complete, completedApplication, dayFromNow, fileApplication, inbox, rate, runDuties, step,
} from './interact-fixtures.mjs';

let srv;
let base;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'evaluations', extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(base, acc.phone)).token;
  }
  tok.admin = (await apiLogin(base, DEMO.admin.phone, undefined, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => { await srv?.stop(); });

describe('rating an application', () => {
  test('the tag list names five levels and reasons per group, in both languages', async () => {
    const r = await bearer(`${base}/api/v1/evaluation-tags?lang=en`, null);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.levels.map((l) => l.level), [5, 4, 3, 2, 1]);
    assert.deepEqual(r.json.levels.filter((l) => l.bad).map((l) => l.level), [2, 1]);
    assert.equal(r.json.levels[0].name_zh, '非常满意');
    assert.equal(r.json.levels[4].name, 'Very dissatisfied');
    for (const g of ['good', 'fair', 'bad']) assert.ok(r.json.tags.some((t) => t.group === g), g);
  });

  test('only once it has ended, only by its applicant, only once', async () => {
    const app = await fileApplication(base, tok.a);
    let r = await rate(base, tok.a, { subject: 'application', ref: app.number, level: 5, tags: ['efficient'] });
    assert.equal(r.status, 409, r.body);
    const citizen = await pageLogin(base, DEMO.citizen.phone);
    const rateLink = `href="/evaluate/application/${app.number}"`;
    assert.ok(!(await citizen.get(`/applications/${app.number}`)).body.includes(rateLink), 'no rating before the end');
    await complete(base, tok.civ, app.number);
    assert.ok((await citizen.get(`/applications/${app.number}`)).body.includes(rateLink), 'the applicant is offered the rating');
    r = await rate(base, tok.b, { subject: 'application', ref: app.number, level: 1, tags: ['too_slow'] });
    assert.equal(r.status, 404, `someone else's application: ${r.body}`);
    r = await rate(base, tok.a, { subject: 'application', ref: 'QH0000000000000', level: 5 });
    assert.equal(r.status, 404, r.body);
    r = await rate(base, tok.a, { subject: 'application', ref: app.number, level: 5, tags: ['efficient', 'courteous'], comment: '很快', channel: 'app' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.level, 5);
    assert.equal(r.json.level_name, '非常满意');
    assert.equal(r.json.bad, false);
    assert.equal(r.json.channel, 'app');
    assert.equal(r.json.department, 'civ');
    assert.equal(r.json.rectification, undefined);
    assert.deepEqual(r.json.tags.map((t) => t.code), ['efficient', 'courteous']);
    const again = await rate(base, tok.a, { subject: 'application', ref: app.number, level: 1, tags: ['too_slow'] });
    assert.equal(again.status, 409, again.body);
    const mine = await bearer(`${base}/api/v1/me/evaluations`, tok.a);
    assert.equal(mine.status, 200);
    assert.ok(mine.json.items.some((e) => e.ref === app.number));
    assert.ok(!mine.json.pending.some((p) => p.ref === app.number), 'rated: no longer pending');
    const other = await bearer(`${base}/api/v1/evaluations/${r.json.id}`, tok.b);
    assert.equal(other.status, 404, 'another citizen does not see it');
    const dept = await bearer(`${base}/api/v1/evaluations/${r.json.id}`, tok.civ);
    assert.equal(dept.status, 200, 'the department sees it');
    const psb = await bearer(`${base}/api/v1/evaluations/${r.json.id}`, tok.psb);
    assert.equal(psb.status, 404, 'another department does not');
  });

  test('bad input is refused with a message and records nothing', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const cases = [
      [{ level: 6 }, 422], [{ level: 0 }, 422], [{ level: '5' }, 400], [{ level: 5, tags: 'efficient' }, 400],
      [{ level: 5, tags: ['too_slow'] }, 422], [{ level: 1 }, 422], [{ level: 2, tags: [] }, 422],
      [{ level: 5, tags: ['nonsense'] }, 422], [{ level: 5, comment: '字'.repeat(501) }, 422],
      [{ level: 5, channel: 'fax' }, 400], [{ level: 5, channel: 'counter' }, 400],
      [{ level: 5, tags: ['efficient', 'courteous', 'clear_guide', 'fewer_trips', 'online_easy', 'efficient'] }, 201],
    ];
    for (const [body, status] of cases) {
      const r = await rate(base, tok.a, { subject: 'application', ref: number, ...body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      if (status !== 201) assert.ok(r.json?.error?.message, 'a message');
    }
    const raw = await bearer(`${base}/api/v1/evaluations`, tok.a, { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } });
    assert.equal(raw.status, 400);
  });

  test('a counter rating device rates a walk-in application with a staff token', async () => {
    const app = await fileApplication(base, tok.a);
    // Stands in for the counter intake (tests/api/counter.test.mjs files one through the pages).
    await sql(srv.db, `UPDATE applications SET channel = 'counter' WHERE number = '${app.number}'`);
    await complete(base, tok.civ, app.number);
    let r = await rate(base, tok.psb, { subject: 'application', ref: app.number, level: 4, tags: ['courteous'], channel: 'counter' });
    assert.equal(r.status, 404, `another department's clerk: ${r.body}`);
    r = await rate(base, tok.civ, { subject: 'application', ref: app.number, level: 4, tags: ['courteous'], channel: 'counter' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.channel, 'counter');
    const mine = await bearer(`${base}/api/v1/me/evaluations`, tok.a);
    assert.ok(mine.json.items.some((e) => e.id === r.json.id), "the applicant's own rating");
    const online = await completedApplication(base, tok.a, tok.civ);
    r = await rate(base, tok.civ, { subject: 'application', ref: online, level: 5, tags: ['efficient'] });
    assert.equal(r.status, 403, `an online application is rated by its applicant: ${r.body}`);
  });
});

describe('a bad review and its rectification', () => {
  test('task -> return visit -> rectification -> feedback -> the citizen rates it', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 2, tags: ['too_slow', 'many_trips'], comment: '跑了三次' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.bad, true);
    const id = r.json.id;
    assert.equal(r.json.rectification.state, 'open');
    assert.match(r.json.rectification.due_day, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(r.json.rectification.due_day > dayFromNow(5), 'five working days are at least a week');
    const staffInbox = await inbox(base, tok.civ);
    assert.ok(staffInbox.some((m) => m.kind === 'rectify_task' && m.body.includes(`/evaluations/${id}`)), 'the department is told');
    const tasks = await bearer(`${base}/api/v1/staff/rectifications`, tok.civ);
    assert.ok(tasks.json.items.some((t) => t.evaluation === id && t.state === 'open'));
    const other = await bearer(`${base}/api/v1/staff/rectifications`, tok.psb);
    assert.ok(!other.json.items.some((t) => t.evaluation === id), "not another department's");

    let s = await step(base, tok.civ, id, 'rectify', { notes: '先整改' });
    assert.equal(s.status, 409, `rectify before the visit: ${s.body}`);
    s = await step(base, tok.psb, id, 'visit', { method: 'phone', notes: 'x' });
    assert.equal(s.status, 404, s.body);
    s = await step(base, tok.a, id, 'visit', { method: 'phone', notes: 'x' });
    assert.equal(s.status, 403, s.body);
    s = await step(base, tok.civ, id, 'visit', { method: 'fax', notes: 'x' });
    assert.equal(s.status, 422, s.body);
    s = await step(base, tok.civ, id, 'visit', { method: 'phone', notes: '' });
    assert.equal(s.status, 422, s.body);
    s = await step(base, tok.civ, id, 'visit', { method: 'phone', notes: '电话回访，了解到材料要求不清楚', at: Math.floor(Date.now() / 1000) + 86400 });
    assert.equal(s.status, 422, `a visit in the future: ${s.body}`);
    s = await step(base, tok.civ, id, 'visit', { method: 'phone', notes: '电话回访，了解到材料要求不清楚' });
    assert.equal(s.status, 200, s.body);
    assert.equal(s.json.rectification.state, 'visited');
    assert.equal(s.json.rectification.visit.method, 'phone');
    s = await step(base, tok.civ, id, 'visit', { method: 'phone', notes: 'again' });
    assert.equal(s.status, 409, 'the visit is recorded once');
    s = await step(base, tok.a, id, 'rate', { level: 3 });
    assert.equal(s.status, 409, `rate before the feedback: ${s.body}`);
    s = await step(base, tok.civ, id, 'rectify', { notes: '修订办事指南，明确材料要求' });
    assert.equal(s.status, 200, s.body);
    s = await step(base, tok.civ, id, 'feedback', { notes: '已修订指南并对窗口人员培训。' });
    assert.equal(s.status, 200, s.body);
    assert.equal(s.json.rectification.state, 'awaiting_rating');
    const mail = await inbox(base, tok.a);
    assert.ok(mail.some((m) => m.kind === 'rectify_feedback' && m.body.includes('已修订指南')), 'feedback in the inbox');
    s = await step(base, tok.civ, id, 'rate', { level: 3 });
    assert.equal(s.status, 403, 'staff do not rate their own rectification');
    s = await step(base, tok.a, id, 'rate', { level: 4 });
    assert.equal(s.status, 422, s.body);
    s = await step(base, tok.a, id, 'rate', { level: 2 });
    assert.equal(s.status, 200, s.body);
    assert.equal(s.json.rectification.state, 'closed');
    assert.equal(s.json.rectification.citizen_rating.name, '基本满意');
    s = await step(base, tok.a, id, 'rate', { level: 3 });
    assert.equal(s.status, 409, 'rated once');
    const detail = await bearer(`${base}/api/v1/evaluations/${id}`, tok.a);
    assert.deepEqual(detail.json.events.map((e) => e.action), ['rate', 'open', 'visit', 'rectify', 'feedback', 'rate']);
  });

  test('an overdue task warns the department heads once', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 1, tags: ['unhelpful'] });
    assert.equal(r.status, 201, r.body);
    const before = (await inbox(base, tok.civ)).filter((m) => m.kind === 'rectify_overdue').length;
    await runDuties(srv, dayFromNow(30));
    const after1 = (await inbox(base, tok.civ)).filter((m) => m.kind === 'rectify_overdue');
    assert.ok(after1.length > before, 'the head (staffB) is warned');
    assert.ok(after1.some((m) => m.body.includes(`/evaluations/${r.json.id}`)));
    await runDuties(srv, dayFromNow(31));
    const after2 = (await inbox(base, tok.civ)).filter((m) => m.kind === 'rectify_overdue');
    assert.equal(after2.length, after1.length, 'once per task');
    const psb = (await inbox(base, tok.psb)).filter((m) => m.kind === 'rectify_overdue');
    assert.equal(psb.length, 0, 'only the department of the case');
  });
});

describe('appeals', () => {
  async function badReview() {
    const number = await completedApplication(base, tok.a, tok.civ);
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 1, tags: ['system_fault'], comment: '恶意差评测试' });
    assert.equal(r.status, 201, r.body);
    return r.json.id;
  }
  const appeal = (token, id, body) => bearer(`${base}/api/v1/evaluations/${id}/appeal`, token, { method: 'POST', json: body });
  const decide = (id, body) => bearer(`${base}/api/v1/admin/appeals/${id}/decision`, tok.admin, { method: 'POST', json: body });

  test('upheld: the review is excluded and its task cancelled', async () => {
    const id = await badReview();
    let r = await appeal(tok.psb, id, { reason: '不是我们' });
    assert.equal(r.status, 404, r.body);
    r = await appeal(tok.civ, id, { reason: '' });
    assert.equal(r.status, 422, r.body);
    r = await appeal(tok.civ, id, { reason: '该申请当日系统维护已公告，评价与办理无关' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.appeal.state, 'pending');
    const twice = await appeal(tok.civ, id, { reason: '再次申诉' });
    assert.equal(twice.status, 409, twice.body);
    const list = await bearer(`${base}/api/v1/admin/appeals`, tok.admin);
    assert.equal(list.status, 200, list.body);
    const a = list.json.items.find((x) => x.evaluation === id);
    assert.ok(a, 'pending appeal listed');
    assert.equal((await bearer(`${base}/api/v1/admin/appeals`, tok.civ)).status, 403);
    r = await decide(a.id, { decision: 'maybe' });
    assert.equal(r.status, 422, r.body);
    r = await decide(a.id, { decision: 'upheld', note: '情况属实' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'upheld');
    r = await decide(a.id, { decision: 'rejected' });
    assert.equal(r.status, 409, 'decided once');
    const e = await bearer(`${base}/api/v1/evaluations/${id}`, tok.civ);
    assert.equal(e.json.excluded, true);
    assert.equal(e.json.rectification.state, 'cancelled');
    assert.ok(e.json.events.some((x) => x.action === 'appeal_upheld'));
    const s = await step(base, tok.civ, id, 'visit', { method: 'phone', notes: 'x' });
    assert.equal(s.status, 409, 'a cancelled task takes no steps');
  });

  test('rejected: the review stays', async () => {
    const id = await badReview();
    const r = await appeal(tok.civ, id, { reason: '我们认为是误评' });
    assert.equal(r.status, 201, r.body);
    const d = await decide(r.json.appeal.id, { decision: 'rejected', note: '理由不成立' });
    assert.equal(d.status, 200, d.body);
    const e = await bearer(`${base}/api/v1/evaluations/${id}`, tok.civ);
    assert.equal(e.json.excluded, false);
    assert.equal(e.json.rectification.state, 'open');
    assert.equal(e.json.appeal.state, 'rejected');
    assert.ok(e.json.events.some((x) => x.action === 'appeal_rejected'));
  });

  test('only bad reviews, only by a head of the department', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const good = await rate(base, tok.a, { subject: 'application', ref: number, level: 5, tags: ['efficient'] });
    const r = await appeal(tok.civ, good.json.id, { reason: 'x' });
    assert.equal(r.status, 409, r.body);
  });
});

describe('invitations', () => {
  test('a case still unrated 3 days after it ended gets one invitation', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const invites = async () => (await inbox(base, tok.a)).filter((m) => m.kind === 'evaluate_invite' && m.body.includes(number));
    await runDuties(srv, dayFromNow(2));
    assert.equal((await invites()).length, 0, 'not before 3 days');
    await runDuties(srv, dayFromNow(3));
    const got = await invites();
    assert.equal(got.length, 1, 'invited after 3 days');
    assert.ok(got[0].body.includes(`/evaluate/application/${number}`));
    await runDuties(srv, dayFromNow(4));
    assert.equal((await invites()).length, 1, 'once per case');
    const rated = await completedApplication(base, tok.a, tok.civ);
    assert.equal((await rate(base, tok.a, { subject: 'application', ref: rated, level: 4, tags: ['courteous'] })).status, 201);
    await runDuties(srv, dayFromNow(10));
    assert.ok(!(await inbox(base, tok.a)).some((m) => m.kind === 'evaluate_invite' && m.body.includes(rated)), 'rated cases are not invited');
  });
});

describe('figures and the transparency log', () => {
  test('the public statistics count the evaluations that stand and the closed rectifications', async () => {
    const r = await bearer(`${base}/api/v1/stats`, null);
    assert.equal(r.status, 200, r.body);
    const t = r.json.totals;
    const n = async (q) => Number(await sql(srv.db, q));
    assert.equal(t.evaluations, await n('SELECT COUNT(*) FROM evaluations WHERE excluded = 0'));
    assert.equal(t.bad_reviews, await n('SELECT COUNT(*) FROM evaluations WHERE excluded = 0 AND bad = 1'));
    assert.ok(await n('SELECT COUNT(*) FROM evaluations WHERE excluded = 1') >= 1, 'an upheld appeal took one out');
    assert.equal(t.rectifications_closed, await n("SELECT COUNT(*) FROM rectifications WHERE state = 'closed'"));
    assert.equal(t.rectified, await n("SELECT COUNT(*) FROM rectifications WHERE state = 'closed' AND citizen_level >= 2"));
  });

  test('every evaluation and appeal decision is a leaf of the transparency log, without personal data', async () => {
    const evals = Number(await sql(srv.db, 'SELECT COUNT(*) FROM evaluations'));
    const leaves = Number(await sql(srv.db, "SELECT COUNT(*) FROM ledger_leaves WHERE kind = 'evaluation'"));
    assert.equal(leaves, evals);
    const decided = Number(await sql(srv.db, "SELECT COUNT(*) FROM appeals WHERE state <> 'pending'"));
    assert.equal(Number(await sql(srv.db, "SELECT COUNT(*) FROM ledger_leaves WHERE kind = 'evaluation_appeal'")), decided);
    const idx = (await sql(srv.db, "SELECT idx FROM ledger_leaves WHERE kind = 'evaluation' ORDER BY idx LIMIT 5")).split('\n');
    const text = (await Promise.all(idx.map(async (i) => (await fetch(`${srv.url}/api/v1/ledger/leaves/${i}`)).text()))).join('\n');
    assert.match(text, /"kind":"evaluation"/);
    assert.ok(!/恶意差评测试|跑了三次|张三/.test(text), 'no comment or name in the leaves');
  });
});

test('CIV_ITEM is an online civ item', () => {
  assert.ok(CIV_ITEM && CIV_ITEM.department === 'civ');
});

describe('no one judges their own', () => {
  test('the clerk who entered a bad review at the counter does not put it right; a colleague does', async () => {
    const app = await fileApplication(base, tok.a);
    await sql(srv.db, `UPDATE applications SET channel = 'counter' WHERE number = '${app.number}'`);
    await complete(base, tok.civ, app.number);
    const r = await rate(base, tok.civ, { subject: 'application', ref: app.number, level: 1, tags: ['unhelpful'], channel: 'counter' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.rectification?.state, 'open', r.body);
    let s = await step(base, tok.civ, r.json.id, 'visit', { method: 'phone', notes: '回访' });
    assert.equal(s.status, 403, `the clerk who entered it: ${s.body}`);
    // Another member of the department's staff does the return visit.
    const phone = `139${String((Date.now() + 7) % 100_000_000).padStart(8, '0')}`;
    const made = await bearer(`${base}/api/v1/admin/accounts`, tok.admin, { method: 'POST', json: { kind: 'staff', name: '吴十', phone, department: 'civ', staff_roles: 'reviewer' } });
    assert.equal(made.status, 201, made.body);
    const colleague = (await apiLogin(base, phone, made.json.initial_password)).token;
    s = await step(base, colleague, r.json.id, 'visit', { method: 'phone', notes: '电话回访' });
    assert.equal(s.status, 200, s.body);
  });

  test('appeals: a head files, only an administrator decides, and administrators file none', async () => {
    const number = await completedApplication(base, tok.a, tok.civ);
    const r = await rate(base, tok.a, { subject: 'application', ref: number, level: 1, tags: ['unhelpful'] });
    assert.equal(r.status, 201, r.body);
    const byAdmin = await bearer(`${base}/api/v1/evaluations/${r.json.id}/appeal`, tok.admin, { method: 'POST', json: { reason: '自己申诉' } });
    assert.ok([403, 404].includes(byAdmin.status), `an administrator filed an appeal: ${byAdmin.body}`);
    const filed = await bearer(`${base}/api/v1/evaluations/${r.json.id}/appeal`, tok.civ, { method: 'POST', json: { reason: '评价与事实不符' } });
    assert.equal(filed.status, 201, filed.body);
    const id = filed.json.id ?? filed.json.appeal?.id;
    assert.ok(id, filed.body);
    const byHead = await bearer(`${base}/api/v1/admin/appeals/${id}/decision`, tok.civ, { method: 'POST', json: { decision: 'upheld' } });
    assert.equal(byHead.status, 403, 'the head who filed it decided it');
  });
});
