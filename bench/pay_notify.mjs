// Payment notifications processed per second under 64 concurrent clients (make bench, beside
// the submission figure). A hall on SQLite collects fees through a real `govhall paysim`; N
// applications for the CNY 20 ID card are filed and each one's order is sent to the gateway;
// then N signed `payment.succeeded` notifications (HMAC-SHA256, as the gateway sends them, each
// for another order) are POSTed by 64 concurrent clients. Each one confirmed does the whole
// work: the order paid, the application moved on, a signed receipt, the transparency log, the
// statistics and the payer's inbox, in one transaction. Every order must end paid, or the run
// fails. Then the same notifications again (duplicates: processed once, answered 200
// "duplicate") as the ceiling of the endpoint's own cost, and the ratio of the two.
//
// Environment: GOVHALL_BIN, BENCH_PAY_N (default 400), BENCH_PAY_CONNS (default 64).
import { createHmac } from 'node:crypto';
import {
  DEMO, apiLogin, applyOnline, bearer, demoCatalog, mapLimit, sql,
} from '../tests/api/helpers.mjs';
import { SIM_SECRET, payHall, paysim } from '../tests/api/pay-fixtures.mjs';

const N = Number(process.env.BENCH_PAY_N ?? 400);
const CONNS = Number(process.env.BENCH_PAY_CONNS ?? 64);
const item = demoCatalog().services.find((s) => s.code === 'psb-0001');

const sim = await paysim();
const srv = await payHall(sim, { name: 'bench_pay', extraArgs: ['--pay-query-after', '86400'] });
try {
  const tok = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  const orders = await mapLimit(Array.from({ length: N }, (_, i) => i), 8, async () => {
    const a = await applyOnline(srv.url, tok, item);
    if (a.status !== 201) throw new Error(`apply: ${a.status} ${a.body}`);
    const s = await bearer(`${srv.url}/api/v1/applications/${a.json.number}/payment`, tok, { method: 'POST', json: {} });
    if (s.status !== 200) throw new Error(`pay: ${s.status} ${s.body}`);
    return { order: s.json.order, gw: /\/pay\/([^/?#]+)/.exec(s.json.pay_url)[1] };
  });
  const now = Math.floor(Date.now() / 1000);
  const bodies = orders.map((o, i) => JSON.stringify({
    event_id: `ev_bench_${process.pid}_${i}`, type: 'payment.succeeded', created_at: now, seq: 2,
    payment: { payment_id: o.gw, reference: o.order, state: 'success', amount: 2000, paid_amount: 2000,
      refunded_amount: 0, created_at: now, expires_at: now + 1800, paid_at: now, seq: 2 },
  }));
  const send = async (body) => {
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', SIM_SECRET).update(`${t}.${body}`).digest('hex');
    const res = await fetch(`${srv.url}/api/v1/pay/notify`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'govpay-signature': `t=${t},v1=${sig}` }, body,
    });
    const j = await res.json();
    if (res.status !== 200) throw new Error(`notify: ${res.status} ${JSON.stringify(j)}`);
    return j.result;
  };
  const run = async () => {
    const t0 = process.hrtime.bigint();
    const results = await mapLimit(bodies, CONNS, send);
    return { s: Number(process.hrtime.bigint() - t0) / 1e9, results };
  };
  const first = await run();
  const paid = Number((await sql(srv.db, "SELECT count(*) FROM pay_orders WHERE state = 'paid'")).trim());
  if (paid !== N || first.results.some((r) => r !== 'applied')) {
    throw new Error(`${paid} of ${N} orders paid; answers ${[...new Set(first.results)].join(',')}`);
  }
  const again = await run();
  if (again.results.some((r) => r !== 'duplicate')) throw new Error('a repeated notification was processed again');
  const rate = N / first.s;
  const ceiling = N / again.s;
  console.log(`payment notifications: ${N} confirmed by ${CONNS} clients in ${first.s.toFixed(2)} s = ${rate.toFixed(1)}/s; `
    + `duplicates ${ceiling.toFixed(1)}/s; ratio ${(rate / ceiling).toFixed(3)}`);
} finally {
  await srv.stop();
  await sim.stop();
}
