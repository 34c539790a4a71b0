// The workflow is data: a hall started with a workflow file of its own (the setting
// `workflow`) that adds a state (inspection, 现场核查) and two actions, with their words in the
// same file, gets them everywhere with no other change: offered to the staff duty the file
// names and to nobody else, taken through the API, logged to the transparency log (the
// inclusion proof verifies), counted in the statistics rollups, told to the applicant in both
// languages and shown in words on the timeline and the staff page. A malformed file stops
// every command with the entry at fault named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  actOn, apiLogin, bearer, DEMO, get, govhall, htmlText, pageLogin, root, sql, startServer, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';
import { b64, checkCheckpoint, leafHash, verifyInclusion } from './ledger-verify.mjs';
import { fileApplication, inbox } from './interact-fixtures.mjs';

const WORDS = {
  zh: {
    case_state_inspection: '现场核查中',
    case_action_inspect: '安排现场核查',
    case_event_inspect: '已安排现场核查',
    case_action_inspected: '现场核查完毕',
    case_event_inspected: '现场核查已完成',
    notify_title_inspect: '将进行现场核查',
    notify_body_inspect: '您的办件 {number}（{item}）将进行现场核查，请保持电话畅通。',
  },
  en: {
    case_state_inspection: 'Field inspection under way',
    case_action_inspect: 'Schedule a field inspection',
    case_event_inspect: 'Field inspection scheduled',
    case_action_inspected: 'Field inspection done',
    case_event_inspected: 'Field inspection completed',
    notify_title_inspect: 'A field inspection is coming',
    notify_body_inspect: 'Your application {number} ({item}) will have a field inspection; please keep your phone on.',
  },
};

/** The shipped workflow with the inspection state and its two actions. */
async function testWorkflow() {
  const wf = JSON.parse(await readFile(path.join(root, 'data/workflow.json'), 'utf8'));
  wf.states.push({ code: 'inspection' });
  wf.actions.push(
    { code: 'inspect', from: ['under_review'], to: 'inspection', actors: ['reviewer'], counts: 'inspections',
      logged: true, button: 'secondary' },
    { code: 'inspected', from: ['inspection'], to: 'under_review', actors: ['reviewer', 'head'] },
  );
  wf.words = structuredClone(WORDS);
  return wf;
}

let srv;
let tmp;
let wfFile;
const tok = {};
const civRoles = "kind = 'staff' AND department = 'civ'";

before(async () => {
  tmp = await tempDir('govhall-workflow-');
  wfFile = await writeJsonFile(tmp.path, 'workflow.json', await testWorkflow());
  srv = await startServer({ name: 'workflow', extraArgs: ['--workflow', wfFile] });
  tok.citizen = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  tok.civ = (await apiLogin(srv.url, DEMO.staffB.phone)).token;
});
after(async () => {
  await srv?.stop();
  await tmp?.remove();
});

const detail = (number, token, lang = 'zh') => bearer(`${srv.url}/api/v1/applications/${number}?lang=${lang}`, token);

describe('an action added in the workflow file', () => {
  let number;

  test('is offered to the duty it names, and to nobody else', async () => {
    number = (await fileApplication(srv.url, tok.citizen)).number;
    for (const a of ['accept', 'start_review']) assert.equal((await actOn(srv.url, tok.civ, number, a)).status, 200, a);
    const staff = await detail(number, tok.civ);
    assert.equal(staff.status, 200, staff.body);
    assert.ok(staff.json.actions.includes('inspect'), `a reviewer is offered it: ${staff.json.actions}`);
    const citizen = await detail(number, tok.citizen);
    assert.ok(!citizen.json.actions.includes('inspect'), 'the applicant is not');
    const page = await pageLogin(srv.url, DEMO.staffB.phone);
    const html = (await page.get(`/applications/${number}`)).body;
    assert.match(html, new RegExp(`action="/applications/${number}/actions/inspect"`), 'the staff page has its form');
    assert.ok(htmlText(html).includes(WORDS.zh.case_action_inspect), 'its button in words');
    // Without the reviewer duty: neither offered nor allowed.
    const roles = await sql(srv.db, `SELECT staff_roles FROM accounts WHERE ${civRoles}`);
    await sql(srv.db, `UPDATE accounts SET staff_roles = 'counter' WHERE ${civRoles}`);
    try {
      assert.ok(!(await detail(number, tok.civ)).json.actions.includes('inspect'), 'counter duty only: not offered');
      const r = await actOn(srv.url, tok.civ, number, 'inspect');
      assert.equal(r.status, 403, r.body);
    } finally {
      await sql(srv.db, `UPDATE accounts SET staff_roles = '${roles}' WHERE ${civRoles}`);
    }
    assert.equal((await detail(number, tok.civ)).json.state, 'under_review', 'nothing changed');
  });

  test('taking it moves the case to the new state, named in words', async () => {
    const r = await actOn(srv.url, tok.civ, number, 'inspect');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'inspection');
    const en = await detail(number, tok.citizen, 'en');
    assert.equal(en.json.state_name, WORDS.en.case_state_inspection);
    const ev = en.json.events.find((e) => e.action === 'inspect');
    assert.ok(ev, 'on the timeline');
    assert.equal(ev.action_name, WORDS.en.case_event_inspect);
    assert.equal(ev.state_name, WORDS.en.case_state_inspection);
  });

  test('the citizen’s timeline shows it in words, not the code word', async () => {
    for (const lang of ['zh', 'en']) {
      const c = await pageLogin(srv.url, DEMO.citizen.phone, undefined, { lang });
      const page = await c.get(`/applications/${number}`);
      assert.equal(page.status, 200);
      const text = htmlText(page.body);
      assert.ok(text.includes(WORDS[lang].case_event_inspect), `${lang}: the event's words`);
      assert.ok(text.includes(WORDS[lang].case_state_inspection), `${lang}: the state's words`);
      assert.doesNotMatch(page.body, />\s*(→\s*)?inspect(ion|ed)?\s*</, `${lang}: no code word`);
    }
  });

  test('it is logged: the applicant’s receipt proves its leaf is in the signed log', async () => {
    const keys = JSON.parse((await get(`${srv.url}/.well-known/govhall-keys.json`)).body);
    const list = await bearer(`${srv.url}/api/v1/applications/${number}/receipts`, tok.citizen);
    assert.equal(list.status, 200, list.body);
    const rc = list.json.receipts.find((x) => x.action === 'inspect');
    assert.ok(rc, `a receipt for it: ${list.json.receipts.map((x) => x.action)}`);
    const d = (await bearer(`${srv.url}${rc.href}`, tok.citizen)).json;
    const leaf = JSON.parse(d.leaf);
    assert.equal(leaf.action, 'inspect');
    assert.equal(leaf.kind, 'decision', 'the file says logged: a decision leaf');
    assert.equal(leaf.to, 'inspection');
    assert.ok(leafHash(d.leaf).equals(b64(d.leaf_hash)));
    const cp = checkCheckpoint(d.checkpoint, keys);
    assert.ok(verifyInclusion(d.leaf_index, d.tree_size, b64(d.leaf_hash), d.inclusion_proof.map(b64), cp.root),
      'inclusion proof');
  });

  test('it is counted in the statistics rollups under the metric the file names', async () => {
    const counted = await waitFor(async () => {
      const s = JSON.parse((await get(`${srv.url}/api/v1/stats`)).body);
      return s.totals.counted?.inspections === 1 ? s.totals.counted : null;
    }, { what: 'one inspection in the statistics' });
    assert.equal(counted.submitted, 1, 'submit counts as the file says');
  });

  test('the applicant is told, in both languages', async () => {
    const msgs = await waitFor(async () => {
      const m = (await inbox(srv.url, tok.citizen)).filter((x) => x.kind === 'inspect');
      return m.length ? m : null;
    }, { what: 'the inspection message' });
    assert.equal(msgs.length, 1);
    const [m] = msgs;
    assert.equal(m.title_zh, WORDS.zh.notify_title_inspect);
    assert.equal(m.title_en, WORDS.en.notify_title_inspect);
    assert.ok(m.body_zh.includes(number) && m.body_zh.includes('现场核查'), m.body_zh);
    assert.ok(m.body_en.startsWith(`Your application ${number} (`), m.body_en);
    const en = await bearer(`${srv.url}/api/v1/me/inbox?per_page=100&lang=en`, tok.citizen);
    assert.equal(en.json[en.json.items ? 'items' : 'messages'].find((x) => x.kind === 'inspect').title,
      WORDS.en.notify_title_inspect);
  });

  test('the way back and on to the end works as before', async () => {
    for (const a of ['inspected', 'approve', 'complete']) {
      const r = await actOn(srv.url, tok.civ, number, a);
      assert.equal(r.status, 200, `${a}: ${r.body}`);
    }
    const d = await detail(number, tok.citizen, 'en');
    assert.equal(d.json.state, 'completed');
    assert.ok(d.json.events.some((e) => e.action === 'inspected' && e.action_name === WORDS.en.case_event_inspected));
  });
});

describe('a malformed workflow file', () => {
  test('stops every command, naming the entry at fault', async () => {
    const cases = [
      [(wf) => { wf.actions.at(-1).actors = ['boss']; }, /action inspected: unknown actor "boss"/],
      [(wf) => { wf.actions.at(-2).to = 'nowhere'; }, /action inspect leads to unknown state nowhere/],
      [(wf) => { wf.states.push({ code: 'limbo' }); }, /state limbo cannot be reached/],
      [(wf) => { wf.words.en = {}; }, /words\.zh\.case_state_inspection has no twin in words\.en/],
      [(wf) => { wf.words.zh.layout_title = '大厅'; wf.words.en.layout_title = 'Hall'; }, /a workflow brings only/],
    ];
    for (const [i, [spoil, says]] of cases.entries()) {
      const wf = await testWorkflow();
      spoil(wf);
      const file = await writeJsonFile(tmp.path, `bad-${i}.json`, wf);
      const r = await govhall(['stats', '--db', srv.db, '--workflow', file], { keyFile: srv.keyFile });
      assert.notEqual(r.code, 0, `case ${i} accepted`);
      assert.match(r.stderr, says, `case ${i}`);
    }
    // Words the catalogs already have: refused where the catalogs are read (serve, here).
    const wf = await testWorkflow();
    wf.words.zh.case_state_draft = '草稿';
    wf.words.en.case_state_draft = 'Draft';
    const file = await writeJsonFile(tmp.path, 'bad-words.json', wf);
    const r = await govhall(['serve', '--db', srv.db, '--listen', '127.0.0.1:0', '--workflow', file],
      { keyFile: srv.keyFile, timeout: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /message \\?"case_state_draft\\?" is already defined/);
    const missing = await govhall(['stats', '--db', srv.db, '--workflow', path.join(tmp.path, 'none.json')], { keyFile: srv.keyFile });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /none\.json: no such file/);
  });
});
