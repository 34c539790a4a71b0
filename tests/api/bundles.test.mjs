// Bundle applications (一件事一次办): one form for all the items of a bundle (shared fields asked
// once) fanned out into one child application per online item; an idempotent double submit;
// the combined progress (in progress, completed, partly refused with the reason) through the
// API and the pages; items handled at the counter get no child.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, apiLogin, bearer, bundleFields, csrfOf, demoBundleForm, demoCatalog, htmlText, pageLogin, sql, startServer,
  samplePdf, uploadAttachment,
} from './helpers.mjs';

let srv;
const tok = {};
let staffId;
let staffDept;

before(async () => {
  srv = await startServer({ name: 'bundles', extraArgs: ['--trust-proxy', 'true'] });
  tok.a = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  tok.b = (await apiLogin(srv.url, DEMO.agent.phone)).token;
  tok.staff = (await apiLogin(srv.url, DEMO.staffB.phone)).token; // counter, reviewer and head
  staffId = await sql(srv.db, "SELECT id FROM accounts WHERE kind = 'staff' AND department = 'civ'");
  staffDept = 'civ';
});
after(async () => {
  if (staffId && staffDept !== 'civ') await sql(srv.db, `UPDATE accounts SET department = 'civ' WHERE id = ${Number(staffId)}`);
  await srv?.stop();
});

const catalog = demoCatalog();
const byCode = new Map(catalog.services.map((s) => [s.code, s]));
// The bundle with the most items applied for online.
const BUNDLE = [...catalog.bundles]
  .filter((b) => b.items.every((c) => byCode.get(c)?.audience?.includes('individual')))
  .sort((x, y) => y.items.filter((c) => byCode.get(c).online_depth >= 3).length
    - x.items.filter((c) => byCode.get(c).online_depth >= 3).length)[0];
const ONLINE = BUNDLE.items.map((c) => byCode.get(c)).filter((s) => s.online_depth >= 3);
// A bundle with an item handled at the counter (online depth below 3), if the catalog has one.
const MIXED = catalog.bundles.find((b) => b.items.some((c) => byCode.get(c)?.online_depth < 3)
  && b.items.some((c) => byCode.get(c)?.online_depth >= 3));

const unionFields = bundleFields;
const formFor = demoBundleForm;

async function upload(token) {
  const up = await uploadAttachment(srv.url, token);
  assert.equal(up.status, 201);
  return up.json.id;
}

/** One fresh PDF for every required material of every online item: [{item, slot, attachments}]. */
async function materialsFor(token, items) {
  const out = [];
  for (const it of items) {
    for (const [i, m] of it.materials.entries()) {
      if (m.required) out.push({ item: it.code, slot: i, attachments: [await upload(token)] });
    }
  }
  return out;
}

const applyBundle = (token, body, code = BUNDLE.code) =>
  bearer(`${srv.url}/api/v1/bundles/${code}/applications`, token, { method: 'POST', json: body });
const showBundle = (token, id) => bearer(`${srv.url}/api/v1/bundles/applications/${id}`, token);
const act = (token, number, action, body = {}) =>
  bearer(`${srv.url}/api/v1/applications/${number}/actions/${action}`, token, { method: 'POST', json: body });

/** Moves the demo staff member (counter, reviewer, head) to department dept. */
async function staffOf(dept) {
  if (dept === staffDept) return;
  await sql(srv.db, `UPDATE accounts SET department = '${dept.replace(/'/g, '')}' WHERE id = ${Number(staffId)}`);
  staffDept = dept;
}

async function run(child, actions) {
  await staffOf(child.department);
  for (const [action, reason] of actions) {
    const r = await act(tok.staff, child.number, action, reason ? { reason } : {});
    assert.equal(r.status, 200, `${child.item_code} ${action}: ${r.status} ${r.body}`);
  }
}
const COMPLETE = [['accept'], ['start_review'], ['approve'], ['complete']];

async function newBundle(key = `k-${Math.random().toString(36).slice(2)}`) {
  const r = await applyBundle(tok.a, {
    form: formFor(ONLINE), materials: await materialsFor(tok.a, ONLINE), submit: true, idempotency_key: key,
  });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

describe('bundle applications', () => {
  test('the demo bundle has several online items from several departments', () => {
    assert.ok(ONLINE.length >= 3, `${BUNDLE.code}: ${ONLINE.length} online items`);
    assert.ok(new Set(ONLINE.map((s) => s.department)).size >= 2);
  });

  test('one submission makes one child per online item, filed with the shared values', async () => {
    const form = formFor(ONLINE);
    const key = 'bundle-once-1';
    const body = { form, materials: await materialsFor(tok.a, ONLINE), submit: true, idempotency_key: key };
    const r = await applyBundle(tok.a, body);
    assert.equal(r.status, 201, r.body);
    const b = r.json;
    assert.equal(b.bundle_code, BUNDLE.code);
    assert.equal(b.status, 'in_progress');
    assert.match(b.number ?? '', /^QB\d{14}$/);
    assert.equal(b.children.length, ONLINE.length);
    assert.deepEqual(b.children.map((c) => c.item_code).sort(), ONLINE.map((s) => s.code).sort());
    for (const c of b.children) {
      assert.equal(c.state, 'submitted');
      assert.match(c.number, /^QH\d{14}$/);
    }
    assert.equal(Number(await sql(srv.db, `SELECT count(*) FROM applications WHERE bundle_id = ${Number(b.id)}`)), ONLINE.length);
    // Each child keeps only its own item's fields, with the value given once.
    const shared = ONLINE.flatMap((s) => s.form.map((f) => f.key)).find((k, i, all) => all.indexOf(k) !== i);
    for (const c of b.children) {
      const one = await bearer(`${srv.url}/api/v1/applications/${c.number}`, tok.a);
      assert.equal(one.status, 200);
      const keys = byCode.get(c.item_code).form.map((f) => f.key);
      for (const k of Object.keys(one.json.form)) assert.ok(keys.includes(k), `${c.item_code} has ${k}`);
      if (shared && keys.includes(shared)) assert.equal(one.json.form[shared], form[shared]);
    }

    // A double submit (the same key) answers with the same bundle and makes nothing more.
    const again = await applyBundle(tok.a, { ...body, materials: await materialsFor(tok.a, ONLINE) });
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json.id, b.id);
    assert.equal(Number(await sql(srv.db, `SELECT count(*) FROM bundle_applications WHERE idempotency_key = '${key}'`)), 1);
    assert.equal(Number(await sql(srv.db, `SELECT count(*) FROM applications WHERE bundle_id = ${Number(b.id)}`)), ONLINE.length);

    // Only the applicant sees the bundle; department staff see their own child only.
    assert.equal((await showBundle(tok.b, b.id)).status, 404);
    assert.equal((await showBundle(tok.staff, b.id)).status, 403);
    const mine = await showBundle(tok.a, b.id);
    assert.equal(mine.status, 200);
    assert.equal(mine.json.children.length, ONLINE.length);
  });

  test('a missing field or material shows every error and files nothing', async () => {
    const form = formFor(ONLINE);
    const required = unionFields(ONLINE).find((f) => f.required);
    delete form[required.key];
    const before = Number(await sql(srv.db, 'SELECT count(*) FROM bundle_applications'));
    const r = await applyBundle(tok.a, { form, materials: [], submit: true, idempotency_key: 'bundle-bad' });
    assert.equal(r.status, 422, r.body);
    assert.ok(r.json.error.fields[required.key], r.body);
    const withMaterial = ONLINE.find((s) => s.materials.some((m) => m.required));
    const slot = withMaterial.materials.findIndex((m) => m.required);
    assert.ok(r.json.error.fields[`material_${withMaterial.code}_${slot}`], r.body);
    assert.equal(Number(await sql(srv.db, 'SELECT count(*) FROM bundle_applications')), before);
    const badItem = await applyBundle(tok.a, { form: formFor(ONLINE), materials: [{ item: 'nope', slot: 0 }] });
    assert.equal(badItem.status, 400);
    const unknown = await applyBundle(tok.a, { form: {} }, 'no-such-bundle');
    assert.equal(unknown.status, 404);
  });

  test('the bundle completes when every child is completed', async () => {
    const b = await newBundle();
    for (const [i, c] of b.children.entries()) {
      await run(c, COMPLETE);
      const now = await showBundle(tok.a, b.id);
      assert.equal(now.json.completed, i + 1);
      assert.equal(now.json.status, i + 1 === b.children.length ? 'completed' : 'in_progress');
    }
  });

  test('with one child denied the bundle shows a partial refusal with the reason', async () => {
    const b = await newBundle();
    const [denied, refused, ...rest] = b.children;
    await run(denied, [['accept'], ['start_review'], ['deny', '不符合申领条件（测试）']]);
    let now = await showBundle(tok.a, b.id);
    assert.equal(now.json.status, 'in_progress', 'open children remain');
    await run(refused, [['refuse', '材料不全（测试）']]);
    for (const c of rest) await run(c, COMPLETE);
    now = await showBundle(tok.a, b.id);
    assert.equal(now.json.status, 'partly_refused');
    assert.deepEqual(now.json.refused.map((x) => x.reason).sort(), ['不符合申领条件（测试）', '材料不全（测试）'].sort());
    assert.deepEqual(now.json.refused.map((x) => x.state).sort(), ['denied', 'not_accepted']);

    // The page says it plainly, and "My applications" lists the bundle.
    const page = await pageLogin(srv.url, DEMO.citizen.phone);
    const p = await page.get(`/bundles/applications/${b.id}`);
    assert.equal(p.status, 200);
    const text = htmlText(p.body);
    assert.match(text, /部分事项未获办理/);
    assert.match(text, /不符合申领条件（测试）/);
    assert.match(text, /材料不全（测试）/);
    const mine = await page.get('/applications');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.includes(`/bundles/applications/${b.id}`));
  });

  test('the bundle page offers one application; the form asks shared fields once and posts', async () => {
    const anon = await fetch(`${srv.url}/bundles/${BUNDLE.code}`);
    assert.ok((await anon.text()).includes(`/bundles/${BUNDLE.code}/apply`));
    const page = await pageLogin(srv.url, DEMO.citizen.phone);
    const form = await page.get(`/bundles/${BUNDLE.code}/apply`);
    assert.equal(form.status, 200, form.body.slice(0, 300));
    for (const f of unionFields(ONLINE)) {
      const n = form.body.split(`name="${f.key}"`).length - 1;
      assert.equal(n, 1, `field ${f.key} asked once`);
    }
    const action = `/bundles/${BUNDLE.code}/apply`;
    const fd = new FormData();
    fd.append('_csrf', csrfOf(form.body, action) ?? '');
    for (const m of form.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      if (m[1] !== '_csrf') fd.append(m[1], htmlText(m[2]));
    }
    for (const [k, v] of Object.entries(formFor(ONLINE))) fd.append(k, v);
    let slot = 0;
    for (const it of ONLINE) {
      for (const m of it.materials) {
        if (m.required) fd.append(`material_${slot}`, new Blob([samplePdf()], { type: 'application/pdf' }), `m${slot}.pdf`);
        slot++;
      }
    }
    fd.append('action', 'submit');
    const post = async () => {
      const res = await fetch(page.base + action, {
        method: 'POST', body: fd, redirect: 'manual', headers: { cookie: page.jar.header(), 'x-forwarded-for': page.ip },
      });
      return { status: res.status, body: await res.text(), location: res.headers.get('location') };
    };
    const r = await post();
    assert.equal(r.status, 303, r.body.slice(0, 500));
    assert.match(r.location, /^\/bundles\/applications\/\d+\?done=submitted$/);
    const again = await post(); // a double click: the same bundle
    assert.equal(again.location, r.location);
    const p = await page.get(r.location);
    assert.equal(p.status, 200);
    assert.equal((p.body.match(/\/applications\/QH\d+/g) ?? []).length >= ONLINE.length, true);

    // Without the fields: the form again, with the errors.
    const bad = new FormData();
    bad.append('_csrf', csrfOf(form.body, action) ?? '');
    bad.append('action', 'submit');
    const res = await fetch(page.base + action, {
      method: 'POST', body: bad, redirect: 'manual', headers: { cookie: page.jar.header(), 'x-forwarded-for': page.ip },
    });
    assert.equal(res.status, 422);
  });

  test('a draft is saved incomplete, resumed and then submitted (API)', async () => {
    const key = 'bundle-draft-api';
    const partial = { [unionFields(ONLINE)[0].key]: formFor(ONLINE)[unionFields(ONLINE)[0].key] };
    const before = Number(await sql(srv.db, 'SELECT count(*) FROM applications'));
    const noKey = await applyBundle(tok.a, { form: partial, submit: false });
    assert.equal(noKey.status, 400, 'a draft needs a key to be found again');
    const d = await applyBundle(tok.a, { form: partial, materials: [], submit: false, idempotency_key: key });
    assert.equal(d.status, 200, d.body);
    assert.equal(d.json.status, 'draft');
    assert.deepEqual(d.json.form, partial);
    assert.equal(d.json.children.length, 0);
    assert.equal(Number(await sql(srv.db, 'SELECT count(*) FROM applications')), before, 'a draft files nothing');
    // Saved again with more: the same draft.
    const mats = await materialsFor(tok.a, ONLINE);
    const d2 = await applyBundle(tok.a, { form: { ...partial, extra_note: 'x' }, materials: mats, submit: false, idempotency_key: key });
    assert.equal(d2.status, 200, d2.body);
    assert.equal(d2.json.id, d.json.id);
    assert.equal(d2.json.materials.length, mats.length);
    // Another account cannot see it; its owner can.
    assert.equal((await showBundle(tok.b, d.json.id)).status, 404);
    const seen = await showBundle(tok.a, d.json.id);
    assert.equal(seen.json.status, 'draft');
    // Submitted with the same key: checked, filed, no longer a draft.
    const sub = await applyBundle(tok.a, { form: formFor(ONLINE), materials: mats, submit: true, idempotency_key: key });
    assert.equal(sub.status, 201, sub.body);
    assert.equal(sub.json.id, d.json.id);
    assert.equal(sub.json.status, 'in_progress');
    assert.equal(sub.json.children.length, ONLINE.length);
    assert.equal(sub.json.form, undefined);
    // Once submitted, it cannot become a draft again.
    const late = await applyBundle(tok.a, { form: partial, submit: false, idempotency_key: key });
    assert.equal(late.status, 409, late.body);
  });

  test('the bundle form saves a draft, which "My applications" offers to continue', async () => {
    const page = await pageLogin(srv.url, DEMO.citizen.phone);
    const action = `/bundles/${BUNDLE.code}/apply`;
    const form = await page.get(action);
    const first = unionFields(ONLINE).find((f) => f.type !== 'select');
    const fd = new FormData();
    fd.append('_csrf', csrfOf(form.body, action) ?? '');
    for (const m of form.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      if (m[1] !== '_csrf') fd.append(m[1], htmlText(m[2]));
    }
    fd.append(first.key, '草稿里的值');
    fd.append('material_0', new Blob([samplePdf()], { type: 'application/pdf' }), '草稿材料.pdf');
    fd.append('action', 'draft');
    const res = await fetch(page.base + action, {
      method: 'POST', body: fd, redirect: 'manual', headers: { cookie: page.jar.header(), 'x-forwarded-for': page.ip },
    });
    assert.equal(res.status, 303, await res.text());
    const loc = res.headers.get('location');
    const m = /^\/bundles\/[^/]+\/apply\?draft=(\d+)&done=draft$/.exec(loc);
    assert.ok(m, loc);
    const resumed = await page.get(loc);
    assert.equal(resumed.status, 200);
    assert.ok(resumed.body.includes('草稿里的值'), 'the value typed is back');
    assert.ok(resumed.body.includes('草稿材料.pdf'), 'the file attached is kept');
    assert.match(htmlText(resumed.body), /草稿已保存/);
    assert.ok(resumed.body.includes(`name="draft" value="${m[1]}"`));
    const mine = await page.get('/applications');
    assert.ok(htmlText(mine.body).includes(`/bundles/${BUNDLE.code}/apply?draft=${m[1]}`), 'listed with a link to continue');
    assert.match(htmlText(mine.body), /草稿（未提交）/);
    // Its progress page leads back to the form; nobody else may open it.
    const prog = await page.get(`/bundles/applications/${m[1]}`);
    assert.equal(prog.status, 303);
    const other = await pageLogin(srv.url, DEMO.agent.phone);
    assert.equal((await other.get(`/bundles/${BUNDLE.code}/apply?draft=${m[1]}`)).status, 404);
    assert.equal((await page.get(`/bundles/${BUNDLE.code}/apply?draft=abc`)).status, 404);
  });

  test('items handled at the counter are listed and get no child', { skip: !MIXED }, async () => {
    const page = await pageLogin(srv.url, DEMO.citizen.phone);
    const form = await page.get(`/bundles/${MIXED.code}/apply`);
    assert.equal(form.status, 200);
    const counter = MIXED.items.map((c) => byCode.get(c)).filter((s) => s.online_depth < 3);
    for (const s of counter) assert.ok(form.body.includes(`href="/services/${s.code}"`), s.code);
    assert.match(htmlText(form.body), /需到窗口办理/);
  });
});
