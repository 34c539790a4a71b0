// Published information (信息公开) through the JSON API and the pages: staff with the reviewer
// or head duty write Markdown documents for their own department (raw HTML removed, unsafe
// links dropped), attach files, send them for review; the head of department (or an
// administrator) publishes, sends back or withdraws them; the public list filters by category
// and department and pages; drafts stay hidden; the Atom feed is valid Atom 1.0 with
// everything escaped; both languages; bad input answered plainly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  apiLogin, bearer, DEMO, DEMO_PASSWORD, freshIp, freshTotp, get, getJson, pageLogin, startServer, waitFor,
} from './helpers.mjs';

let srv;
const tok = {};

before(async () => {
  srv = await startServer({ name: 'publish', extraArgs: ['--trust-proxy', 'true'] });
  tok.a = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  tok.psb = (await apiLogin(srv.url, DEMO.staffA.phone)).token; // psb: counter, reviewer
  tok.civ = (await apiLogin(srv.url, DEMO.staffB.phone)).token; // civ: counter, reviewer, head
  tok.admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => { await srv?.stop(); });

const api = (p, token, init) => bearer(`${srv.url}${p}`, token, init);
const create = (token, json) => api('/api/v1/publish', token, { method: 'POST', json });
const act = (id, token, action, json = {}) => api(`/api/v1/publish/${id}/actions/${action}`, token, { method: 'POST', json });

/** The search results for q among published information, once the index has caught up with
 * pred (every node re-checks the content's generation within --cache-recheck ms). */
async function searchInfo(q, pred) {
  return waitFor(async () => {
    const r = await getJson(`${srv.url}/api/v1/search?q=${encodeURIComponent(q)}&kind=info`);
    assert.equal(r.status, 200, r.body);
    return pred(r.json.results) && r.json.results;
  }, { what: `search results for ${q} among published information to catch up` });
}

const DOC = {
  category: 'policy',
  title_zh: '关于优化营业执照办理流程的通知 <b>&</b>',
  body_zh: '# 通知\n\n**全程网办**，详见[指南](https://example.gov.cn/guide)。\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(1))\n\n<img src=x onerror=alert(1)>',
};

function pdf(tag = Math.random().toString(36).slice(2)) {
  return Buffer.from(`%PDF-1.4\n% ${tag}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n`);
}

async function upload(id, token, buf, name = 'notice.pdf') {
  const fd = new FormData();
  fd.append('file', new Blob([buf]), name);
  const res = await fetch(`${srv.url}/api/v1/publish/${id}/attachments`, {
    method: 'POST', body: fd, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() },
  });
  const body = await res.text();
  return { status: res.status, json: JSON.parse(body), body };
}

describe('writing and publishing through the API', () => {
  let id;
  test('staff write a draft; Markdown is rendered safely', async () => {
    const r = await create(tok.psb, DOC);
    assert.equal(r.status, 201, r.body);
    id = r.json.id;
    assert.equal(r.json.state, 'draft');
    assert.equal(r.json.department, 'psb'); // staff write for their own department
    assert.equal(r.headers.get('location'), `/api/v1/publish/${id}`);
    const html = r.json.html_zh;
    assert.match(html, /<h1>通知<\/h1>/);
    assert.match(html, /<strong>全程网办<\/strong>/);
    assert.match(html, /<a href="https:\/\/example.gov.cn\/guide">指南<\/a>/);
    assert.ok(!/<script|onerror|<img|javascript:/i.test(html), html);
    assert.equal(r.json.body_zh, DOC.body_zh); // the Markdown is kept as written
  });

  test('drafts are not public', async () => {
    assert.equal((await api(`/api/v1/publish/${id}`, null)).status, 404);
    assert.equal((await api(`/api/v1/publish/${id}`, tok.a)).status, 404);
    assert.equal((await api(`/api/v1/publish/${id}`, tok.civ)).status, 404); // another department's staff
    assert.equal((await api(`/api/v1/publish/${id}`, tok.psb)).status, 200);
    assert.equal((await get(`${srv.url}/publish/${id}`)).status, 404);
    const list = await api('/api/v1/publish', null);
    assert.ok(!list.json.items.some((d) => d.id === id));
    const mine = await api('/api/v1/staff/publish?state=draft', tok.psb);
    assert.ok(mine.json.items.some((d) => d.id === id));
    const theirs = await api('/api/v1/staff/publish', tok.civ);
    assert.ok(!theirs.json.items.some((d) => d.id === id));
  });

  test('who may write', async () => {
    assert.equal((await create(tok.a, DOC)).status, 403);
    assert.equal((await create(null, DOC)).status, 401);
    assert.equal((await create(tok.civ, { ...DOC, department: 'psb' })).status, 403);
    assert.equal((await api(`/api/v1/publish/${id}`, tok.a, { method: 'PATCH', json: { title_zh: 'x' } })).status, 403);
  });

  test('bad input gets field messages', async () => {
    const r = await api('/api/v1/publish?lang=en', tok.psb, { method: 'POST', json: { category: 'gossip', title_zh: ' ', body_zh: '' } });
    assert.equal(r.status, 422);
    assert.deepEqual(Object.keys(r.json.error.fields).sort(), ['body_zh', 'category', 'title_zh']);
    assert.match(r.json.error.fields.category, /Choose a category/);
    const half = await create(tok.psb, { ...DOC, title_en: 'Only a title' });
    assert.equal(half.status, 422);
    assert.ok(half.json.error.fields.body_en);
    const long = await create(tok.psb, { ...DOC, title_zh: '长'.repeat(201) });
    assert.equal(long.status, 422);
    const big = await create(tok.psb, { ...DOC, body_zh: 'x'.repeat(210 * 1024) });
    assert.ok([413, 422].includes(big.status), big.body.slice(0, 200));
    assert.equal((await create(tok.psb, { ...DOC, title_zh: 5 })).status, 400);
    assert.equal((await api('/api/v1/publish', tok.psb, { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } })).status, 400);
  });

  test('edits are guarded by the version', async () => {
    const r = await api(`/api/v1/publish/${id}`, tok.psb, { method: 'PATCH', json: { version: 0, title_en: 'Faster business licences', body_en: 'All **online**.' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.version, 1);
    assert.equal(r.json.title_zh, DOC.title_zh);
    assert.match(r.json.html_en, /<strong>online<\/strong>/);
    const stale = await api(`/api/v1/publish/${id}`, tok.psb, { method: 'PATCH', json: { version: 0, title_zh: '旧' } });
    assert.equal(stale.status, 409);
  });

  test('attachments: PDF, JPEG, PNG only', async () => {
    const ok = await upload(id, tok.psb, pdf());
    assert.equal(ok.status, 201, ok.body);
    assert.equal(ok.json.mime, 'application/pdf');
    const bad = await upload(id, tok.psb, Buffer.from('plain text, not a document'), 'x.pdf');
    assert.equal(bad.status, 415);
    assert.equal((await upload(id, tok.civ, pdf())).status, 404);
    const doc = await api(`/api/v1/publish/${id}`, tok.psb);
    assert.equal(doc.json.attachments.length, 1);
    // Not downloadable by the public while a draft.
    assert.equal((await get(`${srv.url}${doc.json.attachments[0].href}`)).status, 404);
  });

  test('review: a reviewer sends it, only a head publishes', async () => {
    let r = await act(id, tok.admin, 'approve');
    assert.equal(r.status, 409); // still a draft
    r = await act(id, tok.psb, 'submit');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'review');
    assert.equal((await api(`/api/v1/publish/${id}`, tok.psb, { method: 'PATCH', json: { title_zh: '改' } })).status, 409);
    assert.equal((await act(id, tok.psb, 'approve')).status, 403); // a reviewer, not the head
    assert.equal((await act(id, tok.civ, 'approve')).status, 404); // another department cannot even see it
    r = await act(id, tok.admin, 'return');
    assert.equal(r.status, 422); // sending back needs a reason
    r = await act(id, tok.admin, 'return', { note: '请补充办理时限' });
    assert.equal(r.json.state, 'draft');
    assert.equal(r.json.note, '请补充办理时限');
    assert.equal((await act(id, tok.psb, 'submit')).status, 200);
    assert.equal((await act(id, tok.admin, 'approve', { version: 0 })).status, 409);
    r = await act(id, tok.admin, 'approve');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.state, 'published');
    assert.match(r.json.published_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    assert.equal((await act(id, tok.psb, 'nonsense')).status, 404);
  });

  test('published: everyone reads it, in both languages', async () => {
    const r = await api(`/api/v1/publish/${id}`, null);
    assert.equal(r.status, 200);
    const att = r.json.attachments[0];
    const dl = await get(`${srv.url}${att.href}`);
    assert.equal(dl.status, 200);
    assert.match(dl.headers.get('content-disposition'), /^attachment;/);
    const zh = await get(`${srv.url}/publish/${id}`);
    assert.equal(zh.status, 200);
    assert.ok(zh.body.includes('关于优化营业执照办理流程的通知 &lt;b&gt;&amp;&lt;/b&gt;'));
    assert.ok(zh.body.includes('<strong>全程网办</strong>'));
    assert.ok(!zh.body.includes('<script>alert'));
    const en = await get(`${srv.url}/publish/${id}?lang=en`);
    assert.ok(en.body.includes('<h1 lang="en">Faster business licences</h1>'));
    assert.ok(en.body.includes('<strong>online</strong>'));
    const list = await getJson(`${srv.url}/api/v1/publish?category=policy&department=psb`);
    assert.ok(list.json.items.some((d) => d.id === id));
    const other = await getJson(`${srv.url}/api/v1/publish?category=news`);
    assert.ok(!other.json.items.some((d) => d.id === id));
    const bad = await getJson(`${srv.url}/api/v1/publish?category=gossip&lang=en`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.detail, /Choose a category/);
    assert.equal((await getJson(`${srv.url}/api/v1/publish?page=0`)).status, 400);
  });

  test('search finds published information, and only that', async () => {
    const hits = await searchInfo('营业执照办理流程', (res) => res.some((x) => x.href === `/publish/${id}`));
    const hit = hits.find((x) => x.href === `/publish/${id}`);
    assert.ok(hit, JSON.stringify(hits));
    assert.equal(hit.kind, 'info');
    assert.ok(!/<script|<img/i.test(hit.summary_html ?? ''), 'the summary is escaped text');
    // Drafts are never found.
    const draft = await create(tok.psb, { ...DOC, title_zh: '尚未发布的草稿通知甲乙丙' });
    assert.equal(draft.status, 201, draft.body);
    const none = await getJson(`${srv.url}/api/v1/search?q=${encodeURIComponent('尚未发布的草稿通知甲乙丙')}&kind=info`);
    assert.ok(!none.json.results.some((x) => x.href === `/publish/${draft.json.id}`));
  });

  test('the Atom feed is valid and escaped', async () => {
    const r = await get(`${srv.url}/publish/feed.atom`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/atom\+xml/);
    const check = await new Promise((resolve) => {
      const py = `
import sys, xml.etree.ElementTree as ET, json
A = '{http://www.w3.org/2005/Atom}'
root = ET.fromstring(sys.stdin.buffer.read())
out = {'root': root.tag, 'id': root.findtext(A+'id'), 'title': root.findtext(A+'title'), 'updated': root.findtext(A+'updated'),
  'entries': [{'id': e.findtext(A+'id'), 'title': e.findtext(A+'title'), 'updated': e.findtext(A+'updated'),
               'author': e.find(A+'author').findtext(A+'name'), 'content': e.findtext(A+'content'),
               'type': e.find(A+'content').get('type'), 'link': e.find(A+'link').get('href')} for e in root.findall(A+'entry')]}
print(json.dumps(out))`;
      const p = execFile('python3', ['-c', py], (err, stdout, stderr) => resolve({ err, stdout, stderr }));
      p.stdin.end(r.body);
    });
    assert.ifError(check.err);
    const feed = JSON.parse(check.stdout);
    assert.equal(feed.root, '{http://www.w3.org/2005/Atom}feed');
    assert.ok(feed.id && feed.title && feed.updated);
    const e = feed.entries.find((x) => x.link.endsWith(`/publish/${id}`));
    assert.ok(e, r.body);
    assert.equal(e.title, DOC.title_zh); // the angle brackets and ampersand survive as text
    assert.equal(e.type, 'html');
    assert.match(e.content, /<strong>全程网办<\/strong>/);
    assert.ok(!/<script/i.test(e.content));
    assert.match(e.updated, /\+08:00$/);
  });

  test('withdrawal needs the head and a reason; the document leaves the public', async () => {
    assert.equal((await act(id, tok.psb, 'withdraw', { note: '过期' })).status, 403);
    assert.equal((await act(id, tok.admin, 'withdraw')).status, 422);
    const r = await act(id, tok.admin, 'withdraw', { note: '政策已调整' });
    assert.equal(r.json.state, 'withdrawn');
    assert.equal((await api(`/api/v1/publish/${id}`, null)).status, 404);
    assert.ok(!(await get(`${srv.url}/publish/feed.atom`)).body.includes(`/publish/${id}<`));
    const hits = await searchInfo('营业执照办理流程', (res) => !res.some((x) => x.href === `/publish/${id}`));
    assert.ok(!hits.some((x) => x.href === `/publish/${id}`), 'a withdrawn document is no longer found');
  });
});

describe('the pages', () => {
  test('a head writes and sends for review on the pages; an administrator publishes it', async () => {
    const c = await pageLogin(srv.url, DEMO.staffB.phone, DEMO_PASSWORD, { ip: freshIp() });
    const list = await c.get('/staff/publish');
    assert.equal(list.status, 200);
    assert.match(list.body, /href="\/staff\/publish\/new"/);
    const form = await c.get('/staff/publish/new');
    assert.equal(form.status, 200);
    assert.match(form.body, /<option value="civ" selected>/);
    assert.ok(!/<option value="psb"/.test(form.body)); // staff write for their own department only
    const bad = await c.post('/staff/publish', { category: 'announcement', department: 'civ', title_zh: '', body_zh: '' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /请填写标题/);
    let r = await c.post('/staff/publish', { category: 'announcement', department: 'civ', title_zh: '婚姻登记节假日安排', body_zh: '国庆期间**正常办理**。' });
    assert.equal(r.status, 303, r.body.slice(0, 300));
    const manage = r.location.replace(/\?.*$/, '');
    const page = await c.get(r.location);
    assert.equal(page.status, 200);
    assert.match(page.body, /已保存/);
    assert.match(page.body, /<strong>正常办理<\/strong>/);
    const version = /name="version" value="(\d+)"/.exec(page.body)[1];
    r = await c.post(`${manage}/actions/submit`, { version });
    assert.equal(r.status, 303);
    const inReview = await c.get(manage);
    assert.match(inReview.body, /待审核/);
    const v2 = /name="version" value="(\d+)"/.exec(inReview.body)[1];
    // The head wrote it, so he may not approve it (separation of duties): the page says who
    // does, and the action is refused.
    assert.ok(!inReview.body.includes(`${manage}/actions/approve`), 'the author is offered the approval');
    assert.match(inReview.body, /须由部门其他负责人或管理员审核发布/);
    r = await c.post(`${manage}/actions/approve`, { version: v2 });
    assert.equal(r.status, 403);
    const admin = await pageLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { ip: freshIp(), totpSecret: DEMO.admin.totp });
    const adminView = await admin.get(manage);
    assert.ok(adminView.body.includes(`${manage}/actions/approve`), 'the administrator is not offered the approval');
    r = await admin.post(`${manage}/actions/approve`, { version: v2 });
    assert.equal(r.status, 303);
    assert.match(r.location, /^\/publish\/\d+$/);
    const pub = await get(`${srv.url}${r.location}`);
    assert.equal(pub.status, 200);
    assert.match(pub.body, /婚姻登记节假日安排/);
    const en = await get(`${srv.url}${r.location}?lang=en`);
    assert.match(en.body, /available in Chinese only/);
    const listPage = await get(`${srv.url}/publish?department=civ`);
    assert.match(listPage.body, /婚姻登记节假日安排/);
    assert.match(listPage.body, /<link rel="alternate" type="application\/atom\+xml" href="\/publish\/feed.atom"/);
    const listEn = await get(`${srv.url}/publish?lang=en&category=announcement`);
    assert.match(listEn.body, /Published information/);
    // Without the CSRF token nothing changes.
    const forged = await c.post('/staff/publish', { _csrf: 'x', category: 'news', department: 'civ', title_zh: 't', body_zh: 'b' });
    assert.equal(forged.status, 403);
  });

  test('citizens cannot reach the staff pages', async () => {
    const c = await pageLogin(srv.url, DEMO.citizen.phone, DEMO_PASSWORD, { ip: freshIp() });
    assert.equal((await c.get('/staff/publish')).status, 403);
    assert.equal((await get(`${srv.url}/staff/publish`)).status, 303);
  });
});

describe('separation of duties: no one approves what they wrote', () => {
  const newsFor = (dept) => ({ category: 'news', department: dept, title_zh: `分工测试 ${Math.random().toString(36).slice(2, 8)}`, body_zh: '正文。' });
  let head2; // a second head of civ
  before(async () => {
    const phone = `139${String(Date.now() % 100_000_000).padStart(8, '0')}`;
    const r = await api('/api/v1/admin/accounts', tok.admin, { method: 'POST', json: { kind: 'staff', name: '孙九', phone, department: 'civ', staff_roles: 'head' } });
    assert.equal(r.status, 201, r.body);
    head2 = (await apiLogin(srv.url, phone, r.json.initial_password)).token;
  });

  test('a head\'s own document: refused to him, approved by another head of the department', async () => {
    const d = await create(tok.civ, newsFor('civ'));
    assert.equal(d.status, 201, d.body);
    assert.equal((await act(d.json.id, tok.civ, 'submit')).status, 200);
    const self = await act(d.json.id, tok.civ, 'approve');
    assert.equal(self.status, 403, self.body);
    assert.match(self.json.error.detail, /部门其他负责人或管理员/);
    assert.equal((await api(`/api/v1/publish/${d.json.id}`, tok.civ)).json.state, 'review', 'still in review');
    const other = await act(d.json.id, head2, 'approve');
    assert.equal(other.status, 200, other.body);
    assert.equal(other.json.state, 'published');
  });

  test('administrators are no exception; where the only head wrote it, an administrator approves', async () => {
    const d = await create(tok.admin, newsFor('psb'));
    assert.equal(d.status, 201, d.body);
    assert.equal((await act(d.json.id, tok.admin, 'submit')).status, 200);
    assert.equal((await act(d.json.id, tok.admin, 'approve')).status, 403, 'an administrator approved his own document');
    // A reviewer of psb writes it; he may not approve (not a head), an administrator does.
    const p = await create(tok.psb, newsFor('psb'));
    assert.equal((await act(p.json.id, tok.psb, 'submit')).status, 200);
    assert.equal((await act(p.json.id, tok.psb, 'approve')).status, 403);
    const ok = await act(p.json.id, tok.admin, 'approve');
    assert.equal(ok.status, 200, ok.body);
  });

  test('whoever edited it, added a file or sent it for review may not approve it either', async () => {
    // head2 edits the civ head's draft: neither of them may approve it now.
    const d = await create(tok.civ, newsFor('civ'));
    const e = await api(`/api/v1/publish/${d.json.id}`, head2, { method: 'PATCH', json: { version: d.json.version, body_zh: '改过的正文。' } });
    assert.equal(e.status, 200, e.body);
    assert.equal((await act(d.json.id, tok.civ, 'submit')).status, 200);
    assert.equal((await act(d.json.id, head2, 'approve')).status, 403, 'the editor approved');
    assert.equal((await act(d.json.id, tok.civ, 'approve')).status, 403, 'the author approved');
    assert.equal((await act(d.json.id, tok.admin, 'approve')).status, 200);
    // A file added by head2 makes him a contributor too.
    const f = await create(tok.civ, newsFor('civ'));
    assert.equal((await upload(f.json.id, head2, pdf())).status, 201);
    assert.equal((await act(f.json.id, head2, 'submit')).status, 200);
    assert.equal((await act(f.json.id, head2, 'approve')).status, 403);
    // Sending back and resubmitting changes nothing: the author still may not approve.
    assert.equal((await act(f.json.id, tok.admin, 'return', { note: '请补充' })).status, 200);
    assert.equal((await act(f.json.id, tok.civ, 'submit')).status, 200);
    assert.equal((await act(f.json.id, tok.civ, 'approve')).status, 403);
  });
});
