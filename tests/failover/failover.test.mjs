// failover.test.mjs: the node's sessions are ended under it, then the primary PostgreSQL dies
// under submission load and its synchronous standby is promoted (tests/failover/drill.mjs).
// The node, on a multi-host URL, must come back each time by itself, answer 503 with
// Retry-After (never a 500) meanwhile, say so on /readyz while /healthz stays up, and lose or
// duplicate nothing it acknowledged; the transparency log on the new primary passes
// `govhall audit`. Needs PostgreSQL 15's binaries (scripts/deps.sh test); the time it took is
// printed, never asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { failoverDrill } from './drill.mjs';

test('a node on a multi-host URL survives the loss of its primary', { timeout: 240_000 }, async (t) => {
  const r = await failoverDrill({ log: (m) => t.diagnostic(m) });
  t.diagnostic(`recovery ${r.recoveryMs} ms from the kill to the first acknowledged submission (promotion took `
    + `${r.promoteMs} ms); ${r.acknowledged} acknowledged; answers ${JSON.stringify(r.answers)}`);
  assert.deepEqual(r.unexpected, [], 'every answer is a 201, or a 503 with Retry-After');
  assert.ok(r.answers[503] > 0, 'the outage was seen by clients (503 with Retry-After)');
  assert.equal(r.readyzDuringOutage, 503);
  assert.equal(r.healthzDuringOutage, 200);
  for (const [p, st] of Object.entries(r.duringOutage)) assert.ok(st === 200 || st === 503, `${p} during the outage: ${st}`);
  assert.equal(r.readyzAfter, 200);
  assert.ok(r.acknowledged >= 110, `${r.acknowledged} acknowledged`);
  assert.ok(r.terminated > 0, 'the node\'s sessions were ended under it');
  assert.deepEqual(r.lost, [], 'every acknowledged submission is on the new primary, with its number');
  assert.deepEqual(r.duplicates, [], 'no key and no number twice');
  assert.deepEqual(r.strays, [], 'no application that no answer acknowledged');
  assert.equal(r.audit.code, 0, `govhall audit on the new primary:\n${r.audit.output}`);
  assert.match(r.audit.output, /audit: \d+ leaves and \d+ covered rows checked, 0 problem/);
});
