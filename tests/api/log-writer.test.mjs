// The log writer (src/base/log.c): while `serve` runs, log lines go through a thread of their
// own, so a reader of stderr that stops reading (a full pipe to journald) never stops the
// event loops. Here the test itself stops reading the server's stderr until far more request
// lines than a pipe holds (64 KiB) have been written; every request must still be answered,
// and once reading resumes the lines arrive, whole and in JSON.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deadline, mapLimit, startServer } from './helpers.mjs';

let srv;
before(async () => { srv = await startServer({ name: 'logwriter' }); });
after(async () => { await srv?.stop(); });

test('requests are answered while nobody reads stderr, and their lines come afterwards', async () => {
  srv.proc.stderr.pause();
  const n = 1000; // about 250 KB of request lines: several times what a pipe holds
  const ids = await deadline(mapLimit(Array.from({ length: n }, (_, i) => i), 8, async (i) => {
    const res = await fetch(`${srv.url}/api/v1/services/psb-0001?n=${i}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    return res.headers.get('x-request-id');
  }), 120_000, `${n} answers while stderr is not read`);
  srv.proc.stderr.resume();
  const last = ids[ids.length - 1];
  await srv.waitForLog((l) => l.req === last, { what: 'the last request\'s line' });
  const seen = new Set(srv.logs().map((l) => l.req));
  const missing = ids.filter((id) => !seen.has(id));
  assert.deepEqual(missing, [], 'every request has its line');
  const broken = srv.stderr.filter((l) => l.trim() && !l.startsWith('{'));
  assert.deepEqual(broken, [], 'every line whole JSON');
});
