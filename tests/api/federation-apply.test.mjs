// federation-apply.test.mjs: 跨省通办. A hub and two halls, Qinghe (A, where the citizen
// applies) and Lanshan (B, which owns the item and works it), both joined and approved, with
// the back-off compressed to a second. A citizen of Qinghe applies for Lanshan's item with
// consent; Lanshan files a real application (its own number, form, files, workflow), its staff
// work it, and every state change comes back to Qinghe, where the citizen follows it and is
// notified. Lanshan stopped across retry rounds and restarted: everything arrives once and in
// order. A counter clerk files one for a person (异地代收代办). Refused: no consent, a hall not
// in the directory, files whose bytes do not hash to what the message names, kinds Lanshan
// does not know (kept by the sender), state messages from a hall the application did not go to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  DEMO, actOn, apiLogin, bearer, csrfOf, demoCatalog, demoForm, demoMaterials, govhall, newIdNumber, pageLogin, samplePdf, serve,
  sql, waitFor,
} from './helpers.mjs';
import * as fixtures from './federation-fixtures.mjs';
import { signedHeaders } from './federation-fixtures.mjs';

let hub;
let hubUrl;
let qinghe;
let qingheUrl;
let lanshan;
let lanshanUrl;
let qingheDb;
let lanshanDb;
let lanshanArgs;
let probe;
const tok = {};

const catalog = demoCatalog();
// An item citizens apply for online, with required materials (files travel with it).
const ITEM = catalog.services.find((s) => s.online_depth >= 3 && s.materials.some((m) => m.required) && s.department === 'psb');

const outbox = fixtures.outboxOf;

const forward = (token, body) => bearer(`${qingheUrl}/api/v1/federation/applications`, token, { method: 'POST', json: body });
const atA = (number, token = tok.citizen) => bearer(`${qingheUrl}/api/v1/federation/applications/${number}`, token);
const atB = (number) => bearer(`${lanshanUrl}/api/v1/applications/${number}`, tok.staffB);
const act = async (number, action, body = {}) => {
  const r = await actOn(lanshanUrl, tok.staffB, number, action, body);
  assert.equal(r.status, 200, `${action}: ${r.status} ${r.body}`);
};

async function apply(extra = {}) {
  const body = { hall: 'lanshan', item_code: ITEM.code, form: demoForm(ITEM), materials: await demoMaterials(qingheUrl, tok.citizen, ITEM),
    consent: true, ...extra };
  const r = await forward(tok.citizen, body);
  assert.equal(r.status, 201, r.body);
  return r.json;
}

/** The forwarded application at A once fn(it) holds. */
const untilAtA = (number, fn, what, token = tok.citizen) => waitFor(async () => {
  const r = await atA(number, token);
  return r.status === 200 && fn(r.json) ? r.json : null;
}, { what });

before(async () => {
  ({ hub, hubUrl, qinghe, qingheUrl, qingheDb, lanshan, lanshanUrl, lanshanDb, lanshanArgs, probe } = await fixtures.federation('fapp',
    { demo: true }));
  tok.citizen = (await apiLogin(qingheUrl, DEMO.citizen.phone)).token;
  tok.clerk = (await apiLogin(qingheUrl, DEMO.staffA.phone)).token;
  tok.staffB = (await apiLogin(lanshanUrl, DEMO.staffA.phone)).token;
});

after(() => fixtures.stopFederation({ hub, qinghe, lanshan, qingheDb, lanshanDb }));

describe('全程网办: applying at Qinghe for an item of Lanshan', () => {
  test('refused without consent or for a hall not in the directory; nothing is sent', async () => {
    const base = { hall: 'lanshan', item_code: ITEM.code, form: demoForm(ITEM), materials: [] };
    for (const consent of [undefined, false, 'yes']) {
      const r = await forward(tok.citizen, { ...base, consent });
      assert.equal(r.status, 422, r.body);
      assert.match(r.json.error.message + (r.json.error.detail ?? ''), /consent|同意/);
    }
    const r = await forward(tok.citizen, { ...base, hall: 'nowhere', consent: true });
    assert.equal(r.status, 422);
    assert.equal((await outbox(qinghe.db, qinghe.keyFile)).filter((m) => m.kind === 'application.forward').length, 0);
  });

  test('Lanshan files it as its own, works it, and every step comes back to Qinghe in order', async () => {
    const fw = await apply();
    assert.equal(fw.state, 'forwarded');
    assert.equal(fw.channel, 'web');
    const filed = await untilAtA(fw.number, (j) => j.remote_number && j.state === 'submitted', 'Lanshan to file it');
    // At Lanshan: a real application of the same person, its form and its files.
    const b = await atB(filed.remote_number);
    assert.equal(b.status, 200, b.body);
    assert.equal(b.json.item_code, ITEM.code);
    assert.equal(b.json.state, 'submitted');
    const files = b.json.materials.flatMap((m) => m.attachments ?? []);
    assert.equal(files.length, ITEM.materials.filter((m) => m.required).length);

    await act(filed.remote_number, 'accept');
    await act(filed.remote_number, 'start_review');
    await act(filed.remote_number, 'approve');
    const done = await untilAtA(fw.number, (j) => j.state === 'approved', 'the approval at Qinghe');
    const bEvents = (await atB(filed.remote_number)).json.events.map((e) => [e.action]);
    assert.deepEqual(done.events.map((e) => e.seq), done.events.map((_, i) => i), 'once each, in order');
    assert.deepEqual(done.events.slice(1).map((e) => e.action), bEvents.map(([a]) => a));
    assert.equal(done.events[0].action, 'forward');
    assert.notEqual(done.state_label, 'approved', 'the state in words');
    // The citizen was told, as of any application.
    const inbox = await bearer(`${qingheUrl}/api/v1/me/inbox`, tok.citizen);
    assert.ok(inbox.json.messages.some((m) => m.kind === 'remote_state' && m.body_zh.includes(fw.number)), 'notified at Qinghe');
    // Listed among the citizen's forwarded applications; someone else gets 404.
    const mine = await bearer(`${qingheUrl}/api/v1/federation/applications`, tok.citizen);
    assert.ok(mine.json.applications.some((a) => a.number === fw.number));
    assert.equal((await atA(fw.number, (await apiLogin(qingheUrl, DEMO.agent.phone)).token)).status, 404);
  });

  test('Lanshan down across retry rounds: each application and each step arrives once, in order', async () => {
    await lanshan.stop();
    let a1;
    let a2;
    try {
      a1 = await apply();
      a2 = await apply();
      await waitFor(async () => {
        const o = (await outbox(qinghe.db, qinghe.keyFile)).filter((m) => [a1.number, a2.number].includes(m.subject));
        return o.length === 2 && o.every((m) => m.state === 'waiting' && m.attempts >= 3);
      }, { what: 'three failed tries of both forwards' });
    } finally {
      lanshan = await serve(lanshanDb.url, { keyFile: lanshanDb.keyFile, extraArgs: lanshanArgs });
    }
    const f1 = await untilAtA(a1.number, (j) => j.remote_number, 'the first filed after the restart');
    const f2 = await untilAtA(a2.number, (j) => j.remote_number, 'the second filed after the restart');
    assert.notEqual(f1.remote_number, f2.remote_number);
    await act(f1.remote_number, 'accept');
    await act(f1.remote_number, 'start_review');
    await act(f2.remote_number, 'refuse', { reason: '材料不全' });
    const g1 = await untilAtA(a1.number, (j) => j.state === 'under_review', 'the review at Qinghe');
    const g2 = await untilAtA(a2.number, (j) => j.state === 'not_accepted', 'the refusal at Qinghe');
    assert.deepEqual(g1.events.map((e) => e.action), ['forward', 'submit', 'accept', 'start_review']);
    assert.deepEqual(g2.events.map((e) => e.action), ['forward', 'submit', 'refuse']);
    assert.equal(g2.reason, '材料不全', 'the reason comes back');
    // Lanshan filed each once.
    const ob = await outbox(lanshanDb.url, lanshanDb.keyFile);
    assert.equal(ob.filter((m) => m.subject === a1.number).length, 3);
    assert.ok(ob.every((m) => m.state === 'delivered'));
  });
});

describe('异地代收代办: a clerk at Qinghe takes an application for Lanshan', () => {
  test('the person named and identity checked, the way of return recorded, the result back', async () => {
    const person = { name: '王五', id_number: newIdNumber(7) };
    const materials = await demoMaterials(qingheUrl, tok.clerk, ITEM);
    const base = { hall: 'lanshan', item_code: ITEM.code, form: demoForm(ITEM), materials, consent: true, applicant: person };
    assert.equal((await forward(tok.clerk, base)).status, 422, 'the way the result is returned is asked for');
    assert.equal((await forward(tok.clerk, { ...base, delivery: 'post', applicant: { name: '王五', id_number: '123' } })).status, 422);
    const r = await forward(tok.clerk, { ...base, delivery: 'post' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.channel, 'counter');
    assert.equal(r.json.delivery, 'post');
    const filed = await untilAtA(r.json.number, (j) => j.remote_number, 'Lanshan to file it', tok.clerk);
    const b = await atB(filed.remote_number);
    assert.equal(b.json.channel, 'counter');
    await act(filed.remote_number, 'refuse', { reason: '不属于受理范围' });
    const back = await untilAtA(r.json.number, (j) => j.state === 'not_accepted', 'the result at Qinghe', tok.clerk);
    assert.equal(back.delivery, 'post');
  });
});

describe('what Lanshan refuses', () => {
  let seq = 0;
  const send = (subject, kind, body, s) => {
    const url = `${lanshanUrl}/federation/inbox`;
    const text = JSON.stringify({ from: 'probe', subject, seq: s, kind, body });
    return fetch(url, { method: 'POST', body: text, headers: signedHeaders(url, text, probe.privateKey, probe.kid) });
  };
  const pdf = samplePdf();
  const file = (over = {}) => ({ slot: ITEM.materials.findIndex((m) => m.required), filename: 'a.pdf',
    sha256: createHash('sha256').update(pdf).digest('hex'), data: pdf.toString('base64'), ...over });
  const fwdBody = (number, files) => ({ number, item_code: ITEM.code, channel: 'web', consent_at: 1, applicant: { name: DEMO.citizen.name,
    id_number: DEMO.citizen.id_number }, form: demoForm(ITEM), files });

  test('a file whose bytes do not hash to the SHA-256 the message names; no consent; a kind it does not know', async () => {
    const subject = `P${++seq}`;
    let r = await send(subject, 'application.forward', fwdBody(subject, [file({ sha256: createHash('sha256').update('other').digest('hex') })]), 1);
    assert.equal(r.status, 422);
    assert.equal((await r.json()).error, 'invalid_message');
    const noConsent = fwdBody(subject, [file()]);
    delete noConsent.consent_at;
    r = await send(subject, 'application.forward', noConsent, 1);
    assert.equal(r.status, 422);
    r = await send(subject, 'application.unheard_of', {}, 1);
    assert.equal(r.status, 422);
    assert.equal((await r.json()).error, 'unknown_kind');
    // None was recorded: the same number is still free, and the right message takes it.
    r = await send(subject, 'application.forward', fwdBody(subject, [file()]), 1);
    assert.equal(r.status, 200, await r.text());
  });

  test('the guide is read only by halls of the directory; Qinghe\'s apply page shows Lanshan\'s', async () => {
    const url = `${lanshanUrl}/federation/items/${ITEM.code}`;
    assert.equal((await fetch(url)).status, 401, 'unsigned');
    const h = signedHeaders(url, '', probe.privateKey, probe.kid);
    // The fixture signs POSTs: a GET signed as a POST is refused too.
    assert.equal((await fetch(url, { headers: h })).status, 401, 'signed for another method');
    const page = await pageLogin(qingheUrl, DEMO.citizen.phone);
    const r = await page.get(`/federation/apply/lanshan/${ITEM.code}`);
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assert.ok(r.body.includes(ITEM.name_zh), 'the item named as Lanshan names it');
    for (const f of ITEM.form.filter((x) => x.type !== 'file')) assert.ok(r.body.includes(`name="field_${f.key}"`), f.key);
    assert.match(r.body, /name="consent"/);
    // "My applications" lists those at other halls, each linked to the page it is followed on.
    const mine = await page.get('/applications');
    const listed = (await bearer(`${qingheUrl}/api/v1/federation/applications`, tok.citizen)).json.applications;
    assert.ok(listed.length > 0);
    for (const a of listed) assert.ok(mine.body.includes(`href="/federation/applications/${a.number}"`), a.number);
    const follow = await page.get(`/federation/applications/${listed[0].number}`);
    assert.equal(follow.status, 200);
    assert.ok(follow.body.includes(listed[0].state_label));
    assert.equal((await page.get('/federation/apply/lanshan/no-such-item')).status, 404);
    assert.equal((await page.get(`/federation/apply/nowhere/${ITEM.code}`)).status, 404);
    // Without the consent the page's form is refused too.
    const csrf = csrfOf(r.body, `/federation/apply/lanshan/${ITEM.code}`);
    const post = await page.post(`/federation/apply/lanshan/${ITEM.code}`, { _csrf: csrf, field_name: '张三' });
    assert.equal(post.status, 422);
  });

  test('a message of a kind Lanshan does not know stays in Qinghe\'s outbox, retried, the next of its subject behind it', async () => {
    for (const kind of ['application.future', 'note']) {
      const r = await govhall(['federation', 'send', 'lanshan', '--subject', 'future-1', '--kind', kind, '--body', '{}',
        '--db', qinghe.db, '--fed-client-id', 'qinghe'], { keyFile: qinghe.keyFile });
      assert.equal(r.code, 0, r.stderr);
    }
    const o = await waitFor(async () => {
      const m = (await outbox(qinghe.db, qinghe.keyFile)).filter((x) => x.subject === 'future-1');
      return m.length === 2 && m[0].attempts >= 2 ? m : null;
    }, { what: 'two refused tries of the unknown kind' });
    assert.equal(o[0].state, 'waiting');
    assert.match(o[0].error, /unknown_kind/);
    assert.deepEqual([o[1].state, o[1].attempts], ['waiting', 0], 'the next message of the subject waits behind it');
  });

  test('a state message about an application that was not forwarded to the sender', async () => {
    const fw = await apply();
    await untilAtA(fw.number, (j) => j.remote_number, 'Lanshan to file it');
    const url = `${qingheUrl}/federation/inbox`;
    const text = JSON.stringify({ from: 'probe', subject: fw.number, seq: 1, kind: 'application.state',
      body: { number: fw.number, action: 'approve', state: 'approved', at: 1 } });
    const r = await fetch(url, { method: 'POST', body: text, headers: signedHeaders(url, text, probe.privateKey, probe.kid) });
    assert.equal(r.status, 422);
    assert.equal((await atA(fw.number)).json.state, 'submitted');
  });

  test('the person\'s data lists them; both halls\' audits pass, and find a forwarded state altered behind the log', async () => {
    const data = await bearer(`${qingheUrl}/api/v1/me/data`, tok.citizen);
    const part = data.json.parts.find((p) => p.name === 'forwarded');
    assert.ok(part && part.kept && part.count >= 4, 'the my-data part of forwarded applications');
    for (const [db, keyFile] of [[qinghe.db, qinghe.keyFile], [lanshanDb.url, lanshanDb.keyFile]]) {
      const r = await govhall(['audit', '--db', db], { keyFile });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    await sql(qinghe.db, "UPDATE fed_forwarded SET state = 'completed' WHERE id = (SELECT MIN(id) FROM fed_forwarded)");
    await sql(qinghe.db, "UPDATE fed_forwarded_events SET reason = 'x' WHERE seq = 1 AND forwarded_id = (SELECT MIN(forwarded_id) FROM fed_forwarded_events WHERE seq = 1)");
    await sql(lanshanDb.url, "UPDATE fed_received SET origin_number = 'KS0' WHERE application_id = (SELECT MIN(application_id) FROM fed_received)");
    let r = await govhall(['audit', '--db', qinghe.db], { keyFile: qinghe.keyFile });
    assert.notEqual(r.code, 0, 'the altered rows are found');
    assert.match(r.stdout + r.stderr, /fed_forwarded\b/);
    assert.match(r.stdout + r.stderr, /fed_forwarded_events/);
    r = await govhall(['audit', '--db', lanshanDb.url], { keyFile: lanshanDb.keyFile });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /fed_received/);
  });
});
