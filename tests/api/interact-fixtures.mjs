// interact-fixtures.mjs: what the evaluation, consultation and complaint tests share: a civ
// item's valid form and materials, filing an application through the API and taking it to
// its end with the civ department's demo staff (counter, reviewer and head), and reading an
// account's inbox.
import assert from 'node:assert/strict';
import { applyOnline, bearer, demoCatalog, demoForm, govhall } from './helpers.mjs';

const catalog = demoCatalog();
export const CIV_ITEM = catalog.services.find((s) => s.code === 'civ-0006')
  ?? catalog.services.find((s) => s.department === 'civ' && s.online_depth >= 3);

export const formFor = demoForm;

let seq = 0;
/** Files an application for item as the token's owner; resolves its JSON (number, ...). */
export async function fileApplication(base, token, item = CIV_ITEM) {
  const r = await applyOnline(base, token, item, { key: `ia-${process.pid}-${++seq}` });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

export async function complete(base, staffToken, number, upTo = 'complete') {
  for (const action of ['accept', 'start_review', 'approve', 'complete']) {
    const r = await bearer(`${base}/api/v1/applications/${number}/actions/${action}`, staffToken, { method: 'POST', json: {} });
    assert.equal(r.status, 200, `${action}: ${r.body}`);
    if (action === upTo) break;
  }
}

/** Files and completes an application; resolves its number. */
export async function completedApplication(base, citizenToken, staffToken, item = CIV_ITEM) {
  const app = await fileApplication(base, citizenToken, item);
  await complete(base, staffToken, app.number);
  return app.number;
}

/** The account's inbox messages (newest first). */
export async function inbox(base, token) {
  const r = await bearer(`${base}/api/v1/me/inbox?per_page=100`, token);
  assert.equal(r.status, 200, r.body);
  return r.json.items ?? r.json.messages ?? [];
}

/** `govhall interact-duties DAY` on the server's database; resolves the number of messages. */
export async function runDuties(srv, day) {
  const r = await govhall(['interact-duties', '--db', srv.db, ...(day ? [day] : [])]);
  assert.equal(r.code, 0, `interact-duties: ${r.stdout}\n${r.stderr}`);
  const m = /(\d+) message/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

/** The day n days from now in China Standard Time, as YYYY-MM-DD. */
export function dayFromNow(n) {
  const t = new Date(Date.now() + 8 * 3600_000 + n * 86400_000);
  return t.toISOString().slice(0, 10);
}

export const rate = (base, token, body) => bearer(`${base}/api/v1/evaluations`, token, { method: 'POST', json: body });
export const step = (base, token, id, s, body = {}) =>
  bearer(`${base}/api/v1/evaluations/${id}/rectification/${s}`, token, { method: 'POST', json: body });
