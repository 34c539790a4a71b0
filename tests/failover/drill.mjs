// drill.mjs: a PostgreSQL failover under submission load, against the real binary. Shared by
// the test (tests/failover/failover.test.mjs, in `make test`) and `make bench`
// (bench/failover.mjs), which report the same figures.
//
//  1. scripts/pg-test.sh start --standby: a primary and a synchronous streaming standby;
//  2. `govhall init --demo` and `govhall serve` on the multi-host URL
//     (postgresql://P,S/db?target_session_attrs=read-write);
//  3. `clients` concurrent API clients submit applications, each with its own idempotency key;
//     a client retries the same key after a 503 (or a broken connection) until it gets a 201,
//     and records the number that 201 acknowledged;
//  4. after `before` acknowledged submissions, every session of the node is ended by the
//     server (pg_terminate_backend) `terminations` times while the primary stays up, each time
//     until 10 more are acknowledged; then the primary is stopped at once (as a crash);
//     /readyz must say 503 while /healthz stays 200, and a few reads are tried (OUTAGE_PROBES);
//     then the standby is promoted;
//  5. the load goes on for `after` more acknowledged submissions, then stops;
//  6. on the new primary: every acknowledged key is there with the acknowledged number, no
//     number twice, no application that no answer acknowledged, and `govhall audit` passes.
//
// The recovery time is from the kill (pg_ctl returned) to the first 201 of a request sent
// after it. Clients retry at once and then at growing pauses up to 250 ms (waitFor) rather
// than after Retry-After's 5 s, so the figure is the server's, not the clients' patience. Everything started is stopped and removed,
// also when a step fails. A hang guard (`guardMs` for the whole drill) turns a hang into an
// error; it asserts nothing about speed.
import { execFile, execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {
  DEMO, apiLogin, govhall, initDb, root, serve, tempDir, waitFor,
} from '../api/helpers.mjs';

const ITEM = 'gsa-0001'; // online, no required materials: the submission is the write alone
const FORM = { phone: DEMO.citizen.phone, type: 'consult', content: 'Street light out (failover drill)' };
// Read during the outage (path, with the citizen's token): a page, the statistics, a search,
// the citizen's own list and inbox. Each must answer 200 (from a node-local cache) or 503.
const OUTAGE_PROBES = [
  ['/services/gsa-0001', false], ['/stats', false], ['/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81', false],
  ['/api/v1/applications', true], ['/api/v1/me/inbox', true],
];

function run(cmd, args, { timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function pg(cmd, state, extra = []) {
  const r = await run(path.join(root, 'scripts/pg-test.sh'), [cmd, '--state', state, ...extra]);
  if (r.code !== 0) throw new Error(`scripts/pg-test.sh ${cmd} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

async function psql(url, sql) {
  const r = await run('psql', ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
  if (r.code !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

async function status(url, headers = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Waits until pred() is true, until the drill's deadline (the hang guard). */
async function until(what, deadline, pred) {
  try {
    return await waitFor(pred, { what, timeout: Math.max(0, deadline - Date.now()) });
  } catch {
    throw new Error(`failover drill: hang guard: still waiting for ${what}`);
  }
}

export async function failoverDrill({
  clients = 8, before = 40, after = 40, terminations = 3, guardMs = 150_000, threads = 2,
  log = () => {},
} = {}) {
  const deadline = Date.now() + guardMs;
  const work = await tempDir('govhall-failover-');
  const state = path.join(os.tmpdir(), `govhall-failover-${process.pid}-${Date.now()}.state`);
  let srv = null;
  let pgUp = false;
  // Should the process end before the finally below (an uncaught error, the test runner's
  // timeout), the clusters go with it.
  const stopAtExit = () => {
    try {
      execFileSync(path.join(root, 'scripts/pg-test.sh'), ['stop', '--state', state], { stdio: 'ignore' });
    } catch { /* best effort */ }
  };
  const out = {
    acknowledged: 0, terminated: 0, lost: [], duplicates: [], strays: [], answers: {}, unexpected: [],
    readyzDuringOutage: null, healthzDuringOutage: null, duringOutage: {}, readyzAfter: null,
    recoveryMs: null, promoteMs: null, audit: null,
  };
  try {
    const lines = Object.fromEntries((await pg('start', state, ['--standby'])).trim().split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    pgUp = true;
    process.on('exit', stopAtExit);
    const multi = lines.GOVHALL_TEST_PG;
    const primary = lines.GOVHALL_TEST_PG_PRIMARY;
    const standby = lines.GOVHALL_TEST_PG_STANDBY;
    log(`primary ${primary}, standby ${standby}`);
    const keyFile = path.join(work.path, 'govhall.key');
    await initDb(multi, { demo: true, keyFile });
    srv = await serve(multi, { keyFile, threads });
    const { token } = await apiLogin(srv.url, DEMO.citizen.phone);

    // ---- the load ----
    const acked = new Map(); // key -> number
    let stopping = false;
    let killedAt = null; // ms, when kill-primary returned
    let firstAfterKill = null;
    const submitOnce = async (key) => {
      const sent = Date.now();
      let res;
      let body;
      try {
        res = await fetch(`${srv.url}/api/v1/services/${ITEM}/applications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ form: FORM, materials: [], submit: true, idempotency_key: key }),
          signal: AbortSignal.timeout(60_000),
        });
        body = await res.text();
      } catch (e) {
        out.answers.network = (out.answers.network ?? 0) + 1;
        out.unexpected.push(`${key}: ${e.message}`);
        return null;
      }
      out.answers[res.status] = (out.answers[res.status] ?? 0) + 1;
      if (res.status === 201) {
        if (killedAt !== null && sent >= killedAt && firstAfterKill === null) firstAfterKill = Date.now();
        return JSON.parse(body).number;
      }
      if (res.status !== 503 || !res.headers.get('retry-after')) out.unexpected.push(`${key}: ${res.status} ${body.slice(0, 200)}`);
      return null;
    };
    const client = async (c) => {
      for (let i = 0; !stopping; i++) {
        const key = `fo-${c}-${i}`;
        // Retried (a 503 says when) until acknowledged, within the hang guard.
        const number = await until(`${key} acknowledged`, deadline, () => submitOnce(key));
        acked.set(key, number);
      }
    };
    const running = Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    running.catch(() => { stopping = true; });
    try {
      await until(`${before} acknowledged submissions`, deadline, () => acked.size >= before);

      // ---- sessions ended under the node while the primary stays up ----
      for (let i = 0; i < terminations; i++) {
        const [[n]] = await psql(primary, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
          + "WHERE application_name LIKE 'govhall%' AND pid <> pg_backend_pid()");
        out.terminated += Number(n);
        const at = acked.size;
        await until('submissions acknowledged after the sessions ended', deadline, () => acked.size >= at + 10);
      }

      // ---- the failover ----
      await pg('kill-primary', state);
      killedAt = Date.now();
      log('primary killed');
      await until('/readyz to say 503', deadline, async () => (await status(`${srv.url}/readyz`)) === 503);
      out.readyzDuringOutage = 503;
      out.healthzDuringOutage = await status(`${srv.url}/healthz`);
      for (const [p, auth] of OUTAGE_PROBES) {
        out.duringOutage[p] = await status(`${srv.url}${p}`, auth ? { authorization: `Bearer ${token}` } : {});
      }
      const promoteStart = Date.now();
      await pg('promote', state);
      out.promoteMs = Date.now() - promoteStart;
      log('standby promoted');
      await until('a submission acknowledged after the kill', deadline, () => firstAfterKill !== null);
      out.recoveryMs = firstAfterKill - killedAt;
      const atRecovery = acked.size;
      await until(`${after} more acknowledged submissions`, deadline, () => acked.size >= atRecovery + after);
      await until('/readyz to say 200', deadline, async () => (await status(`${srv.url}/readyz`)) === 200);
      out.readyzAfter = 200;
    } finally {
      stopping = true;
      await running;
    }
    out.acknowledged = acked.size;

    // ---- on the new primary ----
    const rows = await psql(standby, "SELECT idempotency_key, number FROM applications WHERE idempotency_key LIKE 'fo-%'");
    const stored = new Map();
    for (const [key, number] of rows) {
      if (stored.has(key)) out.duplicates.push(`key ${key}: ${stored.get(key)} and ${number}`);
      stored.set(key, number);
    }
    for (const [key, number] of acked) {
      if (stored.get(key) !== number) out.lost.push(`${key}: acknowledged ${number}, stored ${stored.get(key) ?? 'nothing'}`);
    }
    for (const [key, number] of stored) {
      if (!acked.has(key)) out.strays.push(`${key}: ${number}`);
    }
    for (const [number, n] of await psql(standby, 'SELECT number, COUNT(*) FROM applications GROUP BY number HAVING COUNT(*) > 1')) {
      out.duplicates.push(`number ${number}: ${n} applications`);
    }
    const audit = await govhall(['audit', '--db', standby], { keyFile });
    out.audit = { code: audit.code, output: `${audit.stdout}${audit.stderr}`.trim() };
    await srv.stop();
    srv = null;
    return out;
  } catch (e) {
    // What the clients were answered and the node's last log lines, to tell why.
    e.message += `\nanswers: ${JSON.stringify(out.answers)}\nunexpected (last 10): ${out.unexpected.slice(-10).join('\n')}`
      + `\nthe node's last log lines:\n${(srv?.stderr ?? []).slice(-40).join('\n')}`;
    throw e;
  } finally {
    if (srv) await srv.stop().catch(() => {});
    if (pgUp) {
      await pg('stop', state).catch(() => {});
      process.off('exit', stopAtExit);
    }
    await rm(state, { force: true });
    await work.remove();
  }
}
