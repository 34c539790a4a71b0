// Agents act for an enterprise only while the enterprise may act: a token acting for an
// enterprise stops working when an administrator disables the enterprise, while the agent's
// own token goes on working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, bearer, DEMO, DEMO_PASSWORD, freshDb, freshTotp, initDb, serve } from './helpers.mjs';

let db, srv, base;

before(async () => {
  db = await freshDb('agents');
  await initDb(db.url);
  srv = await serve(db.url, { extraArgs: ['--trust-proxy', 'true'] });
  base = srv.url;
});

after(async () => {
  await srv?.stop();
  await db?.drop();
});

describe('agents and a disabled enterprise', () => {
  test('a token acting for a disabled enterprise is refused; the agent\'s own token still works', async () => {
    const agent = await apiLogin(base, DEMO.agent.phone, DEMO_PASSWORD);
    const ents = await bearer(`${base}/api/v1/me/enterprises`, agent.token);
    assert.equal(ents.status, 200, ents.body);
    const list = ents.json.enterprises ?? ents.json.items ?? ents.json;
    const ent = (Array.isArray(list) ? list : []).find((e) => e.name === DEMO.enterprise.name);
    assert.ok(ent, `the agent is not an agent of the demo enterprise: ${ents.body}`);
    const acting = await bearer(`${base}/api/v1/me/tokens`, agent.token, {
      method: 'POST', json: { name: 'acting', channel: 'app', scopes: 'profile,apply', acting_for: ent.id },
    });
    assert.equal(acting.status, 201, acting.body);
    assert.equal((await bearer(`${base}/api/v1/me`, acting.json.token)).status, 200);

    const admin = await apiLogin(base, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) });
    const off = await bearer(`${base}/api/v1/admin/accounts/${ent.id}`, admin.token, { method: 'PATCH', json: { status: 'disabled' } });
    assert.equal(off.status, 200, off.body);

    assert.equal((await bearer(`${base}/api/v1/me`, acting.json.token)).status, 401, 'acting for a disabled enterprise');
    assert.equal((await bearer(`${base}/api/v1/me`, agent.token)).status, 200, 'the agent\'s own token');
  });
});
