// federation-hub.test.mjs: applying at the hub (全程网办 "at A or at the hub"). A hub and two
// halls, Qinghe and Lanshan (on PostgreSQL when the suite runs there), joined and approved. A
// person with the hub's own national account reads Lanshan's item at the hub (a look-up the hub
// signs with its message key, which its directory publishes), applies there with consent; the
// hub's outbox forwards it, Lanshan files and works it, and every step comes back into the hub's
// inbox, where the person follows it (API, page, message). Refused: no consent, nothing sent;
// messages to the hub's inbox unsigned, tampered, signed by a key no directory entry has, or
// naming another hall than their key; a replay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  DEMO, actOn, apiLogin, bearer, demoCatalog, demoForm, demoMaterials, get, govhall, newIdNumber, newPhone, pageLogin, waitFor,
} from './helpers.mjs';
import * as fixtures from './federation-fixtures.mjs';
import { now, signedHeaders } from './federation-fixtures.mjs';

let f; // the federation (fixtures.federation)
const tok = {};
let person;

const catalog = demoCatalog();
// An item applied for online with required materials (the files travel with it), of a
// department Lanshan's demo clerk works.
const ITEM = catalog.services.find((s) => s.online_depth >= 3 && s.materials.some((m) => m.required) && s.department === 'psb');

const forward = (body) => bearer(`${f.hubUrl}/api/v1/federation/applications`, tok.person, { method: 'POST', json: body });
const atHub = (number, token = tok.person) => bearer(`${f.hubUrl}/api/v1/federation/applications/${number}`, token);
const act = async (number, action) => {
  const r = await actOn(f.lanshanUrl, tok.staffB, number, action, {});
  assert.equal(r.status, 200, `${action}: ${r.status} ${r.body}`);
};
const untilAtHub = (number, fn, what) => waitFor(async () => {
  const r = await atHub(number);
  return r.status === 200 && fn(r.json) ? r.json : null;
}, { what });

before(async () => {
  f = await fixtures.federation('fhub', { demo: true });
  // A person registered at the hub only: the national account.
  person = { name: '赵中枢', id_number: newIdNumber(5151), phone: newPhone(), password: 'Hub-apply-2026!' };
  const reg = await fetch(`${f.hubUrl}/api/v1/accounts/individual`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(person) });
  assert.equal(reg.status, 202, await reg.text());
  tok.person = (await apiLogin(f.hubUrl, person.phone, person.password)).token;
  tok.staffB = (await apiLogin(f.lanshanUrl, DEMO.staffA.phone)).token;
});

after(() => fixtures.stopFederation(f));

describe('applying at the hub for a hall\'s item', () => {
  test('the hub\'s directory names the hub with its message key, apart from the halls', async () => {
    const dir = await get(`${f.hubUrl}/.well-known/govhall-directory`);
    const claims = JSON.parse(Buffer.from(dir.body.split('.')[1], 'base64url'));
    assert.equal(claims.hub.id, 'hub');
    assert.equal(claims.hub.base_url, f.hubUrl);
    assert.equal(claims.hub.keys.length, 1);
    assert.ok(!claims.halls.some((h) => h.id === 'hub'));
    // No hall may take the hub's name: neither as a client nor by a registration.
    const add = await govhall(['federation', 'client', 'add', 'hub', '--name', 'x', '--redirect', 'http://127.0.0.1:9/cb', '--db', f.hub.db]);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /not "hub"/);
    await assert.rejects(fixtures.registerHall(f.hubUrl, 'hub'), /registration of hub: 422/);
  });

  test('refused without consent; nothing is queued', async () => {
    const base = { hall: 'lanshan', item_code: ITEM.code, form: demoForm(ITEM), materials: [] };
    // The hub reads its own registry every few seconds: wait until it knows Lanshan.
    await waitFor(async () => /consent|同意/.test((await forward(base)).body), { what: 'the hub to know Lanshan' });
    for (const consent of [undefined, false, 'yes']) {
      const r = await forward({ ...base, consent });
      assert.equal(r.status, 422, r.body);
      assert.match(r.json.error.message + (r.json.error.detail ?? ''), /consent|同意/);
    }
    assert.equal((await forward({ ...base, hall: 'nowhere', consent: true })).status, 422);
    assert.equal((await forward({ ...base, hall: 'hub', consent: true })).status, 422, 'the hub is not a hall to forward to');
    const out = await fixtures.outboxOf(f.hub.db, f.hub.keyFile);
    assert.equal(out.filter((m) => m.kind === 'application.forward').length, 0);
  });

  test('applied at the hub, filed and decided at Lanshan: the decision shows at the hub', async () => {
    // The guide, asked of Lanshan by the hub's signed look-up.
    const c = await pageLogin(f.hubUrl, person.phone, person.password);
    const guide = await c.get(`/federation/apply/lanshan/${ITEM.code}`);
    assert.equal(guide.status, 200, guide.body.slice(0, 300));
    assert.ok(guide.body.includes(ITEM.name_zh), 'Lanshan\'s name of the item');
    assert.match(guide.body, /name="consent"/);

    const r = await forward({ hall: 'lanshan', item_code: ITEM.code, form: demoForm(ITEM),
      materials: await demoMaterials(f.hubUrl, tok.person, ITEM), consent: true });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual([r.json.hall, r.json.state, r.json.channel], ['lanshan', 'forwarded', 'web']);
    const filed = await untilAtHub(r.json.number, (j) => j.remote_number && j.state === 'submitted', 'Lanshan to file it');
    // At Lanshan: a real application of the same person (its account by ID number), with the files.
    const b = await bearer(`${f.lanshanUrl}/api/v1/applications/${filed.remote_number}`, tok.staffB);
    assert.equal(b.status, 200, b.body);
    assert.equal(b.json.item_code, ITEM.code);
    assert.equal(b.json.materials.flatMap((m) => m.attachments ?? []).length, ITEM.materials.filter((m) => m.required).length);

    await act(filed.remote_number, 'accept');
    await act(filed.remote_number, 'start_review');
    await act(filed.remote_number, 'approve');
    const done = await untilAtHub(r.json.number, (j) => j.state === 'approved', 'the decision at the hub');
    assert.deepEqual(done.events.map((e) => e.seq), done.events.map((_, i) => i), 'each step once, in order');
    assert.deepEqual(done.events.map((e) => e.action), ['forward', 'submit', 'accept', 'start_review', 'approve']);
    // Followed at the hub as at a hall: its page, the person's list, a message; nobody else sees it.
    const page = await c.get(`/federation/applications/${r.json.number}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /data-state="approved"/);
    const mine = await bearer(`${f.hubUrl}/api/v1/federation/applications`, tok.person);
    assert.ok(mine.json.applications.some((a) => a.number === r.json.number));
    const inbox = await bearer(`${f.hubUrl}/api/v1/me/inbox`, tok.person);
    assert.ok(inbox.json.messages.some((m) => m.kind === 'remote_state' && m.body_zh.includes(r.json.number)), 'told at the hub');
    const other = { name: '钱旁人', id_number: newIdNumber(5252), phone: newPhone(), password: 'Hub-other-2026!' };
    assert.equal((await fetch(`${f.hubUrl}/api/v1/accounts/individual`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(other) })).status, 202);
    assert.equal((await atHub(r.json.number, (await apiLogin(f.hubUrl, other.phone, other.password)).token)).status, 404);
    // The hub's transparency log holds the forwarded application and both sides' messages.
    const audit = await govhall(['audit', '--db', f.hub.db], { keyFile: f.hub.keyFile });
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    const out = await fixtures.outboxOf(f.hub.db, f.hub.keyFile);
    assert.deepEqual(out.filter((m) => m.subject === r.json.number).map((m) => [m.dest, m.kind, m.state]),
      [['lanshan', 'application.forward', 'delivered']]);
  });
});

describe('the hub\'s inbox', () => {
  const url = () => `${f.hubUrl}/federation/inbox`;
  const msg = (seq, extra = {}) => JSON.stringify({ from: 'probe', subject: 'hub-probe', seq, kind: 'note', body: { n: seq }, ...extra });
  const post = (body, headers) => fetch(url(), { method: 'POST', body, headers });

  test('takes a hall\'s message signed by its directory key, and refuses bad signatures, another sender and a replay', async () => {
    // The first message, once the hub's directory holds the probe.
    const first = msg(1);
    let signed;
    await waitFor(async () => {
      signed = signedHeaders(url(), first, f.probe.privateKey, f.probe.kid);
      return (await post(first, signed)).status === 200;
    }, { what: 'the hub to take the probe\'s message' });
    assert.equal((await post(first, signed)).status, 409, 'the same signature again is a replay');

    const second = msg(2);
    const stranger = generateKeyPairSync('ed25519');
    const cases = [
      ['unsigned', second, { 'content-type': 'application/json' }, 401],
      ['tampered body', msg(2, { body: { n: 99 } }), signedHeaders(url(), second, f.probe.privateKey, f.probe.kid), 401],
      ['a key no entry has', second, signedHeaders(url(), second, stranger.privateKey, 'stranger-1'), 401],
      ['signed by the probe for another address', second, signedHeaders(`${f.qingheUrl}/federation/inbox`, second, f.probe.privateKey, f.probe.kid), 401],
      ['from another hall', msg(2, { from: 'qinghe' }), signedHeaders(url(), msg(2, { from: 'qinghe' }), f.probe.privateKey, f.probe.kid), 403],
    ];
    for (const [what, body, headers, status] of cases) {
      const r = await post(body, headers);
      assert.equal(r.status, status, `${what}: ${r.status}`);
    }
    // The hub works no items: a forward to it is refused, unrecorded.
    const fwd = msg(2, { kind: 'application.forward', body: { number: 'hub-probe', item_code: 'psb-0001', channel: 'web', consent_at: now(),
      applicant: { name: '某人', id_number: '110105195001010011' }, form: {}, files: [] } });
    const refused = await post(fwd, signedHeaders(url(), fwd, f.probe.privateKey, f.probe.kid));
    assert.equal(refused.status, 422);
    assert.equal((await refused.json()).error, 'invalid_message');
    // None of them was recorded: the second number is still free.
    const ok = await post(second, signedHeaders(url(), second, f.probe.privateKey, f.probe.kid));
    assert.equal(ok.status, 200, await ok.text());
  });
});
