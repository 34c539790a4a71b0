// Consultations (咨询) and complaints and suggestions (投诉建议) through the JSON API: asking
// about an item or a department, who sees and answers what, a public answer in the item's FAQ
// (the staff's public version only: no asker, no original text, no personal data; only with
// the asker's consent), rating an answer once, and the escalation of an overdue complaint to
// the department heads and then to the administrators (the duties command run for later days).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiLogin, bearer, DEMO, freshTotp, get, htmlText, pageLogin, startServer, waitFor,
} from './helpers.mjs';
import { CIV_ITEM, dayFromNow, inbox, rate, runDuties } from './interact-fixtures.mjs';

/** Search results among FAQ answers for q, once the index has caught up with pred (each node
 * re-checks the catalog's generation within --cache-recheck ms). */
async function searchFaq(q, pred) {
  return waitFor(async () => {
    const r = await bearer(`${base}/api/v1/search?q=${encodeURIComponent(q)}&kind=faq`, null);
    assert.equal(r.status, 200, r.body);
    return pred(r.json.results) && r.json.results;
  }, { what: `FAQ search results for ${q} to catch up` });
}

let srv;
let base;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'consultations', extraArgs: ['--trust-proxy', 'true', '--cache-recheck', '0'] });
  base = srv.url;
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(base, acc.phone)).token;
  }
  tok.admin = (await apiLogin(base, DEMO.admin.phone, undefined, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => { await srv?.stop(); });

const post = (p, token, json) => bearer(`${base}${p}`, token, { method: 'POST', json });

describe('consultations', () => {
  test('asking: about an item (its department answers) or a department; bad input refused', async () => {
    let r = await post('/api/v1/consultations', tok.a, { item_code: CIV_ITEM.code, subject: '需要什么材料', question: '我叫张三，电话 13800000001，请问需要带户口本吗？', public: true });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.department, 'civ');
    assert.equal(r.json.state, 'open');
    assert.equal(r.json.consent_public, true);
    assert.match(r.json.due_day, /^\d{4}-\d{2}-\d{2}$/);
    r = await post('/api/v1/consultations', tok.a, { department: 'psb', subject: '办公时间', question: '周六上班吗？' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.department, 'psb');
    assert.equal(r.json.consent_public, false);
    for (const [body, status] of [
      [{ subject: 'x', question: 'y' }, 422],
      [{ department: 'nope', subject: 'x', question: 'y' }, 422],
      [{ item_code: 'nope-0001', subject: 'x', question: 'y' }, 422],
      [{ department: 'civ', subject: '', question: 'y' }, 422],
      [{ department: 'civ', subject: 'x'.repeat(101), question: 'y' }, 422],
      [{ department: 'civ', subject: 'x', question: '问'.repeat(2001) }, 422],
      [{ department: 'civ', subject: 'x', question: 'y', public: 'yes' }, 400],
      [{ department: 'civ', subject: 7, question: 'y' }, 400],
    ]) {
      const x = await post('/api/v1/consultations', tok.a, body);
      assert.equal(x.status, status, `${JSON.stringify(body).slice(0, 80)}: ${x.body}`);
    }
    assert.equal((await post('/api/v1/consultations', tok.civ, { department: 'civ', subject: 'x', question: 'y' })).status, 403);
  });

  test('a public answer joins the item FAQ without personal data; rated once by the asker', async () => {
    const q = await post('/api/v1/consultations', tok.a, { item_code: CIV_ITEM.code, subject: '要带什么', question: '我是张三，身份证 11010519491231002X，要带户口本吗？', public: true });
    assert.equal(q.status, 201, q.body);
    const id = q.json.id;
    assert.equal((await bearer(`${base}/api/v1/consultations/${id}`, tok.b)).status, 404, 'not for other citizens');
    assert.equal((await bearer(`${base}/api/v1/consultations/${id}`, tok.psb)).status, 404, 'not for other departments');
    const queue = await bearer(`${base}/api/v1/staff/consultations?state=open`, tok.civ);
    assert.ok(queue.json.items.some((x) => x.id === id), 'in the department queue');
    assert.ok((await inbox(base, tok.civ)).some((m) => m.kind === 'consult_new' && m.body.includes(`/consultations/${id}`)));
    let r = await post(`/api/v1/consultations/${id}/answer`, tok.psb, { answer: 'x' });
    assert.equal(r.status, 404, r.body);
    r = await post(`/api/v1/consultations/${id}/answer`, tok.civ, { answer: '需要带户口本原件。', publish: true, public_question: '', public_answer: '' });
    assert.equal(r.status, 422, `publishing needs the public version: ${r.body}`);
    const pending = await rate(base, tok.a, { subject: 'consultation', ref: id, level: 5, tags: ['efficient'] });
    assert.equal(pending.status, 409, 'not rated before the answer');
    r = await post(`/api/v1/consultations/${id}/answer`, tok.civ, {
      answer: '张三您好，需要带户口本原件。', publish: true,
      public_question: '办理时需要带户口本吗？', public_answer: '需要带户口本原件。',
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'answered');
    assert.equal(r.json.published, true);
    r = await post(`/api/v1/consultations/${id}/answer`, tok.civ, { answer: 'again' });
    assert.equal(r.status, 409, 'answered once');
    const mine = await bearer(`${base}/api/v1/consultations/${id}`, tok.a);
    assert.equal(mine.json.answer, '张三您好，需要带户口本原件。');
    assert.equal(mine.json.can_rate, true);
    assert.ok((await inbox(base, tok.a)).some((m) => m.kind === 'consult_answered'));

    const faq = await bearer(`${base}/api/v1/services/${CIV_ITEM.code}/faq`, null);
    assert.equal(faq.status, 200, faq.body);
    const entry = faq.json.items.find((x) => x.question === '办理时需要带户口本吗？');
    assert.ok(entry, 'in the FAQ');
    assert.equal(entry.answer, '需要带户口本原件。');
    assert.ok(!faq.body.includes('11010519491231002X') && !faq.body.includes('张三'), 'no personal data in the FAQ');
    const guide = await get(`${base}/services/${CIV_ITEM.code}`);
    assert.equal(guide.status, 200);
    const text = htmlText(guide.body);
    assert.ok(text.includes('办理时需要带户口本吗？') && text.includes('需要带户口本原件。'), 'on the guide page');
    assert.ok(!text.includes('11010519491231002X') && !text.includes('张三您好'), 'the guide shows the public version only');
    // Search finds the answer and leads to the item's FAQ.
    const found = await searchFaq('户口本', (res) => res.some((x) => x.name_zh === '办理时需要带户口本吗？'));
    const hit = found.find((x) => x.name_zh === '办理时需要带户口本吗？');
    assert.ok(hit, JSON.stringify(found));
    assert.equal(hit.kind, 'faq');
    assert.equal(hit.href, `/services/${CIV_ITEM.code}#faq`);

    r = await rate(base, tok.a, { subject: 'consultation', ref: id, level: 4, tags: ['clear_guide'] });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.subject, 'consultation');
    assert.equal((await rate(base, tok.a, { subject: 'consultation', ref: id, level: 4, tags: ['clear_guide'] })).status, 409);
    assert.equal((await rate(base, tok.b, { subject: 'consultation', ref: id, level: 1, tags: ['unhelpful'] })).status, 404);

    r = await post(`/api/v1/consultations/${id}/publish`, tok.civ, { publish: false });
    assert.equal(r.status, 200, r.body);
    const after = await bearer(`${base}/api/v1/services/${CIV_ITEM.code}/faq`, null);
    assert.ok(!after.json.items.some((x) => x.question === '办理时需要带户口本吗？'), 'withdrawn from the FAQ');
    const gone = await searchFaq('户口本', (res) => !res.some((x) => x.name_zh === '办理时需要带户口本吗？'));
    assert.ok(!gone.some((x) => x.name_zh === '办理时需要带户口本吗？'), 'no longer found by search');
  });

  test('without the asker consent nothing is published', async () => {
    const q = await post('/api/v1/consultations', tok.a, { item_code: CIV_ITEM.code, subject: '私人问题', question: '我的情况特殊', public: false });
    const r = await post(`/api/v1/consultations/${q.json.id}/answer`, tok.civ, { answer: '请来窗口', publish: true, public_question: 'q', public_answer: 'a' });
    assert.equal(r.status, 409, r.body);
    const still = await bearer(`${base}/api/v1/consultations/${q.json.id}`, tok.civ);
    assert.equal(still.json.state, 'open', 'the refused answer changed nothing');
    const ok = await post(`/api/v1/consultations/${q.json.id}/answer`, tok.civ, { answer: '请来窗口' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await post(`/api/v1/consultations/${q.json.id}/publish`, tok.civ, { publish: true, public_question: 'q', public_answer: 'a' })).status, 409);
  });

  test('an unanswered consultation past its due day warns the department once', async () => {
    const q = await post('/api/v1/consultations', tok.a, { department: 'psb', subject: '没人回', question: '多久答复？' });
    assert.equal(q.status, 201, q.body);
    const warned = async () => (await inbox(base, tok.psb)).filter((m) => m.kind === 'consult_overdue' && m.body.includes(`/consultations/${q.json.id}`));
    await runDuties(srv, dayFromNow(1));
    assert.equal((await warned()).length, 0);
    await runDuties(srv, dayFromNow(20));
    assert.equal((await warned()).length, 1);
    await runDuties(srv, dayFromNow(21));
    assert.equal((await warned()).length, 1, 'once');
    const c = await bearer(`${base}/api/v1/consultations/${q.json.id}`, tok.psb);
    assert.ok(c.json.events.some((e) => e.action === 'overdue_warning'));
  });

  test('a bad rating of an answer opens a rectification task for the department', async () => {
    const q = await post('/api/v1/consultations', tok.a, { department: 'civ', subject: '答复太慢', question: '问题' });
    await post(`/api/v1/consultations/${q.json.id}/answer`, tok.civ, { answer: '答复' });
    const r = await rate(base, tok.a, { subject: 'consultation', ref: q.json.id, level: 2, tags: ['unhelpful'] });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.rectification.state, 'open');
    assert.equal(r.json.department, 'civ');
  });
});

describe('complaints and suggestions', () => {
  test('filed, routed, answered, rated', async () => {
    let r = await post('/api/v1/complaints', tok.a, { kind: 'suggestion', department: 'psb', subject: '增加周末窗口', body: '建议周六开放' });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.kind, 'suggestion');
    assert.equal(r.json.department, 'psb');
    const id = r.json.id;
    assert.equal((await post('/api/v1/complaints', tok.a, { kind: 'praise', department: 'psb', subject: 'x', body: 'y' })).status, 422);
    assert.equal((await bearer(`${base}/api/v1/complaints/${id}`, tok.civ)).status, 404);
    assert.equal((await post(`/api/v1/complaints/${id}/answer`, tok.civ, { answer: 'x' })).status, 404);
    assert.equal((await post(`/api/v1/complaints/${id}/answer`, tok.admin, { answer: 'x' })).status, 403, 'administrators answer only escalated ones');
    r = await post(`/api/v1/complaints/${id}/answer`, tok.psb, { answer: '已安排周六上午开放窗口。' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'answered');
    assert.ok((await inbox(base, tok.a)).some((m) => m.kind === 'complaint_answered'));
    const mine = await bearer(`${base}/api/v1/me/complaints`, tok.a);
    assert.ok(mine.json.items.some((x) => x.id === id && x.state === 'answered'));
    r = await rate(base, tok.a, { subject: 'complaint', ref: id, level: 5, tags: ['courteous'] });
    assert.equal(r.status, 201, r.body);
  });

  test('an overdue complaint goes to the department heads, then to the administrators', async () => {
    const r = await post('/api/v1/complaints', tok.a, { kind: 'complaint', item_code: CIV_ITEM.code, subject: '窗口推诿', body: '多次被要求补材料' });
    assert.equal(r.status, 201, r.body);
    const id = r.json.id;
    const esc = async (token) => (await inbox(base, token)).filter((m) => m.kind === 'complaint_escalated' && m.body.includes(`/complaints/${id}`));
    await runDuties(srv, dayFromNow(1));
    assert.equal((await bearer(`${base}/api/v1/complaints/${id}`, tok.civ)).json.escalation, 0, 'not overdue yet');
    await runDuties(srv, dayFromNow(25));
    let c = await bearer(`${base}/api/v1/complaints/${id}`, tok.civ);
    assert.equal(c.json.escalation, 1, `one level per pass: ${c.body}`);
    assert.equal((await esc(tok.civ)).length, 1, 'the head (staffB) is told');
    assert.equal((await esc(tok.admin)).length, 0);
    await runDuties(srv, dayFromNow(25));
    c = await bearer(`${base}/api/v1/complaints/${id}`, tok.civ);
    assert.equal(c.json.escalation, 2, 'still open well past the due day: administrators');
    assert.equal((await esc(tok.admin)).length, 1, 'administrators are told');
    await runDuties(srv, dayFromNow(40));
    assert.equal((await esc(tok.civ)).length, 1, 'once per level');
    assert.equal((await esc(tok.admin)).length, 1, 'once per level');
    const adminList = await bearer(`${base}/api/v1/staff/complaints`, tok.admin);
    assert.ok(adminList.json.items.some((x) => x.id === id), 'in the administrators list');
    const ans = await post(`/api/v1/complaints/${id}/answer`, tok.admin, { answer: '已督办并约谈窗口负责人。' });
    assert.equal(ans.status, 200, ans.body);
    assert.deepEqual(ans.json.events.map((e) => e.action), ['file', 'escalate_head', 'escalate_admin', 'answer']);
  });
});

describe('pages, in both languages', () => {
  test('a citizen asks through the page; staff answer and publish; the guide shows it', async () => {
    const a = await pageLogin(base, DEMO.citizen.phone);
    let r = await a.get(`/consultations/new?item=${CIV_ITEM.code}`);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, new RegExp(`name="item_code" value="${CIV_ITEM.code}"`));
    r = await a.post('/consultations/new', { item_code: CIV_ITEM.code, subject: '', text: '问题' });
    assert.equal(r.status, 422, 'an empty title comes back');
    assert.match(htmlText(r.body), /请填写标题/);
    assert.match(r.body, />问题<\/textarea>/, 'what was typed is kept');
    r = await a.post('/consultations/new', { item_code: CIV_ITEM.code, subject: '网页提问', text: '我是张三，可以代办吗？', public: '1' });
    assert.equal(r.status, 303, r.body);
    const m = /^\/consultations\/(\d+)\?done=sent$/.exec(r.location);
    assert.ok(m, r.location);
    const id = m[1];
    r = await a.get(r.location);
    assert.equal(r.status, 200);
    assert.match(htmlText(r.body), /已提交，我们会在期限内答复/);
    const en = await a.get(`/consultations?lang=en`);
    assert.equal(en.status, 200);
    assert.match(en.body, /My consultations/);
    assert.match(en.body, new RegExp(`href="/consultations/${id}"`));

    const s = await pageLogin(base, DEMO.staffB.phone);
    r = await s.get('/staff/consultations');
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(`href="/consultations/${id}"`));
    r = await s.get(`/consultations/${id}`);
    assert.match(r.body, /id="form-answer"/);
    assert.match(htmlText(r.body), /张三/, 'staff see who asked');
    r = await s.post(`/consultations/${id}/answer`, { answer: '张三您好，可以代办，需授权委托书。', publish: '1', public_question: '可以代办吗？', public_answer: '可以代办，需授权委托书。' });
    assert.equal(r.status, 303, r.body);
    const guide = htmlText((await get(`${base}/services/${CIV_ITEM.code}?lang=en`)).body);
    assert.ok(guide.includes('Frequently asked questions') && guide.includes('可以代办吗？'), 'the FAQ on the English guide');
    assert.ok(!guide.includes('张三您好'));
    r = await a.get(`/consultations/${id}?lang=en`);
    assert.match(r.body, new RegExp(`href="/evaluate/consultation/${id}"`), 'the asker may rate the answer');
    r = await a.post(`/evaluate/consultation/${id}`, { level: '4', tags: 'clear_guide' });
    assert.equal(r.status, 303, r.body);
    assert.match(r.location, /^\/evaluations\/\d+\?done=rated$/);
    const given = r.location.split('?')[0];
    r = await a.get(`/evaluate/consultation/${id}`);
    assert.equal(r.status, 303, 'the form of a rated answer leads to the rating given');
    assert.equal(r.location, given);
    const b = await pageLogin(base, DEMO.agent.phone);
    assert.equal((await b.get(`/evaluate/consultation/${id}`)).status, 404, "not another citizen's");
  });

  test('a complaint through the page; an administrator decides an appeal through the page', async () => {
    const a = await pageLogin(base, DEMO.citizen.phone, undefined, { lang: 'en' });
    let r = await a.get('/complaints/new?department=psb');
    assert.equal(r.status, 200);
    assert.match(r.body, /Make a complaint or suggestion/);
    r = await a.post('/complaints/new', { kind: 'complaint', department: 'psb', subject: 'Rude clerk', text: 'At window 3.' });
    assert.equal(r.status, 303, r.body);
    const cid = /^\/complaints\/(\d+)/.exec(r.location)[1];
    const p = await pageLogin(base, DEMO.staffA.phone);
    r = await p.get('/staff/complaints');
    assert.match(r.body, new RegExp(`href="/complaints/${cid}"`));
    r = await p.post(`/complaints/${cid}/answer`, { answer: '' });
    assert.equal(r.status, 422);
    r = await p.post(`/complaints/${cid}/answer`, { answer: '已批评教育。' });
    assert.equal(r.status, 303, r.body);
    r = await a.post(`/evaluate/complaint/${cid}`, { level: '1', tags: 'unhelpful', comment: 'Not enough' });
    assert.equal(r.status, 303, r.body);
    const eid = /^\/evaluations\/(\d+)/.exec(r.location)[1];

    const head = await pageLogin(base, DEMO.staffA.phone);
    r = await head.get(`/evaluations/${eid}`);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.body, /id="form-appeal"/, 'psb staffA is not a head');
    // The psb department's review: no psb head in the demo, so the appeal goes through the API
    // in evaluations.test.mjs; here the administrator's page decides a civ appeal.
    const civ = (await apiLogin(base, DEMO.staffB.phone)).token;
    const q = await post('/api/v1/consultations', tok.a, { department: 'civ', subject: '申诉用', question: '问' });
    await post(`/api/v1/consultations/${q.json.id}/answer`, civ, { answer: '答' });
    const bad = await rate(base, tok.a, { subject: 'consultation', ref: q.json.id, level: 1, tags: ['unhelpful'] });
    const civPage = await pageLogin(base, DEMO.staffB.phone);
    r = await civPage.get(`/evaluations/${bad.json.id}`);
    assert.match(r.body, /id="form-appeal"/);
    r = await civPage.post(`/evaluations/${bad.json.id}/appeal`, { reason: '提问人并非办事群众' });
    assert.equal(r.status, 303, r.body);
    const admin = await pageLogin(base, DEMO.admin.phone, undefined, { totpSecret: DEMO.admin.totp });
    r = await admin.get('/admin/appeals');
    assert.equal(r.status, 200);
    const am = new RegExp(`action="/admin/appeals/(\\d+)"`).exec(r.body);
    assert.ok(am, 'a pending appeal with its form');
    r = await admin.post(`/admin/appeals/${am[1]}`, { decision: 'upheld', note: '属实' });
    assert.equal(r.status, 303, r.body);
    r = await admin.get(`/evaluations/${bad.json.id}?lang=en`);
    assert.match(htmlText(r.body), /Appeal upheld: not counted/);
    r = await admin.get('/staff/complaints');
    assert.equal(r.status, 200);
    r = await admin.get('/staff/rectifications?lang=en');
    assert.equal(r.status, 200);
  });
});
