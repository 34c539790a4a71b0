// A worker remembers a session's or a bearer token's check while the database is unchanged
// (src/identity/session.c, "credential checks remembered per worker"): two nodes on one
// database, both asked with the credential first so that every worker remembers it. A change
// made through node A (the token revoked, the session logged out, the enterprise it acts for
// disabled, the agent's authorisation ended) or made outside every node (a statement on the
// database) is refused by the very next requests of both nodes, on any of their workers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, DEMO_PASSWORD, apiLogin, bearer, freshDb, freshTotp, initDb, pageLogin, serve, sql } from './helpers.mjs';

let db, nodeA, nodeB, admin, entId;

before(async () => {
  db = await freshDb('tokenmemo');
  await initDb(db.url, { keyFile: db.keyFile });
  [nodeA, nodeB] = await Promise.all([serve(db.url, { keyFile: db.keyFile }), serve(db.url, { keyFile: db.keyFile })]);
  admin = (await apiLogin(nodeA.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
  entId = await enterpriseOfAgent(await apiLogin(nodeA.url, DEMO.agent.phone));
});
after(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await db?.drop();
});

/** Eight requests at once (more than one connection, so every worker of the node answers
 * some): their statuses. */
async function statuses(node, token) {
  const all = await Promise.all(Array.from({ length: 8 }, () => bearer(`${node.url}/api/v1/me`, token)));
  return all.map((r) => r.status);
}

/** A new token of the caller's (from its log-in token), acting for enterprise when given. */
async function newToken(login, name, enterprise) {
  const json = { name, channel: 'app', scopes: 'profile,account,apply', ...(enterprise ? { acting_for: enterprise } : {}) };
  const r = await bearer(`${nodeA.url}/api/v1/me/tokens`, login.token, { method: 'POST', json });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

/** Both nodes answer the token (and so remember it). */
async function remembered(token) {
  for (const node of [nodeA, nodeB]) assert.deepEqual(await statuses(node, token), Array(8).fill(200));
}

/** Both nodes refuse at once. */
async function refused(token, what) {
  assert.deepEqual(await statuses(nodeA, token), Array(8).fill(401), `${what}: node A, which made the change`);
  assert.deepEqual(await statuses(nodeB, token), Array(8).fill(401), `${what}: node B`);
}

/** token remembered by both nodes, then change() made through node A: both refuse token at
 * once, while the caller's own token (survivor) goes on. */
async function endedThrough(token, change, what, survivor) {
  await remembered(token);
  const r = await change();
  assert.ok(r.status < 300, r.body);
  await refused(token, what);
  assert.deepEqual(await statuses(nodeA, survivor), Array(8).fill(200), `${what}: the other token goes on`);
}

async function enterpriseOfAgent(agent) {
  const r = await bearer(`${nodeA.url}/api/v1/me/enterprises`, agent.token);
  assert.equal(r.status, 200, r.body);
  const list = r.json.enterprises ?? r.json.items ?? r.json;
  const ent = list.find((e) => e.name === DEMO.enterprise.name);
  assert.ok(ent, r.body);
  return ent.id;
}

/** Eight page requests at once with a session cookie: their statuses (303 to the log-in page
 * once the session is over). */
async function pageStatuses(node, sid) {
  const all = await Promise.all(Array.from({ length: 8 }, () =>
    fetch(`${node.url}/account`, { headers: { cookie: `gh_sid=${sid}` }, redirect: 'manual' }).then(async (r) => { await r.arrayBuffer(); return r.status; })));
  return all;
}

describe('a remembered credential check', () => {
  test('a session logged out through a node is refused at once by both nodes', async () => {
    const c = await pageLogin(nodeA.url, DEMO.citizen.phone);
    const sid = c.sid;
    for (const node of [nodeA, nodeB]) assert.deepEqual(await pageStatuses(node, sid), Array(8).fill(200));
    const out = await c.post('/logout');
    assert.equal(out.status, 303, out.body);
    assert.deepEqual(await pageStatuses(nodeA, sid), Array(8).fill(303), 'logged out: node A, which made the change');
    assert.deepEqual(await pageStatuses(nodeB, sid), Array(8).fill(303), 'logged out: node B');
  });

  test('a token revoked through a node is refused at once by both nodes', async () => {
    const citizen = await apiLogin(nodeA.url, DEMO.citizen.phone);
    const t = await newToken(citizen, 'memo revoke');
    await endedThrough(t.token, () => bearer(`${nodeA.url}/api/v1/me/tokens/${t.id}`, citizen.token, { method: 'DELETE' }),
      'revoked', citizen.token);
  });

  test('an authorisation ended through a node: the token acting on it is refused at once', async () => {
    const agent = await apiLogin(nodeA.url, DEMO.agent.phone);
    const acting = await newToken(agent, 'memo acting', entId);
    const enterprise = await apiLogin(nodeA.url, DEMO.enterprise.phone);
    const agents = await bearer(`${nodeA.url}/api/v1/me/agents`, enterprise.token);
    assert.equal(agents.status, 200, agents.body);
    const list = agents.json.agents ?? agents.json.items ?? agents.json;
    const me = list.find((a) => a.name === DEMO.agent.name);
    assert.ok(me, agents.body);
    await endedThrough(acting.token, () => bearer(`${nodeA.url}/api/v1/me/agents/${me.id}`, enterprise.token, { method: 'DELETE' }),
      'authorisation ended', agent.token);
  });

  test('an account disabled through a node, a token revoked and a session made idle on the database itself', async () => {
    // Disabled: the enterprise, whose own token is refused.
    const enterprise = await apiLogin(nodeA.url, DEMO.enterprise.phone);
    const t = await newToken(enterprise, 'memo disabled');
    await remembered(t.token);
    const off = await bearer(`${nodeA.url}/api/v1/admin/accounts/${entId}`, admin, { method: 'PATCH', json: { status: 'disabled' } });
    assert.equal(off.status, 200, off.body);
    await refused(t.token, 'account disabled');

    // Revoked by a statement no node made; and a session's idleness moved on the database.
    const citizen = await apiLogin(nodeA.url, DEMO.citizen.phone);
    const u = await newToken(citizen, 'memo outside');
    await remembered(u.token);
    await sql(db.url, `UPDATE api_tokens SET revoked_at = 1 WHERE id = ${Number(u.id)}`);
    await refused(u.token, 'revoked on the database');
    const c = await pageLogin(nodeA.url, DEMO.citizen.phone);
    for (const node of [nodeA, nodeB]) assert.deepEqual(await pageStatuses(node, c.sid), Array(8).fill(200));
    await sql(db.url, `UPDATE sessions SET last_seen = last_seen - 86400 WHERE id = (SELECT max(id) FROM sessions)`);
    for (const node of [nodeA, nodeB]) assert.deepEqual(await pageStatuses(node, c.sid), Array(8).fill(303), 'idle on the database');
  });
});
