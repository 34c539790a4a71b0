// Decision rules (秒批 and 免申即享): conditions of an item version on what the hall holds (age and
// division from the ID number, the kind of applicant, the wallet) and on form fields. Eligibility
// before applying (met / not met / unknown, API and guide page), approval at submission naming the
// rule version in the decision, the timeline and the log, the fall-back to staff with the failed
// condition shown to them, the import's refusal of bad rules, and the offer in the inbox of
// citizens who meet a proactive item's conditions, once per citizen and rule version.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, apiLogin, applyOnline, bearer, demoCatalog, demoForm, freshIp, govhall, htmlText, newIdNumber, newPhone,
  pageLogin, serve, sql, startServer, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';

const catalog = demoCatalog();
const item = (code) => structuredClone(catalog.services.find((s) => s.code === code));
const SENIOR = item('trans-0006'); // instant and proactive: aged 60+, registered locally, as an individual
const ELDER = item('civ-0006'); // instant and proactive: aged 80+, registered locally
const DIBAO = item('civ-0004'); // instant: locally registered, hukou in the wallet, income and hardship
const PLAIN = item('psb-0009'); // no rules

let srv;
let base;
let tmp;
let civ; // the civil affairs clerk's token
const people = {};
// newIdNumber(n) is born in 1950 + n % 50 in division 110105: the offset picks the age.
const N0 = 1000 + (process.pid % 5000) * 60;
let seq = 0;

async function citizen(yearOffset, name) {
  const p = {
    name, id_number: newIdNumber((N0 + seq++) * 50 + yearOffset), phone: newPhone(), password: `Rules test ${seq} harbour lamp`,
  };
  const reg = await bearer(`${base}/api/v1/accounts/individual`, null, {
    method: 'POST', json: p, headers: { 'x-forwarded-for': freshIp() },
  });
  assert.equal(reg.status, 202, reg.body);
  const t = await apiLogin(base, p.phone, p.password, { scopes: 'profile,account,apply' });
  return { ...p, token: t.token, id: t.account.id };
}

const api = (p, token, init = {}) => bearer(`${base}${p}`, token, init);
const version = async (code) => (await api(`/api/v1/services/${code}`, null)).json.version;
/** A page's words: tags dropped, entities decoded, spaces collapsed. */
const words = (html) => htmlText(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
const statuses = (r) => Object.fromEntries(r.json.conditions.map((c) => [c.code, c.status]));

before(async () => {
  // Catalogs are imported while it serves: every request asks whether the catalog changed.
  // The 免申即享 duty looks at what is new every second (offers-period) and sweeps everyone
  // only at start and when the proactive rules change (offers-sweep: a day).
  srv = await startServer({ name: 'rules', extraArgs: ['--cache-recheck', '0', '--offers-period', '1'] });
  base = srv.url;
  tmp = await tempDir('govhall-rules-');
  civ = (await apiLogin(base, DEMO.staffB.phone)).token;
  people.old = await citizen(0, '王老伯'); // born 1950: 60 and over, not yet 80
  people.young = await citizen(40, '李青'); // born 1990
});

after(async () => {
  await srv?.stop();
  await tmp?.remove?.();
});

describe('eligibility before applying', () => {
  test('the API says met / not met / unknown for each condition from what the hall holds', async () => {
    let r = await api('/api/v1/services/trans-0006/eligibility', people.old.token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.version, await version('trans-0006'));
    assert.equal(r.json.has_rules, true);
    assert.equal(r.json.instant, true);
    assert.equal(r.json.proactive, true);
    assert.deepEqual(statuses(r), { age_60: 'met', local: 'met', individual: 'met' });
    assert.equal(r.json.outcome, 'met');
    assert.equal(r.json.conditions[0].text_zh, '年满60周岁');
    assert.equal(r.json.conditions[0].text_en, 'Aged 60 or over');

    r = await api('/api/v1/services/trans-0006/eligibility', people.young.token);
    assert.deepEqual(statuses(r), { age_60: 'not_met', local: 'met', individual: 'met' });
    assert.equal(r.json.outcome, 'not_met');

    // the form is not filled in yet: its conditions are unknown; the wallet holds no hukou
    r = await api('/api/v1/services/civ-0004/eligibility', people.old.token);
    assert.deepEqual(statuses(r), { local: 'met', hukou: 'not_met', income: 'unknown', hardship: 'unknown' });
    assert.equal(r.json.outcome, 'not_met');

    // an ID number of another division, and a born-1880 age well over 80
    r = await api('/api/v1/services/civ-0006/eligibility', (await apiLogin(base, DEMO.agent.phone)).token);
    assert.deepEqual(statuses(r), { age_80: 'met', local: 'not_met' });

    // an enterprise is not an individual, and holds no age or division: unknown, not met
    r = await api('/api/v1/services/trans-0006/eligibility', (await apiLogin(base, DEMO.enterprise.phone)).token);
    assert.deepEqual(statuses(r), { age_60: 'unknown', local: 'unknown', individual: 'not_met' });
  });

  test('items without rules, unknown items, callers who are not applicants', async () => {
    let r = await api(`/api/v1/services/${PLAIN.code}/eligibility`, people.old.token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.has_rules, false);
    assert.deepEqual(r.json.conditions, []);
    r = await api('/api/v1/services/zzz-0000/eligibility', people.old.token);
    assert.equal(r.status, 404, r.body);
    assert.match(r.json.error.detail, /zzz-0000/);
    assert.equal((await api('/api/v1/services/trans-0006/eligibility', null)).status, 401);
    assert.equal((await api('/api/v1/services/trans-0006/eligibility', civ)).status, 403);
  });

  test('the guide page lists the conditions in words, with the signed-in citizen\'s status', async () => {
    const anon = await (await fetch(`${base}/services/trans-0006`)).text();
    assert.match(anon, /<h2 id="h-eligibility">/);
    const anonText = words(anon);
    assert.match(anonText, /年满60周岁/);
    assert.match(anonText, /登录后可查看您满足哪些条件/);
    assert.doesNotMatch(anonText, /不满足/);

    const young = await pageLogin(base, people.young.phone, people.young.password);
    let page = await young.get('/services/trans-0006');
    assert.equal(page.status, 200);
    let text = words(page.body);
    assert.match(text, /年满60周岁\s*不满足/);
    assert.match(text, /本市户籍（公民身份号码前六位为110105）\s*满足/);
    assert.doesNotMatch(text, /登录后可查看/);

    // staff see the conditions, with nothing of theirs to check and no word on signing in
    const staff = await pageLogin(base, DEMO.staffB.phone);
    text = words((await staff.get('/services/trans-0006')).body);
    assert.match(text, /年满60周岁/);
    assert.doesNotMatch(text, /登录后可查看|不满足/);

    const old = await pageLogin(base, people.old.phone, people.old.password, { lang: 'en' });
    page = await old.get('/services/civ-0004');
    text = words(page.body);
    assert.match(text, /Household registered in Qinghe \(ID number beginning 110105\)\s*Met/);
    assert.match(text, /A valid electronic household register in the wallet\s*Not met/);
    assert.match(text, /Total monthly household income of at most 1,100 yuan\s*Not known yet/);
    page = await old.get('/services/trans-0006');
    assert.match(words(page.body), /You meet every condition the hall can check/);
  });
});

describe('decisions at submission', () => {
  test('every condition met: approved at once, naming the rule version in the decision, timeline and log', async () => {
    const v = await version('trans-0006');
    const r = await applyOnline(base, people.old.token, SENIOR, { form: { ...demoForm(SENIOR), id_number: people.old.id_number } });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.state, 'approved');
    const got = await api(`/api/v1/applications/${r.json.number}`, people.old.token);
    assert.equal(got.status, 200, got.body);
    const events = got.json.events ?? got.json.application?.events;
    assert.deepEqual(events.map((e) => e.action), ['submit', 'instant_approve']);
    const decision = events[1];
    assert.equal(decision.detail.rules.version, v);
    assert.equal(decision.detail.rules.item, 'trans-0006');
    assert.equal(decision.detail.rules.outcome, 'met');
    assert.deepEqual(decision.detail.rules.failed, []);

    // the log: the approval is a decision leaf that names the rules it applied in clear
    const list = await api(`/api/v1/applications/${r.json.number}/receipts`, people.old.token);
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json.receipts.map((x) => x.action), ['submit', 'instant_approve']);
    const receipt = await api(list.json.receipts[1].href, people.old.token);
    const leaf = JSON.parse(receipt.json.leaf);
    assert.equal(leaf.kind, 'decision');
    assert.equal(leaf.action, 'instant_approve');
    assert.equal(leaf.to, 'approved');
    assert.deepEqual(leaf.rules, { item: 'trans-0006', version: v });

    // the timeline in words
    const page = await pageLogin(base, people.old.phone, people.old.password);
    const text = words((await page.get(`/applications/${r.json.number}`)).body);
    assert.match(text, /秒批：全部条件满足，即时批准/);
    assert.match(text, new RegExp(`全部条件满足（规则版本 ${v}）`));

    // the applicant is told
    const inbox = await api('/api/v1/me/inbox?per_page=100', people.old.token);
    const told = (inbox.json.items ?? inbox.json.messages).find((m) => m.number === r.json.number && m.kind === 'instant_approve');
    assert.ok(told, JSON.stringify(inbox.json));
    assert.equal(told.title_zh, '办件已秒批');

    // and the audit stays clean
    const a = await govhall(['audit', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(a.code, 0, a.stdout + a.stderr);
  });

  test('a condition not met: the application goes to staff, who see which one failed', async () => {
    const v = await version('civ-0006');
    const r = await applyOnline(base, people.old.token, ELDER, { form: { ...demoForm(ELDER), elder_id: people.old.id_number } });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.state, 'submitted');
    const got = await api(`/api/v1/applications/${r.json.number}`, civ);
    const events = got.json.events ?? got.json.application?.events;
    assert.deepEqual(events.map((e) => e.action), ['submit']);
    assert.equal(events[0].detail.rules.version, v);
    assert.equal(events[0].detail.rules.outcome, 'not_met');
    assert.deepEqual(events[0].detail.rules.failed.map((f) => [f.code, f.status]), [['age_80', 'not_met']]);

    const staff = await pageLogin(base, DEMO.staffB.phone);
    const text = words((await staff.get(`/applications/${r.json.number}`)).body);
    assert.match(text, new RegExp(`提交时未满足的条件（规则版本 ${v}）`));
    assert.match(text, /年满80周岁\s*不满足/);
    // and the case goes on as any other
    const acc = await api(`/api/v1/applications/${r.json.number}/actions/accept`, civ, { method: 'POST', json: {} });
    assert.equal(acc.status, 200, acc.body);
  });

  test('form conditions are judged on the form: one outside the rules keeps the case with staff', async () => {
    const form = { ...demoForm(DIBAO), id_number: people.old.id_number, monthly_income: '5000', difficulty: 'other' };
    const r = await applyOnline(base, people.old.token, DIBAO, { form });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.state, 'submitted');
    const got = await api(`/api/v1/applications/${r.json.number}`, civ);
    const events = got.json.events ?? got.json.application?.events;
    assert.deepEqual(events[0].detail.rules.failed.map((f) => [f.code, f.status]),
      [['hukou', 'not_met'], ['income', 'not_met'], ['hardship', 'not_met']]);
    // the system's step cannot be taken by anyone else
    const forged = await api(`/api/v1/applications/${r.json.number}/actions/instant_approve`, civ, { method: 'POST', json: {} });
    assert.ok([403, 409].includes(forged.status), forged.body);
  });
});

describe('rules in the catalog', () => {
  test('the import refuses bad rules with their path and reason, and imports nothing', async () => {
    const before = await version('civ-0004');
    const bad = item('civ-0004');
    bad.rules = { instant: true, conditions: [
      { code: 'a', fact: 'salary', at_least: 1, text_zh: '甲', text_en: 'a' },
      { code: 'b', field: 'monthly_income', equals: 'low', text_zh: '乙', text_en: 'b' },
      { code: 'c', field: 'nickname', equals: 'x', text_zh: '丙', text_en: 'c' },
      { code: 'd', fact: 'age', at_least: '60', text_zh: '丁' },
    ] };
    const file = await writeJsonFile(tmp.path, 'bad-rules.json', { services: [bad] });
    const r = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /services\[0\]\.rules\.conditions\[0\]\.fact: unknown fact "salary"/);
    assert.match(out, /services\[0\]\.rules\.conditions\[1\]: a number field is tested with at_least or at_most/);
    assert.match(out, /services\[0\]\.rules\.conditions\[2\]\.field: no field "nickname" in the item's form/);
    assert.match(out, /services\[0\]\.rules\.conditions\[3\]\.at_least: expected whole years/);
    assert.match(out, /services\[0\]\.rules\.conditions\[3\]\.text_en: required/);
    assert.equal(await version('civ-0004'), before);
  });

  test('changed rules are a new item version; decisions name the version they applied', async () => {
    const v = await version('trans-0006');
    const next = item('trans-0006');
    next.rules.conditions[0] = { ...next.rules.conditions[0], code: 'age_65', at_least: 65, text_zh: '年满65周岁', text_en: 'Aged 65 or over' };
    const file = await writeJsonFile(tmp.path, 'rules-v2.json', { services: [next] });
    const r = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await version('trans-0006'), v + 1);
    const e = await api('/api/v1/services/trans-0006/eligibility', people.old.token);
    assert.equal(e.json.version, v + 1);
    assert.deepEqual(statuses(e), { age_65: 'met', local: 'met', individual: 'met' });
    const a = await applyOnline(base, people.old.token, next, { form: { ...demoForm(next), id_number: people.old.id_number } });
    assert.equal(a.json.state, 'approved');
    const got = await api(`/api/v1/applications/${a.json.number}`, people.old.token);
    const events = got.json.events ?? got.json.application?.events;
    assert.equal(events[1].detail.rules.version, v + 1);
  });
});

describe('benefits offered without applying (免申即享)', () => {
  const offers = async (p) => {
    const r = await api('/api/v1/me/inbox?per_page=100', p.token);
    assert.equal(r.status, 200, r.body);
    return (r.json.items ?? r.json.messages).filter((m) => m.kind === 'rules_offer');
  };
  const sweep = async () => {
    const r = await govhall(['offers', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return Number(/(\d+) benefit/.exec(r.stdout)?.[1]);
  };

  test('a serving node\'s duty offers the benefit by itself', async () => {
    // the demo citizen (born 1949, division 110105) qualifies for the senior card; no sweep
    // was asked for: the duty's first pass at start found them (rule version 1, the demo's),
    // and its sweep after the import of a later version above offered that one too
    const demo = { token: (await apiLogin(base, DEMO.citizen.phone)).token };
    const got = await waitFor(async () => {
      const o = await offers(demo);
      return o.some((m) => m.body_en.includes('(rule version 1)')) ? o : null;
    }, { what: 'the offer of the duty at start' });
    assert.equal(got.filter((m) => m.body_en.includes('(rule version 1)')).length, 1);
    for (const m of got) {
      assert.match(m.title_zh, /老年人公共交通优待卡办理/);
      assert.match(m.title_en, /Senior citizen public transport concession card/);
    }
  });

  test('a citizen who registers while the hall serves is offered the benefit at the duty\'s next look, without a sweep', async () => {
    // The sweep after the last import of the rules is over once the demo citizen has the offer
    // of the current version; the next sweep is a day away. So only the duty's look at what is
    // new can find a citizen registered now.
    const demo = { token: (await apiLogin(base, DEMO.citizen.phone)).token };
    const v = await version('trans-0006');
    await waitFor(async () => (await offers(demo)).some((m) => m.body_en.includes(`(rule version ${v})`)),
      { what: 'the sweep after the rules changed' });
    const p = await citizen(5, '孙奶奶'); // born 1955
    const young = await citizen(45, '周小妹'); // born 1995
    const got = await waitFor(async () => {
      const o = await offers(p);
      return o.length ? o : null;
    }, { what: 'the offer to the citizen registered now' });
    assert.equal(got.length, 1);
    assert.match(got[0].title_zh, /老年人公共交通优待卡办理/);
    assert.equal((await offers(young)).length, 0, 'born 1995: not 60');
    assert.equal(Number(await sql(srv.db, `SELECT COUNT(*) FROM rule_offers WHERE account_id = ${p.id}`)), 1);
  });

  test('a node that starts goes on with the schedule the nodes share: no sweep of its own', async () => {
    const swept = await sql(srv.db, 'SELECT swept_at FROM offers_schedule');
    assert.ok(Number(swept) > 0, 'the first node swept at its start');
    const other = await serve(srv.db, { keyFile: srv.keyFile, extraArgs: ['--offers-period', '1'] });
    try {
      const q = await citizen(8, '钱爷爷'); // born 1958
      await waitFor(async () => (await offers(q)).length === 1, { what: 'the offer to a citizen registered after the second node started' });
      assert.equal(await sql(srv.db, 'SELECT swept_at FROM offers_schedule'), swept);
      assert.deepEqual(other.stderr.filter((l) => l.includes('a sweep over every account begins')), []);
    } finally {
      await other.stop();
    }
  });

  test('a citizen who comes to hold a certificate a proactive rule asks for is offered the benefit at the duty\'s next look', async () => {
    // A proactive item asking for a marriage certificate in the wallet (a new version of an item
    // without rules); the sweep its import starts is over once the schedule names it.
    const before = await sql(srv.db, 'SELECT rules_mark FROM offers_schedule');
    const wed = { ...item('psb-0009'), rules: { proactive: true, conditions: [
      { code: 'married', fact: 'ecert', holds: 'marriage_cert', text_zh: '卡包中有有效的结婚证', text_en: 'A valid marriage certificate in the wallet' }] } };
    const file = await writeJsonFile(tmp.path, 'rules-wed.json', { services: [wed] });
    const imp = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(imp.code, 0, imp.stdout + imp.stderr);
    await waitFor(async () => (await sql(srv.db, "SELECT rules_mark || ':' || sweeping FROM offers_schedule")) !== `${before}:0`
      && (await sql(srv.db, 'SELECT sweeping FROM offers_schedule')) === '0', { what: 'the sweep after the import' });
    const p = await citizen(30, '吴新郎'); // born 1980: no senior card
    // The duty has judged the new account (its news of accounts stands on it): nothing to offer.
    // (each source's place by its name: {"accounts":N,"wallet":M})
    const news = async () => JSON.parse(await sql(srv.db, 'SELECT news FROM offers_schedule'));
    await waitFor(async () => Number((await news()).accounts) === p.id,
      { what: 'the duty to judge the new account' });
    assert.deepEqual(await offers(p), []);
    // Married through the hall: the certificate is issued at completion.
    const marriage = item('civ-0001');
    const app = await applyOnline(base, p.token, marriage, { key: `wed-${process.pid}` });
    assert.equal(app.status, 201, app.body);
    for (const action of ['accept', 'start_review', 'approve', 'complete']) {
      const r = await api(`/api/v1/applications/${app.json.number}/actions/${action}`, civ, { method: 'POST', json: {} });
      assert.equal(r.status, 200, `${action}: ${r.body}`);
    }
    const got = await waitFor(async () => {
      const o = await offers(p);
      return o.length ? o : null;
    }, { what: 'the offer to the citizen who now holds a marriage certificate' });
    assert.deepEqual(got.map((m) => m.title_en), [`You may be entitled to: ${wed.name_en}`]);
    assert.equal(await sql(srv.db, 'SELECT sweeping FROM offers_schedule'), '0', 'no sweep found it');
  });

  test('the hall finds eligible citizens and offers the benefit in their inbox, once per rule version', async () => {
    // Offers of the item's rule version ver (people.old was told of the versions before at
    // registration or when they came, by the duty).
    const of = async (p, ver) => (await offers(p)).filter((m) => m.body_en.includes(`(rule version ${ver})`));
    const middle = await citizen(20, '赵阿姨'); // born 1970
    const v = await version('trans-0006');
    await sweep();
    const mine = await of(people.old, v);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.match(mine[0].title, /老年人公共交通优待卡办理|Senior citizen public transport concession card/);
    assert.match(mine[0].body, new RegExp(`${v}`));
    assert.equal((await offers(people.young)).length, 0, 'born 1990: not 60');
    assert.equal((await offers(middle)).length, 0, 'born 1970: not 60');
    // again: nothing new for the same rule version
    const before = (await offers(people.old)).length;
    await sweep();
    assert.equal((await offers(people.old)).length, before);
    assert.equal(Number(await sql(srv.db, `SELECT COUNT(*) FROM rule_offers WHERE account_id = ${people.old.id} AND version = ${v}`)), 1);
    // a new rule version is offered again
    const next = item('trans-0006');
    next.rules.conditions[0] = { ...next.rules.conditions[0], code: 'age_61', at_least: 61, text_zh: '年满61周岁', text_en: 'Aged 61 or over' };
    const file = await writeJsonFile(tmp.path, 'rules-v3.json', { services: [next] });
    const imp = await govhall(['import', 'catalog', file, '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(imp.code, 0, imp.stdout + imp.stderr);
    await sweep();
    assert.equal((await of(people.old, v + 1)).length, 1);
    assert.equal((await offers(people.old)).length, before + 1);
    assert.equal((await offers(people.young)).length, 0);
  });
});
