// pay-fixtures.mjs: a real `govhall paysim` process and a hall wired to it, for the payment
// tests (API and browser). The simulator listens on a port of its own; stop() stops it with
// SIGTERM (which is how a test makes "the gateway is down" real) and start() brings it back on
// the same port with the same state file, so it still knows its payments.
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  applyOnline, bearer, bin, deadline, demoCatalog, freePort, govhall, root, startServer, tempDir, waitFor,
} from './helpers.mjs';

export const SIM_KEY = 'sim-key-for-tests';
export const SIM_SECRET = 'sim-secret-for-tests';

export { freePort };

/** A simulator: {url, start(), stop(), call(method, path, body)}. schedule: seconds between attempts. */
export async function paysim({ schedule = '0.2,0.2,0.5,1,2', sign = 'hmac' } = {}) {
  const dir = await tempDir('govhall-paysim-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc = null;
  let exited = null;
  const sim = {
    url,
    publicKey: null,
    async start() {
      proc = spawn(bin, ['paysim', '--addr', `127.0.0.1:${port}`, '--state', path.join(dir.path, 'paysim.db'),
        '--api-key', SIM_KEY, '--secret', SIM_SECRET, '--sign', sign, '--schedule', schedule],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
      process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
      proc.stderr.resume();
      await deadline(new Promise((resolve, reject) => {
        let out = '';
        proc.stdout.setEncoding('utf8');
        proc.stdout.on('data', (d) => {
          out += d;
          const k = /public key (\S+)/.exec(out);
          if (k) sim.publicKey = k[1];
          if (/listening on/.test(out)) resolve();
        });
        exited.then((e) => reject(new Error(`paysim exited ${JSON.stringify(e)}: ${out}`)));
      }), 60_000, 'paysim to listen');
    },
    async stop() {
      if (!proc) return null;
      proc.kill('SIGTERM');
      const e = await deadline(exited, 30_000, 'paysim to stop');
      proc = null;
      return e;
    },
    async call(method, p, body) {
      const res = await fetch(`${url}${p}`, {
        method, headers: { authorization: `Bearer ${SIM_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, json, text };
    },
  };
  await sim.start();
  return sim;
}

/** A hall (startServer) that collects fees through sim, served at the address it announces. */
export async function payHall(sim, { name = 'pay', extraArgs = [] } = {}) {
  return startServer({ name, extraArgs: [...await payArgs(sim), '--trust-proxy', 'true', ...extraArgs] });
}

/** The settings that connect a hall to sim, and the address the hall must be served at. */
export async function payArgs(sim) {
  const port = await freePort();
  const keyArgs = sim.publicKey ? ['--pay-notify-public-key', sim.publicKey] : ['--pay-notify-secret', SIM_SECRET];
  return ['--listen', `127.0.0.1:${port}`, '--public-url', `http://127.0.0.1:${port}`, '--pay-gateway-url', sim.url,
    '--pay-api-key', SIM_KEY, ...keyArgs, '--pay-query-after', '1'];
}

/**
 * A row of every payment table, for tests that need them all (the audit): the fee of a
 * fee-bearing application paid, part of it refunded (two receipts), and today reconciled with a
 * difference (a payment the gateway settled that the hall never ordered). tok: {citizen, admin}.
 */
export async function paymentTrail(hallUrl, dbUrl, keyFile, sim, tok) {
  const item = demoCatalog().services.find((s) => s.code === 'psb-0001');
  const app = await applyOnline(hallUrl, tok.citizen, item);
  if (app.status !== 201) throw new Error(`apply: ${app.status} ${app.body}`);
  const number = app.json.number;
  const start = await bearer(`${hallUrl}/api/v1/applications/${number}/payment`, tok.citizen, { method: 'POST', json: {} });
  if (start.status !== 200) throw new Error(`pay: ${start.status} ${start.body}`);
  const gw = /\/pay\/([^/?#]+)/.exec(start.json.pay_url)[1];
  const paid = await sim.call('POST', `/sim/payments/${gw}/pay`, {});
  if (paid.status !== 200) throw new Error(`sim pay: ${paid.status} ${paid.text}`);
  const state = async () => (await bearer(`${hallUrl}/api/v1/applications/${number}/payment`, tok.citizen)).json;
  await waitFor(async () => (await state()).fee.state === 'paid', { what: 'the fee paid' });
  const refund = await bearer(`${hallUrl}/api/v1/staff/payments/${start.json.order}/refunds`, tok.admin,
    { method: 'POST', json: { amount_fen: 500, reason: '多收退还' } });
  if (refund.status !== 201) throw new Error(`refund: ${refund.status} ${refund.body}`);
  await waitFor(async () => (await state()).receipts.length === 2, { what: 'the refund receipt' });
  await sim.call('POST', '/sim/notify', { notify_url: `${hallUrl}/api/v1/pay/notify`, reference: `PO-TRAIL-${process.pid}`, amount: 100 });
  const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const keyArgs = sim.publicKey ? ['--pay-notify-public-key', sim.publicKey] : ['--pay-notify-secret', SIM_SECRET];
  const rec = await govhall(['pay', 'reconcile', day, '--db', dbUrl, '--pay-gateway-url', sim.url, '--pay-api-key', SIM_KEY, ...keyArgs],
    { keyFile });
  if (rec.code !== 0) throw new Error(`reconcile: ${rec.stdout}${rec.stderr}`);
  return { number, order: start.json.order };
}
