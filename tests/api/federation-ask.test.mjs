// federation-ask.test.mjs: consultations and complaints sent to the wrong hall are forwarded to
// the right one, with the person told. A hub and two halls, Qinghe (A, where the person wrote)
// and Lanshan (B, where it belongs), both with the demo's people and catalogs, the back-off
// compressed to a second. Qinghe's staff forward; Lanshan files it in its own queue (its
// department, its due day) and its staff answer; the answer comes back and the person reads it
// at Qinghe as any answer, told at each step. Refused: citizens and other departments' staff
// (server-side), a hall not in the directory, no reason. Lanshan stopped and restarted: the
// forwarding arrives once. Lanshan's rules refusing it (an item it lacks) send it back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, apiLogin, bearer, csrfOf, govhall, pageLogin, serve, sql, waitFor } from './helpers.mjs';
import * as fixtures from './federation-fixtures.mjs';
import { signedHeaders } from './federation-fixtures.mjs';

let hub;
let qinghe;
let qingheUrl;
let lanshan;
let lanshanUrl;
let qingheDb;
let lanshanDb;
let lanshanArgs;
let probe;
const tok = {};
const ITEM = 'psb-0001'; // a national item both halls offer (the police, 公安局, at each)

const post = (url, token, json) => bearer(url, token, { method: 'POST', json });
const at = (base, kind, id, token) => bearer(`${base}/api/v1/${kind}/${id}`, token);
const forward = (kind, id, body, token = tok.staffA) => post(`${qingheUrl}/api/v1/${kind}/${id}/forward`, token, body);

async function ask(kind, subject, text) {
  const body = kind === 'consultations' ? { item_code: ITEM, subject, question: text, public: false }
    : { kind: 'complaint', item_code: ITEM, subject, body: text };
  const r = await post(`${qingheUrl}/api/v1/${kind}`, tok.citizen, body);
  assert.equal(r.status, 201, r.body);
  return r.json;
}

/** The thread at Qinghe (as its staff read it) once fn(it) holds. */
const untilAtA = (kind, id, fn, what, token = tok.staffA) => waitFor(async () => {
  const r = await at(qingheUrl, kind, id, token);
  return r.status === 200 && fn(r.json) ? r.json : null;
}, { what });

/** Lanshan's threads of its psb staff whose subject is subject. */
async function atB(kind, subject) {
  const r = await bearer(`${lanshanUrl}/api/v1/staff/${kind}`, tok.staffB);
  assert.equal(r.status, 200, r.body);
  return r.json.items.filter((t) => t.subject === subject);
}

const inbox = async (token = tok.citizen) => (await bearer(`${qingheUrl}/api/v1/me/inbox`, token)).json.messages;

before(async () => {
  ({ hub, qinghe, qingheUrl, qingheDb, lanshan, lanshanUrl, lanshanDb, lanshanArgs, probe } = await fixtures.federation('fask',
    { demo: true }));
  tok.citizen = (await apiLogin(qingheUrl, DEMO.citizen.phone)).token;
  tok.other = (await apiLogin(qingheUrl, DEMO.agent.phone)).token;
  tok.staffA = (await apiLogin(qingheUrl, DEMO.staffA.phone)).token;
  tok.civA = (await apiLogin(qingheUrl, DEMO.staffB.phone)).token;
  tok.staffB = (await apiLogin(lanshanUrl, DEMO.staffA.phone)).token;
});

after(() => fixtures.stopFederation({ hub, qinghe, lanshan, qingheDb, lanshanDb }));

describe('consultations and complaints forwarded between halls', () => {
  test('refused for citizens, other departments, a hall not in the directory, and without a reason; nothing sent', async () => {
    const c = await ask('consultations', '户口迁入咨询', '我想把户口迁入，需要准备什么？');
    const good = { hall: 'lanshan', reason: '该事项由兰山市公安局办理' };
    // A citizen, even the asker, cannot forward: the route is staff's and the server says so.
    assert.equal((await forward('consultations', c.id, good, tok.citizen)).status, 403);
    // Staff of another department cannot either (the server checks the thread's department).
    const civ = await forward('consultations', c.id, good, tok.civA);
    assert.ok([403, 404].includes(civ.status), civ.body);
    for (const hall of ['nowhere', 'qinghe', '', undefined]) {
      const r = await forward('consultations', c.id, { ...good, hall });
      assert.equal(r.status, 422, `${hall}: ${r.body}`);
      assert.ok(r.json.error.message || r.json.error.detail);
    }
    for (const reason of [undefined, '', '  ', 'x'.repeat(501)]) {
      const r = await forward('consultations', c.id, { ...good, reason });
      assert.equal(r.status, 422, `reason ${JSON.stringify(reason)?.slice(0, 20)}: ${r.body}`);
    }
    const staffView = (await at(qingheUrl, 'consultations', c.id, tok.staffA)).json;
    assert.equal(staffView.can_forward, true);
    assert.equal(staffView.forwarded, undefined);
    assert.equal(staffView.forward_suggested, undefined, 'its words name no other region');
    assert.equal((await at(qingheUrl, 'consultations', c.id, tok.citizen)).json.can_forward, false);
    const out = await fixtures.outboxOf(qinghe.db, qinghe.keyFile);
    assert.equal(out.filter((m) => m.kind === 'interact.forward').length, 0);
  });

  test('a consultation naming Lanshan: suggested, forwarded, filed and answered there, the answer read at Qinghe', async () => {
    // The fixture's halls joined with their names as regions (兰山市).
    const subject = '在兰山市办理户口迁入';
    const c = await ask('consultations', subject, '我在兰山工作，户口想迁入，要带哪些材料？');
    const seen = (await at(qingheUrl, 'consultations', c.id, tok.staffA)).json;
    assert.equal(seen.forward_suggested?.hall, 'lanshan', 'its words name 兰山: forwarding suggested to staff');
    assert.equal((await at(qingheUrl, 'consultations', c.id, tok.citizen)).json.forward_suggested, undefined);

    const reason = '户口迁入兰山由兰山市公安局办理';
    const f = await forward('consultations', c.id, { hall: 'lanshan', reason });
    assert.equal(f.status, 200, f.body);
    assert.equal(f.json.forwarded.hall, 'lanshan');
    assert.equal(f.json.forwarded.reason, reason);
    assert.equal(f.json.can_answer, false, 'Lanshan answers it now');
    assert.equal(f.json.state, 'open');
    // Away: Qinghe's staff cannot answer it, nor forward it again.
    const ans = await post(`${qingheUrl}/api/v1/consultations/${c.id}/answer`, tok.staffA, { answer: '本地答复' });
    assert.equal(ans.status, 409, ans.body);
    assert.equal((await forward('consultations', c.id, { hall: 'lanshan', reason })).status, 409);
    // The person is told at once, with the hall and the reason; their page says the same.
    const told = (await inbox()).find((m) => m.kind === 'consult_forwarded' && m.body_zh.includes(subject));
    assert.ok(told, 'told at Qinghe');
    assert.ok(told.body_zh.includes('兰山市') && told.body_zh.includes(reason), told.body_zh);
    const mine = (await at(qingheUrl, 'consultations', c.id, tok.citizen)).json;
    assert.equal(mine.forwarded.hall_name, '兰山市');
    assert.equal(mine.forwarded.reason, reason);
    assert.ok(mine.forwarded.at);
    assert.equal(mine.forwarded.number, undefined, 'the message number is for staff');

    // Lanshan files it in its own queue: its department, its due day, its staff see who asks.
    const got = await untilAtA('consultations', c.id, (j) => j.forwarded.state === 'received', 'Lanshan to take it');
    assert.match(got.forwarded.due_day, /^\d{4}-\d{2}-\d{2}$/);
    const [b] = await waitFor(async () => (await atB('consultations', subject)).length === 1 && atB('consultations', subject),
      { what: 'the consultation in Lanshan staff\'s list' });
    const bj = (await at(lanshanUrl, 'consultations', b.id, tok.staffB)).json;
    assert.equal(bj.department, 'psb');
    assert.equal(bj.state, 'open');
    assert.equal(bj.asker, DEMO.citizen.name);
    assert.equal(bj.received_from.hall, 'qinghe');
    assert.equal(bj.can_forward, false, 'what came from another hall is answered where it came to');
    assert.equal(bj.due_day, got.forwarded.due_day);

    // Lanshan's staff answer; the answer and its state flow back.
    const answer = '请携带身份证、户口簿和兰山市的居住证明，到兰山市公安局户政窗口办理。';
    const r = await post(`${lanshanUrl}/api/v1/consultations/${b.id}/answer`, tok.staffB, { answer });
    assert.equal(r.status, 200, r.body);
    const done = await untilAtA('consultations', c.id, (j) => j.state === 'answered', 'the answer at Qinghe', tok.citizen);
    assert.equal(done.answer, answer);
    assert.equal(done.forwarded.state, 'answered');
    assert.equal(done.can_rate, true, 'rated as any answer');
    assert.deepEqual(done.events.map((e) => e.action), ['ask', 'forward', 'forward_received', 'answer']);
    assert.ok((await inbox()).some((m) => m.kind === 'consult_answered' && m.body_zh.includes(subject)), 'the answer told at Qinghe');
    // The person's data travelled sealed: Qinghe's outbox holds no ID number readable.
    const stored = await sql(qinghe.db, "SELECT body FROM fed_outbox WHERE kind = 'interact.forward'");
    assert.ok(stored.length > 0 && !stored.includes(DEMO.citizen.id_number) && !stored.includes(DEMO.citizen.name));
  });

  test('a complaint: forwarded with its follower kept at Qinghe, answered at Lanshan, both told at Qinghe', async () => {
    const subject = '兰山户政窗口排队太久';
    const text = '兰山市户政窗口每次排队都要两个小时以上，希望增加窗口。';
    const c = await ask('complaints', subject, text);
    // Someone else has the same problem and follows it at Qinghe.
    const fo = await post(`${qingheUrl}/api/v1/complaints/${c.id}/follow`, tok.other, { kind: 'complaint', item_code: ITEM, subject, body: text });
    assert.equal(fo.status, 200, fo.body);
    const f = await forward('complaints', c.id, { hall: 'lanshan', reason: '反映的是兰山市的窗口' });
    assert.equal(f.status, 200, f.body);
    assert.ok((await inbox()).some((m) => m.kind === 'complaint_forwarded' && m.body_zh.includes(subject)));
    assert.ok((await inbox(tok.other)).some((m) => m.kind === 'complaint_forwarded'), 'the follower told too');
    await untilAtA('complaints', c.id, (j) => j.forwarded.state === 'received', 'Lanshan to take the complaint');
    const [b] = await atB('complaints', subject);
    const bj = (await at(lanshanUrl, 'complaints', b.id, tok.staffB)).json;
    assert.equal(bj.kind, 'complaint');
    assert.equal(bj.complainant, DEMO.citizen.name);
    assert.equal(bj.followers, 0, 'who follows it at Qinghe stays at Qinghe');
    // Merging it at Lanshan would leave Qinghe without an answer: refused.
    const other = await post(`${lanshanUrl}/api/v1/complaints`, (await apiLogin(lanshanUrl, DEMO.agent.phone)).token,
      { kind: 'complaint', item_code: ITEM, subject: '户政窗口排队', body: '户政窗口排队时间长。' });
    assert.equal(other.status, 201, other.body);
    const m = await post(`${lanshanUrl}/api/v1/complaints/${b.id}/merge`, tok.staffB, { into: other.json.id });
    assert.equal(m.status, 409, m.body);

    const answer = '已增设两个户政窗口，并开通网上预约。';
    assert.equal((await post(`${lanshanUrl}/api/v1/complaints/${b.id}/answer`, tok.staffB, { answer })).status, 200);
    const done = await untilAtA('complaints', c.id, (j) => j.state === 'answered', 'the complaint answered at Qinghe', tok.citizen);
    assert.equal(done.answer, answer);
    assert.ok((await inbox()).some((x) => x.kind === 'complaint_answered' && x.body_zh.includes(subject)));
    assert.ok((await inbox(tok.other)).some((x) => x.kind === 'complaint_answered'), 'the follower told the answer');
  });

  test('on the pages: staff see the suggestion and forward with the form (its CSRF token required); the person reads where and why', async () => {
    const c = await ask('consultations', '兰山市居住证', '我在兰山市租房，居住证怎么办？');
    const staff = await pageLogin(qingheUrl, DEMO.staffA.phone);
    const page = await staff.get(`/consultations/${c.id}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /id="forward-suggested"[^>]*>[^<]*兰山市/);
    assert.match(page.body, /<option value="lanshan" selected>兰山市<\/option>/);
    const action = `/consultations/${c.id}/forward`;
    const reason = '居住证由居住地兰山市公安局办理';
    assert.equal((await staff.post(action, { hall: 'lanshan', reason, _csrf: '' })).status, 403, 'no CSRF token');
    const r = await staff.post(action, { hall: 'lanshan', reason, _csrf: csrfOf(page.body, action) });
    assert.equal(r.status, 303, r.body);
    assert.match(r.location, /done=forwarded/);
    const citizen = await pageLogin(qingheUrl, DEMO.citizen.phone);
    const mine = await citizen.get(`/consultations/${c.id}`);
    assert.match(mine.body, /id="forwarded"[\s\S]*兰山市/);
    assert.match(mine.body, new RegExp(`id="forwarded-reason">${reason}<`));
    assert.doesNotMatch(mine.body, /form-forward/, 'no form for the person');
  });

  test('a hall it did not go to cannot answer it; a malformed forward is refused and nothing filed', async () => {
    // The probe: a hall of the directory whose key the test holds.
    const send = (base, subject, kind, body) => {
      const url = `${base}/federation/inbox`;
      const text = JSON.stringify({ from: 'probe', subject, seq: 1, kind, body });
      return fetch(url, { method: 'POST', body: text, headers: signedHeaders(url, text, probe.privateKey, probe.kid) });
    };
    const c = await ask('consultations', '户口簿补办', '户口簿丢了怎么补办？');
    const f = await forward('consultations', c.id, { hall: 'lanshan', reason: '由兰山市办理' });
    assert.equal(f.status, 200, f.body);
    const got = await untilAtA('consultations', c.id, (j) => j.forwarded.state === 'received', 'Lanshan to take it');
    const number = got.forwarded.number;
    let r = await send(qingheUrl, number, 'interact.state', { number, action: 'answered', answer: '伪造的答复', answered_at: 1, at: 1 });
    assert.equal(r.status, 422);
    assert.equal((await r.json()).error, 'invalid_message');
    const still = (await at(qingheUrl, 'consultations', c.id, tok.staffA)).json;
    assert.equal(still.state, 'open');
    assert.equal(still.forwarded.state, 'received');

    const body = { number: 'PX1', kind: 'consultation', type: 'consultation', item_code: ITEM, subject: '探针咨询', text: '探针的问题',
      consent_public: false, reason: 'x', asked_at: 1, person: { name: DEMO.agent.name, id_number: DEMO.agent.id_number } };
    for (const bad of [{ ...body, person: undefined }, { ...body, number: 'PX2' }, { ...body, kind: 'note' }, { ...body, item_code: undefined }]) {
      r = await send(lanshanUrl, 'PX1', 'interact.forward', bad);
      assert.equal(r.status, 422, JSON.stringify(bad));
      assert.equal((await r.json()).error, 'invalid_message');
    }
    assert.equal((await atB('consultations', '探针咨询')).length, 0, 'nothing filed');
    r = await send(lanshanUrl, 'PX1', 'interact.forward', body);
    assert.equal(r.status, 200, await r.text());
    assert.equal((await atB('consultations', '探针咨询')).length, 1, 'the same number then taken by the right message');
  });

  test('Lanshan refusing it (an item it does not have) sends it back to Qinghe\'s staff with the reason', async () => {
    const c = await ask('consultations', '户籍证明咨询', '开具户籍证明要多久？');
    const f = await forward('consultations', c.id, { hall: 'lanshan', reason: '试转', item_code: 'zz-9999' });
    assert.equal(f.status, 200, f.body);
    const back = await untilAtA('consultations', c.id, (j) => j.forwarded.state === 'returned', 'the return at Qinghe');
    assert.ok(back.forwarded.note, 'Lanshan\'s reason');
    assert.equal(back.can_answer, true, 'back in Qinghe staff\'s hands');
    assert.equal(back.can_forward, true);
    assert.equal(back.state, 'open');
    const r = await post(`${qingheUrl}/api/v1/consultations/${c.id}/answer`, tok.staffA, { answer: '一般当场办结。' });
    assert.equal(r.status, 200, r.body);
  });

  test('Lanshan down across retry rounds: the forwarding arrives once, its answer once', async () => {
    const subject = '兰山身份证换领';
    const c = await ask('consultations', subject, '身份证到期，人在兰山，怎么换领？');
    await lanshan.stop();
    let f;
    try {
      f = await forward('consultations', c.id, { hall: 'lanshan', reason: '由兰山市公安局办理' });
      assert.equal(f.status, 200, f.body);
      await waitFor(async () => {
        const o = (await fixtures.outboxOf(qinghe.db, qinghe.keyFile)).filter((m) => m.kind === 'interact.forward' && m.state === 'waiting');
        return o.length === 1 && o[0].attempts >= 3;
      }, { what: 'three failed tries of the forwarding' });
      assert.equal((await at(qingheUrl, 'consultations', c.id, tok.staffA)).json.forwarded.state, 'forwarded');
    } finally {
      lanshan = await serve(lanshanDb.url, { keyFile: lanshanDb.keyFile, extraArgs: lanshanArgs });
    }
    await untilAtA('consultations', c.id, (j) => j.forwarded.state === 'received', 'taken after the restart');
    const list = await atB('consultations', subject);
    assert.equal(list.length, 1, 'filed once');
    assert.equal((await post(`${lanshanUrl}/api/v1/consultations/${list[0].id}/answer`, tok.staffB, { answer: '可在兰山异地换领。' })).status, 200);
    const done = await untilAtA('consultations', c.id, (j) => j.state === 'answered', 'the answer at Qinghe');
    assert.equal(done.events.filter((e) => e.action === 'answer').length, 1);
    assert.equal(done.events.filter((e) => e.action === 'forward_received').length, 1);
  });

  test('Qinghe\'s duties leave a consultation away at Lanshan alone, and warn of a local one overdue', async () => {
    const away = await ask('consultations', '兰山落户咨询', '在兰山落户有什么条件？');
    assert.equal((await forward('consultations', away.id, { hall: 'lanshan', reason: '由兰山市办理' })).status, 200);
    await untilAtA('consultations', away.id, (j) => j.forwarded.state === 'received', 'Lanshan to take it');
    const local = await ask('consultations', '清河户籍证明', '户籍证明在哪里开？');
    const day = new Date(Date.now() + 90 * 86400_000).toISOString().slice(0, 10);
    const r = await govhall(['interact-duties', '--db', qinghe.db, day], { keyFile: qinghe.keyFile });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const events = async (id) => (await at(qingheUrl, 'consultations', id, tok.staffA)).json.events.map((e) => e.action);
    assert.ok((await events(local.id)).includes('overdue_warning'), 'the local one is warned of');
    assert.ok(!(await events(away.id)).includes('overdue_warning'), 'the one away is Lanshan\'s to answer');
  });

  test('both halls\' audits pass, and find a forwarding (Qinghe) and a received thread\'s origin (Lanshan) altered behind the log', async () => {
    for (const [db, keyFile] of [[qinghe.db, qinghe.keyFile], [lanshanDb.url, lanshanDb.keyFile]]) {
      const r = await govhall(['audit', '--db', db], { keyFile });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    await sql(qinghe.db, "UPDATE interact_forwards SET reason = '另一个原因' WHERE id = (SELECT MIN(id) FROM interact_forwards)");
    await sql(lanshanDb.url, "UPDATE interact_received SET origin_number = 'ZX0' WHERE kind = 'consultation' AND thread_id = (SELECT MIN(thread_id) FROM interact_received WHERE kind = 'consultation')");
    let r = await govhall(['audit', '--db', qinghe.db], { keyFile: qinghe.keyFile });
    assert.notEqual(r.code, 0, 'the altered forwarding is found');
    assert.match(r.stdout + r.stderr, /interact_forwards/);
    r = await govhall(['audit', '--db', lanshanDb.url], { keyFile: lanshanDb.keyFile });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /interact_received/);
  });
});
