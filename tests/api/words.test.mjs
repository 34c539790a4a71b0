// What people read names each workflow action and state in words of their language, never by
// its code: applications walked through every action of the workflow (and the staff's claim),
// then the applicant's timeline (page and API), the public progress page, the receipts page and
// the inbox (page and API) read in Chinese and in English. Each event shows the catalog's words
// for it (case_event_<action>, case_state_<state>), and no page or answer shows a code word.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  DEMO, DEMO_TOTP_SECRET, apiLogin, bearer, demoCatalog, demoForm, demoMaterials, htmlText, pageLogin, root, startServer,
} from './helpers.mjs';

let srv;
const tok = {};
const apps = [];

/** The catalog of a language: every file under data/i18n merged. */
function catalog(lang) {
  const dir = path.join(root, 'data/i18n');
  const out = JSON.parse(readFileSync(path.join(dir, `${lang}.json`), 'utf8'));
  for (const f of readdirSync(path.join(dir, lang))) Object.assign(out, JSON.parse(readFileSync(path.join(dir, lang, f), 'utf8')));
  return out;
}
const T = { zh: catalog('zh'), en: catalog('en') };

// Code words a person must never read: the workflow's actions and states with an underscore,
// and the staff's own. (Plain English verbs such as "submit" are words as well as codes.)
const CODE_WORD = /\b(request_supplement|start_review|start_special|end_special|resubmit|not_accepted|under_review|claim|assign)\b/;

/** The text a reader sees: tags, scripts and styles out, entities decoded. */
const visible = (html) => htmlText(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]*>/g, ' '));

const ITEM = demoCatalog().services.find((s) => s.code === 'psb-0001')
  ?? demoCatalog().services.find((s) => s.department === 'psb' && s.online_depth >= 3);

const act = async (token, number, action, body = {}) => {
  const r = await bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });
  assert.equal(r.status, 200, `${action}: ${r.status} ${r.body}`);
  return r.json;
};

async function apply(n) {
  const body = {
    form: demoForm(ITEM), materials: await demoMaterials(srv.url, tok.a, ITEM), submit: true,
    idempotency_key: `words-${process.pid}-${n}`,
  };
  const r = await bearer(`${srv.url}/api/v1/services/${ITEM.code}/applications`, tok.a, { method: 'POST', json: body });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

// Every action of the workflow, over four applications.
const PATHS = [
  ['claim', 'accept', 'start_review', 'request_supplement', ['resubmit', 'a'], ['start_special', 'psb'],
    'end_special', 'approve', 'complete'],
  [['refuse', 'psb']],
  ['accept', 'start_review', ['deny', 'psb']],
  [['withdraw', 'a']],
];

before(async () => {
  srv = await startServer({ name: 'words' });
  tok.a = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  tok.psb = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
  for (const [i, steps] of PATHS.entries()) {
    const app = await apply(i);
    for (const s of steps) {
      const [code, who] = Array.isArray(s) ? s : [s, 'psb'];
      const reason = ['request_supplement', 'start_special', 'refuse', 'deny'].includes(code) ? { reason: '说明 reason' } : {};
      await act(who === 'a' ? tok.a : tok.psb, app.number, code, reason);
    }
    apps.push(app);
  }
});
after(async () => { await srv?.stop(); });

describe('actions and states in words', () => {
  test('every action of the workflow was taken', async () => {
    const seen = new Set();
    for (const app of apps) {
      const j = (await bearer(`${srv.url}/api/v1/applications/${app.number}`, tok.psb)).json;
      for (const e of j.events) seen.add(e.action);
    }
    for (const code of ['submit', 'accept', 'refuse', 'request_supplement', 'resubmit', 'start_review', 'start_special',
      'end_special', 'approve', 'deny', 'complete', 'withdraw', 'claim']) assert.ok(seen.has(code), code);
  });

  for (const lang of ['zh', 'en']) {
    test(`${lang}: the API timeline names each event and state with the catalog's words`, async () => {
      for (const app of apps) {
        for (const who of [tok.a, tok.psb]) {
          const j = (await bearer(`${srv.url}/api/v1/applications/${app.number}?lang=${lang}`, who)).json;
          assert.equal(j.state_name, T[lang][`case_state_${j.state}`]);
          for (const e of j.events) {
            assert.equal(e.action_name, T[lang][`case_event_${e.action}`], `${e.action} in ${lang}`);
            if (e.state) assert.equal(e.state_name, T[lang][`case_state_${e.state}`]);
          }
        }
      }
    });

    test(`${lang}: detail, progress, receipts and inbox pages show words, not codes`, async () => {
      const citizen = await pageLogin(srv.url, DEMO.citizen.phone, undefined, { lang });
      const staff = await pageLogin(srv.url, DEMO.staffA.phone, undefined, { lang });
      const pages = [];
      for (const app of apps) {
        pages.push([citizen, `/applications/${app.number}`], [staff, `/applications/${app.number}`],
          [citizen, `/applications/${app.number}/receipts`],
          [citizen, `/progress?number=${app.number}&code=${app.query_code}`]);
      }
      pages.push([citizen, '/inbox']);
      for (const [c, p] of pages) {
        const r = await c.get(p);
        assert.equal(r.status, 200, `${p}: ${r.status}`);
        const text = visible(r.body);
        assert.doesNotMatch(text, CODE_WORD, `${lang} ${p}: ${text.match(CODE_WORD)?.[0]} in …${text.slice(Math.max(0, (text.match(CODE_WORD)?.index ?? 0) - 80), (text.match(CODE_WORD)?.index ?? 0) + 40)}`);
        if (p.startsWith('/applications/') && !p.endsWith('receipts')) {
          assert.ok(text.includes(T[lang].case_event_submit), `${lang} ${p}: the timeline's first event`);
        }
      }
      const first = visible((await citizen.get(`/applications/${apps[0].number}`)).body);
      for (const code of ['accept', 'request_supplement', 'resubmit', 'start_special', 'end_special', 'approve', 'complete']) {
        assert.ok(first.includes(T[lang][`case_event_${code}`]), `${lang}: ${code} on the timeline`);
      }
      const receipts = visible((await citizen.get(`/applications/${apps[0].number}/receipts`)).body);
      assert.ok(receipts.includes(T[lang].case_event_approve), `${lang}: the approval's receipt`);
    });

    test(`${lang}: inbox messages are whole sentences of the catalog, in the reader's language`, async () => {
      const box = (await bearer(`${srv.url}/api/v1/me/inbox?per_page=100&lang=${lang}`, tok.a)).json;
      const items = box.items ?? box.messages ?? [];
      const mine = items.filter((m) => apps.some((a) => JSON.stringify(m).includes(a.number)));
      assert.ok(mine.length >= 10, `messages: ${mine.length}`);
      for (const m of mine) {
        const { kind, ...shown } = m; // kind is the API's code for programs, not a text
        const s = JSON.stringify(shown);
        assert.doesNotMatch(s, CODE_WORD);
        assert.doesNotMatch(s, /notify_(title|body|reason)_|\{(number|item|state|reason|n)\}/, s);
      }
      const titles = new Set(mine.map((m) => m.title));
      assert.ok(titles.has(T[lang].notify_title_request_supplement), [...titles].join(' | '));
    });
  }

  for (const lang of ['zh', 'en']) {
    test(`${lang}: administrators read security events as words, at China time`, async () => {
      const admin = await pageLogin(srv.url, DEMO.admin.phone, undefined, { totpSecret: DEMO_TOTP_SECRET, lang });
      const r = await admin.get('/admin/events?per_page=100');
      assert.equal(r.status, 200);
      const text = visible(r.body);
      assert.doesNotMatch(text, /\b(login|logout|token|account|password|totp)\.[a-z_]+\b/, text.slice(0, 400));
      assert.ok(text.includes(T[lang]['admin_event_login.ok']), 'the log-ins of this run');
      // Each <time> shows China time to the minute (the hall's one formatter, req_when); its
      // datetime attribute keeps the UTC instant.
      const times = [...r.body.matchAll(/<time datetime="([^"]+)">([^<]+)<\/time>/g)];
      assert.ok(times.length > 0);
      for (const [, iso, shown] of times) {
        const cst = new Date(Date.parse(iso) + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ');
        assert.equal(shown, cst, iso);
      }
    });
  }
});
