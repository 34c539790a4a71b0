// federation-joint.test.mjs: 多地联办. A hub and two halls, Qinghe (A: the item's first step,
// where the citizen applies) and Lanshan (B: its second step), both joined and approved, with
// the back-off compressed to a second. Qinghe's demo item psb-0019 names its second step at
// Lanshan (psb-0007). The citizen applies once at Qinghe; Qinghe's staff work the first step;
// its approval forwards the application (form, files, Qinghe's decision) to Lanshan, whose staff
// work the second; Lanshan's end is the application's end at Qinghe, which shows both steps.
// A refusal at Qinghe forwards nothing; a refusal at Lanshan ends the whole application; Lanshan
// down during the hand-over gets it once when it is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, actOn, apiLogin, applyOnline, bearer, demoCatalog, demoForm, get, govhall, pageLogin, serve, sql, waitFor,
} from './helpers.mjs';
import * as fixtures from './federation-fixtures.mjs';

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

const ITEM = demoCatalog().services.find((s) => s.joint);
const outbox = () => fixtures.outboxOf(qinghe.db, qinghe.keyFile);

const act = async (url, token, number, action, body = {}) => {
  const r = await actOn(url, token, number, action, body);
  assert.equal(r.status, 200, `${action} of ${number}: ${r.status} ${r.body}`);
  return r.json;
};
const atA = (number, action, body) => act(qingheUrl, tok.staffA, number, action, body);
const atB = (number, action, body) => act(lanshanUrl, tok.staffB, number, action, body);
const steps = (number, url = qingheUrl, token = tok.citizen) => bearer(`${url}/api/v1/applications/${number}/steps`, token);
const appAtA = (number) => bearer(`${qingheUrl}/api/v1/applications/${number}`, tok.citizen);

async function apply() {
  const r = await applyOnline(qingheUrl, tok.citizen, ITEM);
  assert.equal(r.status, 201, r.body);
  return r.json.number;
}

/** The application's steps at Qinghe once fn(answer) holds. */
const until = (number, fn, what) => waitFor(async () => {
  const r = await steps(number);
  return r.status === 200 && fn(r.json) ? r.json : null;
}, { what });

/** Qinghe's first step through to its approval: the answer of the approval. */
async function approveAtA(number) {
  await atA(number, 'accept');
  await atA(number, 'start_review');
  return atA(number, 'approve');
}

before(async () => {
  assert.ok(ITEM, 'the demo catalog has an item with a step at another hall');
  assert.equal(ITEM.joint.hall, 'lanshan');
  ({ hub, qinghe, qingheUrl, qingheDb, lanshan, lanshanUrl, lanshanDb, lanshanArgs, probe } = await fixtures.federation('fjoint',
    { demo: true }));
  tok.citizen = (await apiLogin(qingheUrl, DEMO.citizen.phone)).token;
  tok.staffA = (await apiLogin(qingheUrl, DEMO.staffA.phone)).token;
  tok.staffB = (await apiLogin(lanshanUrl, DEMO.staffA.phone)).token;
});

after(() => fixtures.stopFederation({ hub, qinghe, lanshan, qingheDb, lanshanDb }));

describe('多地联办: one application, a step at Qinghe and a step at Lanshan', () => {
  test('the guide names the hall of each step; applying without consent is refused', async () => {
    const g = await get(`${qingheUrl}/services/${ITEM.code}`);
    assert.equal(g.status, 200);
    const html = g.body;
    assert.match(html, /第 1 步：清河市[\s\S]*第 2 步：兰山市 \(<code>psb-0007<\/code>\)/, 'step 1 at Qinghe, step 2 at Lanshan, in order');
    const form = demoForm(ITEM);
    delete form.joint_consent;
    const r = await applyOnline(qingheUrl, tok.citizen, ITEM, { form });
    assert.equal(r.status, 422, r.body);
    assert.ok(JSON.stringify(r.json).includes('joint_consent'), r.body);
  });

  test('approved at Qinghe, forwarded, approved at Lanshan: approved at Qinghe with both steps', async () => {
    const number = await apply();
    const before = await steps(number);
    assert.equal(before.status, 200, before.body);
    assert.deepEqual(before.json.steps.map((s) => [s.step, s.hall, s.state]),
      [[1, 'qinghe', 'submitted'], [2, 'lanshan', 'waiting']]);
    const approved = await approveAtA(number);
    assert.equal(approved.state, 'joint_step', 'the second step follows the first at once');
    const filed = await until(number, (j) => j.steps[1].remote_number && j.steps[1].state === 'submitted', 'Lanshan to file it');
    const remote = filed.steps[1].remote_number;
    // At Lanshan: a real application of its item, with Qinghe's files and Qinghe's decision.
    const b = await bearer(`${lanshanUrl}/api/v1/applications/${remote}`, tok.staffB);
    assert.equal(b.status, 200, b.body);
    assert.equal(b.json.item_code, ITEM.joint.item_code);
    assert.equal(b.json.materials.flatMap((m) => m.attachments ?? []).length, ITEM.materials.filter((m) => m.required).length);
    const prior = await steps(remote, lanshanUrl, tok.staffB);
    assert.equal(prior.status, 200, prior.body);
    assert.deepEqual(prior.json.steps.map((s) => [s.step, s.hall, s.state, s.number]),
      [[1, 'qinghe', 'approved', number], [2, 'lanshan', 'submitted', remote]]);

    await atB(remote, 'accept');
    await atB(remote, 'start_review');
    await atB(remote, 'approve');
    const done = await until(number, (j) => j.state === 'approved', 'the approval at Lanshan to end it at Qinghe');
    assert.deepEqual(done.steps.map((s) => s.state), ['approved', 'approved']);
    assert.deepEqual(done.steps[1].events.map((e) => e.action), ['forward', 'submit', 'accept', 'start_review', 'approve']);
    assert.deepEqual(done.steps[1].events.map((e) => e.seq), [0, 1, 2, 3, 4], 'each step of Lanshan once, in order');
    const a = await appAtA(number);
    assert.deepEqual(a.json.events.map((e) => e.action).slice(-3), ['approve', 'joint_forward', 'joint_approve']);
    // ONE application: the forwarding is not listed apart from it.
    const mine = await bearer(`${qingheUrl}/api/v1/federation/applications`, tok.citizen);
    assert.ok(!mine.json.applications.some((x) => x.number === done.steps[1].number));
    // Qinghe delivers the result as for any approved application.
    assert.equal((await atA(number, 'complete', { delivery: 'online' })).state, 'completed');
    // The application page shows both steps.
    const page = await (await pageLogin(qingheUrl, DEMO.citizen.phone)).get(`/applications/${number}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /第 1 步：清河市[\s\S]*第 2 步：兰山市/);
    assert.ok(page.body.includes(remote), 'Lanshan\'s number on the page');
  });

  test('refused at Qinghe: it ends there, nothing is forwarded', async () => {
    const number = await apply();
    await atA(number, 'accept');
    await atA(number, 'start_review');
    const denied = await atA(number, 'deny', { reason: '不符合迁出条件（测试）', legal_basis: '《户口登记条例》' });
    assert.equal(denied.state, 'denied');
    const s = (await steps(number)).json;
    assert.deepEqual(s.steps.map((x) => x.state), ['denied', 'waiting']);
    const rows = await sql(qinghe.db, `SELECT COUNT(*) FROM fed_joint j JOIN applications a ON a.id = j.application_id WHERE a.number = '${number}'`);
    assert.equal(Number(rows), 0);
    assert.equal((await outbox()).filter((m) => m.kind === 'application.forward').length, 1, 'only the first test\'s');
  });

  test('refused at Lanshan: the whole application is refused at Qinghe, with Lanshan\'s reason', async () => {
    const number = await apply();
    await approveAtA(number);
    const filed = await until(number, (j) => j.steps[1].remote_number, 'Lanshan to file it');
    const remote = filed.steps[1].remote_number;
    await atB(remote, 'accept');
    await atB(remote, 'start_review');
    await atB(remote, 'deny', { reason: '迁入地址不符合落户条件（测试）', legal_basis: '《户口登记条例》' });
    const done = await until(number, (j) => j.state === 'denied', 'the refusal at Lanshan to end it at Qinghe');
    assert.equal(done.steps[1].state, 'denied');
    const a = await appAtA(number);
    const last = a.json.events.at(-1);
    assert.equal(last.action, 'joint_deny');
    assert.match(JSON.stringify(last), /迁入地址不符合落户条件/);
    assert.equal((await actOn(qingheUrl, tok.staffA, number, 'complete', { delivery: 'online' })).status, 409);
  });

  test('Lanshan down during the hand-over: it arrives once when Lanshan is back', async () => {
    await lanshan.stop();
    let number;
    try {
      number = await apply();
      await approveAtA(number);
      const fw = (await steps(number)).json.steps[1].number;
      await waitFor(async () => (await outbox()).some((m) => m.subject === fw && m.kind === 'application.forward'
        && m.state === 'waiting' && m.attempts >= 3), { what: 'three failed tries of the forwarding' });
    } finally {
      lanshan = await serve(lanshanDb.url, { keyFile: lanshanDb.keyFile, extraArgs: lanshanArgs });
    }
    const filed = await until(number, (j) => j.steps[1].remote_number, 'Lanshan to file it after its restart');
    const fw = filed.steps[1].number;
    const got = await sql(lanshanDb.url, `SELECT COUNT(*) FROM fed_received WHERE origin = 'qinghe' AND origin_number = '${fw}'`);
    assert.equal(Number(got), 1, 'filed once');
    await atB(filed.steps[1].remote_number, 'refuse', { reason: '材料不全（测试）' });
    const done = await until(number, (j) => j.state === 'denied', 'the refusal back at Qinghe');
    assert.deepEqual(done.steps[1].events.map((e) => e.action), ['forward', 'submit', 'refuse']);
  });

  test('Lanshan refuses a first step\'s decision told by another hall than the one that took it, or not approved', async () => {
    const B = demoCatalog().services.find((x) => x.code === ITEM.joint.item_code);
    const send = (subject, body) => {
      const url = `${lanshanUrl}/federation/inbox`;
      const text = JSON.stringify({ from: 'probe', subject, seq: 1, kind: 'application.forward', body });
      return fetch(url, { method: 'POST', body: text, headers: fixtures.signedHeaders(url, text, probe.privateKey, probe.kid) });
    };
    const body = (number, prior) => ({ number, item_code: B.code, channel: 'web', consent_at: 1,
      applicant: { name: DEMO.citizen.name, id_number: DEMO.citizen.id_number }, form: demoForm(B), files: [],
      prior: { hall: 'probe', number: 'P-1', item_code: ITEM.code, item_name: ITEM.name_zh, state: 'approved', decided_at: 1, ...prior } });
    for (const [i, prior] of [{ hall: 'qinghe' }, { state: 'denied' }, { decided_at: 'soon' }].entries()) {
      const r = await send(`PJ${i}`, body(`PJ${i}`, prior));
      assert.equal(r.status, 422, JSON.stringify(prior));
      assert.equal((await r.json()).error, 'invalid_message');
    }
    assert.equal(Number(await sql(lanshanDb.url, 'SELECT COUNT(*) FROM fed_joint_prior')), 3, 'only the three of Qinghe');
  });

  test('both halls\' audits pass, and find the link of the steps and the first step\'s decision altered behind the log', async () => {
    for (const [db, keyFile] of [[qinghe.db, qinghe.keyFile], [lanshanDb.url, lanshanDb.keyFile]]) {
      const r = await govhall(['audit', '--db', db], { keyFile });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    await sql(qinghe.db, 'UPDATE fed_joint SET created_at = created_at + 1 WHERE application_id = (SELECT MIN(application_id) FROM fed_joint)');
    await sql(lanshanDb.url, "UPDATE fed_joint_prior SET origin_number = 'QH0' WHERE application_id = (SELECT MIN(application_id) FROM fed_joint_prior)");
    let r = await govhall(['audit', '--db', qinghe.db], { keyFile: qinghe.keyFile });
    assert.notEqual(r.code, 0, 'the altered link is found');
    assert.match(r.stdout, /^fed_joint:\d+: /m);
    r = await govhall(['audit', '--db', lanshanDb.url], { keyFile: lanshanDb.keyFile });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /^fed_joint_prior:\d+: /m);
  });
});
