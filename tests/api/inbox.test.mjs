// The site inbox: marking one message or all of them read, through the API and the page
// forms. Marking is idempotent and only ever touches the caller's own messages: someone
// else's message, an unknown one and a malformed id all answer 404 and change nothing. The
// marks are writes (through the one writer), so a read right after the answer sees them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, apiLogin, bearer, pageLogin, startServer } from './helpers.mjs';
import { inbox } from './interact-fixtures.mjs';

let srv;
let base;
const tok = {};

/** Gives civ's staff a new message: a citizen asks the department a question. */
async function newMessage() {
  const q = await bearer(`${base}/api/v1/consultations`, tok.a, {
    method: 'POST', json: { department: 'civ', subject: '开放时间', question: '周六办公吗？' },
  });
  assert.equal(q.status, 201, q.body);
  const m = (await inbox(base, tok.civ)).find((x) => x.kind === 'consult_new' && x.body.includes(`/consultations/${q.json.id}`));
  assert.ok(m, 'the department was told');
  return m;
}

const mark = (token, what) => bearer(`${base}/api/v1/me/inbox/${what}`, token, { method: 'POST' });
const unread = async (token) => (await bearer(`${base}/api/v1/me/inbox?per_page=1`, token)).json.unread;

before(async () => {
  srv = await startServer({ name: 'inbox', extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(base, acc.phone)).token;
  }
});
after(async () => { await srv?.stop(); });

describe('marking messages read', () => {
  test('one message: read once, the same answer again, nobody else\'s', async () => {
    const m = await newMessage();
    assert.equal(m.read_at, null);
    const before = await unread(tok.civ);
    for (const [token, what] of [[tok.psb, `${m.id}/read`], [tok.a, `${m.id}/read`], [tok.civ, '999999999/read'],
      [tok.civ, '0/read'], [tok.civ, 'x1/read'], [tok.civ, `${m.id}x/read`]]) {
      const r = await mark(token, what);
      assert.equal(r.status, 404, `${what}: ${r.body}`);
    }
    assert.equal((await inbox(base, tok.civ)).find((x) => x.id === m.id).read_at, null, 'nothing marked by the refusals');
    const r = await mark(tok.civ, `${m.id}/read`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.id, m.id);
    assert.ok(Number.isInteger(r.json.read_at) && r.json.read_at > 0, r.body);
    assert.equal((await inbox(base, tok.civ)).find((x) => x.id === m.id).read_at, r.json.read_at, 'seen at once');
    assert.equal(await unread(tok.civ), before - 1);
    const again = await mark(tok.civ, `${m.id}/read`);
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json.read_at, r.json.read_at, 'the first reading stands');
  });

  test('all messages: those unread are counted, then none', async () => {
    await newMessage();
    await newMessage();
    const n = await unread(tok.civ);
    assert.ok(n >= 2, `unread ${n}`);
    const otherBefore = await unread(tok.psb);
    let r = await mark(tok.civ, 'read-all');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.marked, n);
    assert.equal(await unread(tok.civ), 0);
    assert.equal(await unread(tok.psb), otherBefore, 'another inbox is untouched');
    r = await mark(tok.civ, 'read-all');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.marked, 0);
  });

  test('a long inbox pages by 20, with links to the pages before and after', async () => {
    const total = async () => (await bearer(`${base}/api/v1/me/inbox?per_page=1`, tok.civ)).json.total;
    while (await total() <= 20) await newMessage();
    const n = await total();
    const staff = await pageLogin(base, DEMO.staffB.phone);
    const links = (html) => Object.fromEntries([...html.matchAll(/<a href="([^"]*)" rel="(prev|next)"/g)]
      .map((m) => [m[2], m[1].replaceAll('&#61;', '=').replaceAll('&amp;', '&')]));
    const first = await staff.get('/inbox');
    assert.equal(first.status, 200);
    assert.deepEqual(links(first.body), { next: '/inbox?page=2' }, 'page 1 links to page 2 only');
    const last = Math.ceil(n / 20);
    const end = await staff.get(`/inbox?page=${last}`);
    assert.equal(end.status, 200);
    assert.deepEqual(links(end.body), { prev: `/inbox?page=${last - 1}` }, 'the last page links back only');
  });

  test('the page forms go back to the page they came from, and need the form token', async () => {
    const m = await newMessage();
    const staff = await pageLogin(base, DEMO.staffB.phone);
    const page = await staff.get('/inbox');
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`/inbox/${m.id}/read`), 'a form per unread message');
    assert.equal((await staff.post(`/inbox/${m.id}/read`, { _csrf: 'forged' })).status, 403);
    assert.equal((await inbox(base, tok.civ)).find((x) => x.id === m.id).read_at, null, 'a forged form marks nothing');
    let r = await staff.post(`/inbox/${m.id}/read`, { page: '2' });
    assert.equal(r.status, 303, r.body);
    assert.equal(r.location, '/inbox?page=2&done=read');
    assert.ok((await inbox(base, tok.civ)).find((x) => x.id === m.id).read_at > 0, 'marked');
    assert.equal((await staff.post('/inbox/999999999/read', {})).status, 404);
    await newMessage();
    await staff.get('/inbox');
    r = await staff.post('/inbox/read-all', {});
    assert.equal(r.status, 303, r.body);
    assert.equal(r.location, '/inbox?done=read_all');
    assert.equal(await unread(tok.civ), 0);
    const done = await staff.get(r.location);
    assert.equal(done.status, 200);
  });
});
