// Duplicate reports of complaints (src/interact/dupes.c) through the JSON API and the pages:
// similar open reports of the same department offered before filing (Chinese and English),
// never a distant (another department's) or different one, others' words masked; "this is my
// problem too" (follow) and the follower told as the reporter is; staff of the department
// merge a duplicate (its reporter and followers follow the primary and are told, both
// histories show it, the merged one cannot be rated); who may not; `govhall audit` passes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, bearer, DEMO, govhall, pageLogin, startServer } from './helpers.mjs';
import { inbox, rate } from './interact-fixtures.mjs';

let srv;
let base;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'dupes' });
  base = srv.url;
  for (const [who, acc] of Object.entries({
    a: DEMO.citizen, b: DEMO.agent, e: DEMO.enterprise, psb: DEMO.staffA, civ: DEMO.staffB,
  })) {
    tok[who] = (await apiLogin(base, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

const post = (p, token, json) => bearer(`${base}${p}`, token, { method: 'POST', json });
const file = async (token, body) => {
  const r = await post('/api/v1/complaints', token, { kind: 'complaint', ...body });
  assert.equal(r.status, 201, r.body);
  return r.json.id;
};
const candidates = async (token, body) => {
  const r = await post('/api/v1/complaints/candidates', token, body);
  assert.equal(r.status, 200, r.body);
  return r.json.items;
};
const ids = (items) => items.map((c) => c.id);
// "This is my problem too": the body is the report the caller was about to file.
const follow = (id, token, body) => post(`/api/v1/complaints/${id}/follow`, token, body);

describe('duplicate reports', () => {
  test('similar open reports of the department are offered, in Chinese and English; not others', async () => {
    const lamp = await file(tok.a, { department: 'psb', subject: '路灯坏了', body: '小区门口的路灯坏了，晚上很黑。联系电话 13800000001' });
    const elsewhere = await file(tok.a, { department: 'civ', subject: '路灯坏了', body: '小区门口的路灯坏了，晚上很黑。' });
    const rude = await file(tok.a, { department: 'psb', subject: '窗口态度差', body: '办理业务时窗口工作人员态度很差' });
    const light = await file(tok.a, { department: 'psb', subject: 'Streetlight broken', body: 'The streetlight outside the school gate is broken.' });

    let c = await candidates(tok.b, { department: 'psb', subject: '路灯不亮', body: '小区门口路灯不亮了，晚上走路很危险' });
    assert.deepEqual(ids(c), [lamp], 'the same problem in the same department, nothing else');
    assert.ok(c[0].score >= 0.25 && c[0].score <= 1, JSON.stringify(c[0]));
    assert.doesNotMatch(JSON.stringify(c), /13800000001|张三/, "no other reporter's personal data");
    assert.match(c[0].excerpt, /\*{11}/, 'the phone number masked');
    assert.equal(c[0].mine, false);
    assert.equal(c[0].complainant, undefined);

    c = await candidates(tok.b, { department: 'psb', subject: 'Street light out', body: 'The street lights near the school gate are not working' });
    assert.deepEqual(ids(c), [light]);
    assert.deepEqual(ids(await candidates(tok.b, { department: 'psb', subject: 'Long queue', body: 'I waited three hours for my number to be called' })), []);
    assert.ok(!ids(await candidates(tok.b, { department: 'psb', subject: '窗口态度差', body: '工作人员态度很差' })).includes(lamp));
    assert.ok(ids(await candidates(tok.b, { department: 'psb', subject: '窗口态度差', body: '工作人员态度很差' })).includes(rude));
    // another department's report is not offered, but its own department's is
    assert.deepEqual(ids(await candidates(tok.b, { department: 'civ', subject: '路灯不亮', body: '小区门口路灯不亮了' })), [elsewhere]);
    // one's own report is shown as one's own
    c = await candidates(tok.a, { department: 'psb', subject: '路灯不亮', body: '小区门口路灯不亮了，晚上走路很危险' });
    assert.equal(c[0].id, lamp);
    assert.equal(c[0].mine, true);

    // bad input: the same checks as filing; staff do not file complaints
    for (const [body, status] of [
      [{ subject: 'x', body: 'y' }, 422],
      [{ department: 'nope', subject: 'x', body: 'y' }, 422],
      [{ department: 'psb', subject: 'x'.repeat(101), body: 'y' }, 422],
      [{ department: 'psb', subject: 'x', body: '灯'.repeat(2001) }, 422],
      [{ department: 'psb', subject: 7, body: 'y' }, 400],
    ]) {
      assert.equal((await post('/api/v1/complaints/candidates', tok.b, body)).status, status, JSON.stringify(body).slice(0, 80));
    }
    assert.equal((await post('/api/v1/complaints/candidates', tok.psb, { department: 'psb', subject: 'x', body: 'y' })).status, 403);
  });

  test('the list is bounded', async () => {
    for (let i = 0; i < 7; i++) {
      await file(tok.e, { department: 'civ', subject: `婚姻登记预约排队 ${i}`, body: '婚姻登记处预约后还要排队两个小时，希望改进预约排队' });
    }
    const c = await candidates(tok.b, { department: 'civ', subject: '婚姻登记排队', body: '预约了婚姻登记还是排队两个小时' });
    assert.equal(c.length, 5);
    for (let i = 1; i < c.length; i++) assert.ok(c[i - 1].score >= c[i].score, 'most alike first');
  });

  test('follow: "this is my problem too"; the follower is told as the reporter is', async () => {
    const id = await file(tok.a, { department: 'psb', subject: '噪音扰民', body: '夜里工地施工噪音很大，张三 13800000001' });
    const mine = { department: 'psb', subject: '工地噪音扰民', body: '夜里工地施工噪音太大了，睡不着' };
    assert.ok(ids(await candidates(tok.b, mine)).includes(id), 'offered first');
    // only a report offered for what one was about to file can be followed: any other is
    // "not found", so following reads nothing one was not offered
    for (const other of [
      { ...mine, department: 'civ' },
      { ...mine, subject: 'Long queue', body: 'I waited three hours for my number to be called' },
    ]) {
      assert.ok(!ids(await candidates(tok.b, other)).includes(id));
      const no = await follow(id, tok.b, other);
      assert.equal(no.status, 404, JSON.stringify(other));
      assert.doesNotMatch(no.body, /噪音|13800000001/);
    }
    // nothing is offered for what could not be filed: "not found", saying why
    for (const [bad, why] of [
      [{ ...mine, subject: 'x'.repeat(101) }, /100/],
      [{ ...mine, department: 'nope' }, /department|部门/],
      [{}, /title|标题/],
    ]) {
      const no = await follow(id, tok.b, bad);
      assert.equal(no.status, 404, JSON.stringify(bad).slice(0, 60));
      assert.match(no.json.error.detail, why);
    }
    assert.equal((await follow(id, tok.b, { ...mine, body: 7 })).status, 400);
    assert.equal((await follow(id, tok.b, undefined)).status, 415);
    assert.equal((await bearer(`${base}/api/v1/complaints/${id}`, tok.psb)).json.followers, 0, 'none of those followed');

    let r = await follow(id, tok.b, mine);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.following, true);
    assert.equal(r.json.complainant, undefined);
    assert.doesNotMatch(JSON.stringify(r.json), /13800000001|张三/, "the reporter's personal data masked");
    assert.ok(r.json.events.every((e) => e.actor === null), 'no names in the history a follower reads');
    assert.equal((await follow(id, tok.b, mine)).status, 200, 'following twice is following');
    r = await follow(id, tok.a, mine);
    assert.equal(r.status, 409, 'not one\'s own');
    assert.equal((await follow(id, tok.psb, mine)).status, 403);
    assert.equal((await follow(999999, tok.b, mine)).status, 404);
    r = await bearer(`${base}/api/v1/complaints/${id}`, tok.psb);
    assert.equal(r.json.followers, 1);
    assert.ok(r.json.events.some((e) => e.action === 'follow'));
    r = await bearer(`${base}/api/v1/complaints/${id}`, tok.a);
    assert.ok(!r.json.events.some((e) => e.action === 'follow' && e.actor), "the reporter does not learn the follower's name");

    assert.equal((await post(`/api/v1/complaints/${id}/answer`, tok.psb, { answer: '已责令夜间停工。' })).status, 200);
    for (const who of ['a', 'b']) {
      const told = (await inbox(base, tok[who])).filter((m) => m.kind === 'complaint_answered' && m.body.includes(`/complaints/${id}`));
      assert.equal(told.length, 1, `${who} told once`);
    }
    r = await bearer(`${base}/api/v1/complaints/${id}`, tok.b);
    assert.equal(r.json.answer, '已责令夜间停工。');
    assert.equal(r.json.can_rate, false, 'only the reporter rates');
    assert.equal((await follow(id, tok.e, mine)).status, 409, 'answered: no longer followed');
  });

  test('merge: staff of the department merge a duplicate; everybody follows the primary and is told', async () => {
    const primary = await file(tok.a, { department: 'psb', subject: '井盖丢失', body: '人民路井盖丢失，很危险' });
    const dup = await file(tok.e, { department: 'psb', subject: '人民路井盖没了', body: '人民路有个井盖丢了' });
    const other = await file(tok.e, { department: 'civ', subject: '井盖丢失', body: '人民路井盖丢失' });
    assert.equal((await follow(dup, tok.b, { department: 'psb', subject: '井盖丢了', body: '人民路有个井盖丢了，很危险' })).status, 200);

    // who may not, and what cannot be merged
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.a, { into: primary })).status, 403, 'a citizen');
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.civ, { into: primary })).status, 403, 'staff of another department');
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: dup })).status, 422, 'into itself');
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: other })).status, 422, "into another department's");
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: 999999 })).status, 422, 'into none');
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: 'x' })).status, 422);
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, {})).status, 422);

    let r = await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: primary });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'merged');
    assert.equal(r.json.merged_into, primary);
    assert.ok(r.json.events.some((e) => e.action === 'merge' && e.detail.into === primary));
    assert.equal((await post(`/api/v1/complaints/${dup}/merge`, tok.psb, { into: primary })).status, 409, 'once');
    assert.equal((await post(`/api/v1/complaints/${dup}/answer`, tok.psb, { answer: 'x' })).status, 409, 'closed');

    r = await bearer(`${base}/api/v1/complaints/${primary}`, tok.psb);
    assert.equal(r.json.followers, 2, 'the reporter and the follower of the duplicate');
    assert.deepEqual(r.json.merged_from, [dup]);
    assert.ok(r.json.events.some((e) => e.action === 'merge_in' && e.detail.from === dup));
    for (const who of ['e', 'b']) {
      const j = (await bearer(`${base}/api/v1/complaints/${primary}`, tok[who])).json;
      assert.equal(j.following, true, who);
      const told = (await inbox(base, tok[who])).filter((m) => m.kind === 'complaint_merged' && m.body.includes(String(primary)));
      assert.equal(told.length, 1, `${who} told of the merge`);
    }
    // the reporter still reads their own report, closed as merged, not rateable
    r = await bearer(`${base}/api/v1/complaints/${dup}`, tok.e);
    assert.equal(r.json.state, 'merged');
    assert.equal(r.json.can_rate, false);
    assert.equal((await rate(base, tok.e, { subject: 'complaint', ref: String(dup), level: 5, tags: ['courteous'] })).status, 409);
    r = await bearer(`${base}/api/v1/me/complaints`, tok.e);
    assert.equal(r.json.items.find((c) => c.id === dup).state, 'merged');

    // the primary's answer reaches everybody
    assert.equal((await post(`/api/v1/complaints/${primary}/answer`, tok.psb, { answer: '已补装井盖。' })).status, 200);
    for (const who of ['a', 'e', 'b']) {
      const told = (await inbox(base, tok[who])).filter((m) => m.kind === 'complaint_answered' && m.body.includes(`/complaints/${primary}`));
      assert.equal(told.length, 1, `${who} told of the answer`);
    }
  });

  test('the pages: offered before filing, "mine is different" files it, staff merge with the form', async () => {
    const a = await pageLogin(base, DEMO.citizen.phone, undefined, { lang: 'en' });
    let r = await a.post('/complaints/new', { kind: 'complaint', department: 'civ', subject: 'Broken ramp', text: 'The wheelchair ramp at the civil affairs hall entrance is broken' });
    assert.equal(r.status, 303, r.body);
    const first = Number(/^\/complaints\/(\d+)/.exec(r.location)[1]);
    const b = await pageLogin(base, DEMO.agent.phone, undefined, { lang: 'en' });
    r = await b.post('/complaints/new', { kind: 'complaint', department: 'civ', subject: 'Ramp broken', text: 'The entrance wheelchair ramp is broken at the civil affairs hall' });
    assert.equal(r.status, 200, 'offered first, nothing filed');
    assert.match(r.body, /This is my problem too/);
    assert.match(r.body, new RegExp(`action="/complaints/${first}/follow"`));
    assert.match(r.body, /name="decided" value="1"/);
    r = await b.post('/complaints/new', { kind: 'complaint', department: 'civ', subject: 'Ramp broken', text: 'The entrance wheelchair ramp is broken at the civil affairs hall', decided: '1' });
    assert.equal(r.status, 303, 'mine is different: filed');
    const second = Number(/^\/complaints\/(\d+)/.exec(r.location)[1]);

    const civ = await pageLogin(base, DEMO.staffB.phone, undefined, { lang: 'en' });
    r = await civ.get(`/complaints/${second}`);
    assert.match(r.body, /id="form-merge"/);
    r = await civ.post(`/complaints/${second}/merge`, { into: 'abc' });
    assert.equal(r.status, 422);
    const psb = await pageLogin(base, DEMO.staffA.phone, undefined, { lang: 'en' });
    // staff of another department: refused (they do not even see the report)
    assert.ok([403, 404].includes((await psb.post(`/complaints/${second}/merge`, { into: String(first) })).status));
    r = await civ.post(`/complaints/${second}/merge`, { into: String(first) });
    assert.equal(r.status, 303, r.body);
    r = await civ.get(`/complaints/${second}`);
    assert.match(r.body, new RegExp(`id="merged-into"[^]*href="/complaints/${first}"`));
    r = await civ.get(`/complaints/${first}`);
    assert.match(r.body, new RegExp(`id="merged-from"[^]*#${second}`));
    r = await b.get(`/complaints/${first}`);
    assert.equal(r.status, 200);
    assert.match(r.body, /id="following"/);
  });

  test('every merge and follow is a logged action: the audit passes', async () => {
    const r = await govhall(['audit', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});
