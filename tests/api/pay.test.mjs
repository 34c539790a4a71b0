// Fees and payment (缴费) end to end through a real `govhall paysim` process: a fee-bearing
// application waits for its payment, the citizen pays at the simulator, the hall believes it
// only from the signed notification (or its own query), moves the application on and issues a
// receipt anyone can verify; and the simulator's fault modes, refunds and reconciliation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  DEMO, DEMO_PASSWORD, actOn, apiLogin, applyOnline, bearer, demoCatalog, demoForm, freshTotp, get, govhall, htmlText, pageLogin,
  sql, tempDir, waitFor, writeJsonFile,
} from './helpers.mjs';
import { SIM_KEY, SIM_SECRET, payHall, paysim } from './pay-fixtures.mjs';

const catalog = demoCatalog();
const ID_CARD = catalog.services.find((s) => s.code === 'psb-0001'); // fixed CNY 20, before acceptance
const LICENCE = catalog.services.find((s) => s.code === 'psb-0013'); // fixed CNY 10, after approval

let sim;
let srv;
const tok = {};

before(async () => {
  sim = await paysim();
  srv = await payHall(sim);
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
  tok.admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => {
  await srv?.stop();
  await sim?.stop();
});

const payment = (number, who = 'a') => bearer(`${srv.url}/api/v1/applications/${number}/payment`, tok[who]);
const startPay = (number, who = 'a') => bearer(`${srv.url}/api/v1/applications/${number}/payment`, tok[who], { method: 'POST', json: {} });
const gwId = (payUrl) => /\/pay\/([^/?#]+)/.exec(payUrl)[1];

/** A submitted application for the CNY 20 ID card: it waits for its payment. */
async function feeApplication(item = ID_CARD, form = demoForm(item)) {
  const res = await applyOnline(srv.url, tok.a, item, { form });
  assert.equal(res.status, 201, res.body);
  return res.json.number;
}

async function paidState(number) {
  let last;
  await waitFor(async () => {
    last = (await payment(number)).json;
    return last.orders.some((o) => o.state === 'paid' || o.state === 'partly_refunded' || o.state === 'refunded');
  }, { what: `the order of ${number} to be paid` });
  return last;
}

/** Start paying and pay at the simulator; resolves {order, gw}. */
async function pay(number, body = {}) {
  const s = await startPay(number);
  assert.equal(s.status, 200, s.body);
  const gw = gwId(s.json.pay_url);
  const p = await sim.call('POST', `/sim/payments/${gw}/pay`, body);
  assert.equal(p.status, 200, p.text);
  return { order: s.json.order, gw, start: s.json };
}

describe('paying an item\'s fee through the simulator', () => {
  test('the fee is shown with its basis, paid, confirmed by the signed notification, and the application moves on', async () => {
    const number = await feeApplication();
    const before = await payment(number);
    assert.equal(before.status, 200, before.body);
    assert.equal(before.json.fee.amount_fen, 2000);
    assert.equal(before.json.fee.state, 'due');
    assert.match(before.json.fee.basis, /居民身份证法/);
    assert.equal(before.json.can_pay, true);
    const app0 = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a);
    assert.equal(app0.json.state, 'awaiting_payment', app0.body);

    const { order, start } = await pay(number);
    assert.equal(start.amount_fen, 2000);
    assert.ok(start.expires_at > Date.now() / 1000 + 25 * 60, 'an order may be paid for 30 minutes');
    const done = await paidState(number);
    const o = done.orders.find((x) => x.number === order);
    assert.equal(o.state, 'paid');
    assert.equal(done.fee.state, 'paid');
    assert.equal(done.can_pay, false);
    const app1 = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a);
    assert.notEqual(app1.json.state, 'awaiting_payment');
    // A receipt, verifiable by anyone.
    assert.equal(done.receipts.length, 1);
    const rc = done.receipts[0];
    const v = await bearer(`${srv.url}/api/v1${rc.verify_href}`, null);
    assert.equal(v.status, 200, v.body);
    assert.equal(v.json.status, 'valid', v.body);
    const forged = await bearer(`${srv.url}/api/v1${rc.verify_href.replace(/h=(.)/, (_, c) => `h=${c === '0' ? '1' : '0'}`)}`, null);
    assert.equal(forged.json.status, 'unknown', 'another hash is not this receipt');
    const pdf = await bearer(`${srv.url}/api/v1/pay/receipts/${rc.number}/pdf`, tok.a);
    assert.equal(pdf.status, 200);
    assert.match(pdf.body.slice(0, 8), /^%PDF-/);
    const doc = await bearer(`${srv.url}/api/v1/pay/receipts/${rc.number}`, tok.a);
    assert.equal(doc.json.receipt.amount_fen, 2000);
    assert.equal((await bearer(`${srv.url}/api/v1/pay/receipts/${rc.number}`, tok.b)).status, 404);
    // The queue shows it paid.
    const staff = await bearer(`${srv.url}/api/v1/staff/payments?state=paid`, tok.psb);
    assert.ok(staff.json.items.some((x) => x.number === order));
    // Someone else cannot see or pay it.
    assert.equal((await payment(number, 'b')).status, 404);
    assert.equal((await startPay(number, 'b')).status, 404);
  });

  test('the return address alone proves nothing: an unpaid order stays pending', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    assert.equal(s.status, 200, s.body);
    const c = await bearer(`${srv.url}/api/v1/pay/orders/${s.json.order}/check`, tok.a, { method: 'POST', json: {} });
    assert.equal(c.status, 200, c.body);
    const p = await payment(number);
    assert.equal(p.json.orders[0].state, 'pending');
    assert.equal(p.json.fee.state, 'due');
  });
});

describe('at the kiosk', () => {
  test('a citizen signed in at a centre\'s kiosk sees each fee due, with its payment page; paid, it is gone', async () => {
    const number = await feeApplication();
    const citizen = await pageLogin(srv.url, DEMO.citizen.phone);
    const kiosk = await citizen.get('/centres/qh-main/kiosk');
    assert.equal(kiosk.status, 200, kiosk.body.slice(0, 300));
    assert.match(kiosk.body, new RegExp(`<a class="button" href="/applications/${number}/payment">`));
    assert.match(kiosk.body, /¥20\.00/);
    const page = await citizen.get(`/applications/${number}/payment`);
    assert.equal(page.status, 200);
    const someoneElse = await pageLogin(srv.url, DEMO.agent.phone);
    assert.doesNotMatch((await someoneElse.get('/centres/qh-main/kiosk')).body, new RegExp(number), 'only the payer\'s own fees');
    await pay(number);
    await paidState(number);
    assert.doesNotMatch((await citizen.get('/centres/qh-main/kiosk')).body, new RegExp(number), 'a paid fee is not listed');
  });
});

describe('the staff queue', () => {
  test('shows each application\'s fee, due then paid; an exempt one as exempt and an item without a fee as none', async () => {
    const staff = await pageLogin(srv.url, DEMO.staffA.phone, DEMO_PASSWORD, { totpSecret: DEMO.staffA.totp, lang: 'en' });
    /** The queue's fee cell of application number (item code): [state, name], [null, null] for none. */
    const feeCell = async (number, item) => {
      const state = (await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a)).json.state;
      for (let page = 1; page < 100; page++) {
        const q = await staff.get(`/staff/queue?state=${state}&item=${item}&page=${page}`);
        assert.equal(q.status, 200, q.body.slice(0, 300));
        const row = q.body.split('<tr>').find((tr) => tr.includes(`>${number}</a>`));
        if (row) {
          const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]); // item, applicant, state, fee, ...
          const m = /class="state fee-(\w+)">([^<]*)</.exec(cells[3]);
          return m ? [m[1], m[2]] : [null, cells[3]];
        }
        if (!q.body.includes(`page=${page + 1}`)) break;
      }
      assert.fail(`${number} is not in the queue`);
    };
    const number = await feeApplication();
    assert.deepEqual(await feeCell(number, 'psb-0001'), ['due', 'Due']);
    await pay(number);
    await paidState(number);
    assert.deepEqual(await feeCell(number, 'psb-0001'), ['paid', 'Paid']);
    const low = catalog.services.find((x) => x.code === 'psb-0004');
    const exempt = await feeApplication(low, { ...demoForm(low), low_income: 'yes' });
    assert.deepEqual(await feeCell(exempt, 'psb-0004'), ['exempt', 'Exempt']);
    const free = catalog.services.find((x) => x.code === 'psb-0005');
    const none = await feeApplication(free);
    assert.deepEqual(await feeCell(none, 'psb-0005'), [null, '—'], 'no fee: no mark');
  });
});

describe('a fee due after approval, and the order\'s other ends', () => {
  const state = async (number) => (await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a)).json.state;

  test('nothing is due on submission; approved, the application waits for the fee, is paid and goes back to approved', async () => {
    const number = await feeApplication(LICENCE);
    assert.equal(await state(number), 'submitted');
    let p = await payment(number);
    assert.equal(p.status, 404, 'nothing is assessed before approval');
    assert.match(p.json.error.detail, /没有需要缴纳的费用/);
    assert.equal((await startPay(number)).status, 404, 'nor can anything be paid');
    for (const a of ['accept', 'start_review', 'approve']) {
      const r = await actOn(srv.url, tok.psb, number, a);
      assert.equal(r.status, 200, `${a}: ${r.body}`);
    }
    assert.equal(await state(number), 'awaiting_payment');
    p = await payment(number);
    assert.equal(p.json.fee.amount_fen, 1000, p.body);
    assert.equal(p.json.fee.point, 'after_approval', p.body);
    assert.equal(p.json.can_pay, true);
    const { order, start } = await pay(number);
    assert.equal(start.amount_fen, 1000);
    const done = await paidState(number);
    assert.equal(done.orders.find((o) => o.number === order).state, 'paid');
    assert.equal(await state(number), 'approved', 'back where it was, ready to complete');
    assert.equal(done.receipts.length, 1);
    assert.equal((await bearer(`${srv.url}/api/v1${done.receipts[0].verify_href}`, null)).json.status, 'valid');
    assert.equal((await actOn(srv.url, tok.psb, number, 'complete')).status, 200);
  });

  test('a fee per unit: the units in the form times the unit price, paid and receipted at that amount', async () => {
    // An item of the catalog priced per copy (CNY 5, at most 5), imported beside the demo's.
    const item = {
      ...ID_CARD, code: 'psb-9901', fee_yuan: 5, name_zh: '按件收费测试事项', name_en: 'Per-copy fee test item',
      form: [...ID_CARD.form, { key: 'copies', label_zh: '份数', label_en: 'Copies', type: 'number', required: true }],
      fee: { ...ID_CARD.fee, amount_fen: undefined, per_unit: { field: 'copies', unit_fen: 500, max_units: 5 } },
    };
    const dir = await tempDir('govhall-pay-unit-');
    const imp = await govhall(['import', 'catalog', await writeJsonFile(dir.path, 'item.json', { services: [item] }), '--db', srv.db],
      { keyFile: srv.keyFile });
    assert.equal(imp.code, 0, imp.stdout + imp.stderr);
    await waitFor(async () => (await bearer(`${srv.url}/api/v1/services/${item.code}`, null)).status === 200, { what: 'the imported item' });
    for (const [copies, fen] of [['3', 1500], ['2.5', 1500], ['9', 2500]]) {
      const number = await feeApplication(item, { ...demoForm(ID_CARD), copies });
      const p = await payment(number);
      assert.equal(p.status, 200, p.body);
      assert.equal(p.json.fee.amount_fen, fen, `${copies} copies: ${p.body}`);
      if (copies !== '3') continue;
      const { start } = await pay(number);
      assert.equal(start.amount_fen, fen);
      const done = await paidState(number);
      const rc = (await bearer(`${srv.url}/api/v1/pay/receipts/${done.receipts[0].number}`, tok.a)).json;
      assert.equal(rc.receipt.amount_fen, fen);
    }
    await dir.remove();
  });

  test('a payment that fails leaves the order failed, payable again until it expires', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    assert.equal(s.status, 200, s.body);
    const r = await sim.call('POST', `/sim/payments/${gwId(s.json.pay_url)}/pay`, { outcome: 'failed' });
    assert.equal(r.status, 200, r.text);
    let last;
    await waitFor(async () => { last = (await payment(number)).json; return last.orders.some((o) => o.state === 'failed'); },
      { what: 'the order to be failed' });
    assert.equal(last.can_pay, true, JSON.stringify(last));
    assert.equal(await state(number), 'awaiting_payment');
  });

  test('an order not paid in time expires; the fee still due, paying makes a new order', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    assert.equal(s.status, 200, s.body);
    // The clock passes the order's expiry at the gateway, which says so.
    assert.equal((await sim.call('POST', `/sim/payments/${gwId(s.json.pay_url)}/expire`)).status, 202);
    let last;
    await waitFor(async () => { last = (await payment(number)).json; return last.orders.some((o) => o.state === 'expired'); },
      { what: 'the order to expire' });
    assert.equal(last.fee.state, 'due', JSON.stringify(last));
    assert.equal(last.can_pay, true, 'the fee is still due');
    assert.equal(await state(number), 'awaiting_payment');
    assert.equal((await sim.call('POST', `/sim/payments/${gwId(s.json.pay_url)}/expire`)).status, 409, 'closed already');
    assert.equal((await sim.call('POST', '/sim/payments/gp_nosuch/expire')).status, 404);
    const again = await startPay(number);
    assert.equal(again.status, 200, again.body);
    assert.notEqual(again.json.order, s.json.order, 'a new order');
    assert.equal((await sim.call('POST', `/sim/payments/${gwId(again.json.pay_url)}/pay`, {})).status, 200);
    await paidState(number);
  });

  test('withdrawn while the fee is due: an order never sent to the gateway is cancelled', async () => {
    const number = await feeApplication();
    const before = (await payment(number)).json;
    assert.deepEqual(before.orders.map((o) => o.state), ['created'], JSON.stringify(before));
    const w = await actOn(srv.url, tok.a, number, 'withdraw');
    assert.equal(w.status, 200, w.body);
    const after = (await payment(number)).json;
    assert.deepEqual(after.orders.map((o) => o.state), ['cancelled'], JSON.stringify(after));
    assert.equal(after.can_pay, false);
    assert.equal((await startPay(number)).status, 409, 'nothing more to pay for a withdrawn application');
  });
});

describe('a refund receipt', () => {
  test('verifies on its page, through the API link and as a file posted to /api/v1/verify', async () => {
    const number = await feeApplication();
    const { order } = await pay(number);
    await paidState(number);
    const r = await bearer(`${srv.url}/api/v1/staff/payments/${order}/refunds`, tok.admin,
      { method: 'POST', json: { amount_fen: 700, reason: '多收退还' } });
    assert.ok([201, 202].includes(r.status), r.body);
    let p;
    await waitFor(async () => { p = (await payment(number)).json; return p.receipts.some((x) => x.kind === 'refund'); },
      { what: 'the refund receipt' });
    const rc = p.receipts.find((x) => x.kind === 'refund');
    const api = await bearer(`${srv.url}/api/v1${rc.verify_href}`, null);
    assert.equal(api.status, 200, api.body);
    assert.equal(api.json.status, 'valid', api.body);
    assert.ok(JSON.stringify(api.json).includes('700') || JSON.stringify(api.json).includes('7.00'), api.body);
    const page = await get(`${srv.url}${rc.verify_href}&lang=en`);
    assert.equal(page.status, 200);
    assert.match(htmlText(page.body), /Valid/);
    assert.match(htmlText(page.body), /Refund/);
    const pdf = await fetch(`${srv.url}/api/v1/pay/receipts/${rc.number}/pdf`, { headers: { authorization: `Bearer ${tok.a}` } });
    assert.equal(pdf.status, 200);
    const posted = await fetch(`${srv.url}/api/v1/verify`, {
      method: 'POST', headers: { 'content-type': 'application/pdf' }, body: Buffer.from(await pdf.arrayBuffer()),
    });
    const verdict = await posted.json();
    assert.equal(posted.status, 200, JSON.stringify(verdict));
    assert.equal(verdict.status, 'valid', JSON.stringify(verdict));
    const forged = await bearer(`${srv.url}/api/v1${rc.verify_href.replace(/h=(.)/, (_, c) => `h=${c === '0' ? '1' : '0'}`)}`, null);
    assert.equal(forged.json.status, 'unknown');
  });
});

describe('what goes wrong', () => {
  test('a notification with a bad signature is refused with 400 and changes nothing', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    const body = JSON.stringify({ id: 'ev_forged', type: 'payment.succeeded', payment: { id: gwId(s.json.pay_url), reference: s.json.order, amount: 2000, state: 'success' } });
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', 'not the secret').update(`${t}.${body}`).digest('hex');
    for (const headers of [{ 'govpay-signature': `t=${t},v1=${sig}` }, {}]) {
      const res = await fetch(`${srv.url}/api/v1/pay/notify`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal(res.status, 400);
    }
    assert.equal((await payment(number)).json.orders[0].state, 'pending');
  });

  for (const fault of ['bad_signature', 'stale_signature']) {
    test(`the simulator's ${fault} fault: refused, logged, and the query duty still finds the payment`, async () => {
      const number = await feeApplication();
      assert.equal((await sim.call('POST', '/sim/faults', { faults: [fault] })).status, 200);
      try {
        await pay(number);
        await srv.waitForLog((l) => /a notification from .* was refused/.test(l.msg ?? ''), { what: `the ${fault} notification refused` });
      } finally {
        await sim.call('POST', '/sim/faults', { faults: [] });
      }
      await paidState(number);
    });
  }

  test('duplicate and out-of-order notifications are processed once', async () => {
    const number = await feeApplication();
    assert.equal((await sim.call('POST', '/sim/faults', { faults: ['duplicate', 'reverse'] })).status, 200);
    try {
      await pay(number);
      const done = await paidState(number);
      assert.equal(done.receipts.length, 1);
    } finally {
      await sim.call('POST', '/sim/faults', { faults: [] });
    }
    const ev = await sim.call('GET', '/sim/events');
    assert.equal(ev.status, 200, ev.text);
    const done = await payment(number);
    assert.equal(done.json.receipts.length, 1, 'one receipt however many notifications');
    assert.equal(done.json.orders.filter((o) => o.state === 'paid').length, 1);
  });

  test('an amount other than the one due is held for staff', async () => {
    const number = await feeApplication();
    await pay(number, { amount: 1500 });
    let p;
    await waitFor(async () => { p = (await payment(number)).json; return p.orders[0].state === 'held'; }, { what: 'the order held' });
    assert.equal(p.fee.state, 'due');
    const staff = await bearer(`${srv.url}/api/v1/staff/payments?state=held`, tok.psb);
    assert.equal(staff.status, 200, staff.body);
    assert.ok(staff.json.items.some((o) => o.number === p.orders[0].number && o.state === 'held'));
  });

  test('a held amount is released by a head of the department: too much accepted with the excess refunded, too little returned', async () => {
    const release = (order, decision, who = 'admin') => bearer(`${srv.url}/api/v1/staff/payments/${order}/release`, tok[who],
      { method: 'POST', json: { decision } });
    const held = async (number) => {
      let p;
      await waitFor(async () => { p = (await payment(number)).json; return p.orders[0]?.state === 'held'; }, { what: `the order of ${number} held` });
      return p.orders[0];
    };
    // Too much: accepted, the application moves on, the excess goes back.
    const over = await feeApplication();
    await pay(over, { amount: 2500 });
    const o1 = await held(over);
    assert.equal(o1.paid_fen, 2500);
    assert.equal((await release(o1.number, 'accept', 'psb')).status, 403, 'staff who are not the department head');
    assert.equal((await release(o1.number, 'maybe')).status, 422);
    const a = await release(o1.number, 'accept');
    assert.equal(a.status, 200, a.body);
    assert.equal(a.json.state, 'paid');
    assert.equal(a.json.refund.amount_fen, 500);
    assert.equal((await release(o1.number, 'accept')).status, 409, 'released once');
    let p;
    await waitFor(async () => { p = (await payment(over)).json; return p.refunds.some((f) => f.state === 'succeeded'); }, { what: 'the excess refunded' });
    assert.equal(p.fee.state, 'paid');
    assert.equal(p.orders[0].refunded_fen, 500);
    assert.notEqual((await bearer(`${srv.url}/api/v1/applications/${over}`, tok.a)).json.state, 'awaiting_payment');
    // Too little: it cannot be accepted; returned in full, and the fee is still due.
    const under = await feeApplication();
    await pay(under, { amount: 1500 });
    const o2 = await held(under);
    assert.equal((await release(o2.number, 'accept')).status, 409);
    const r = await release(o2.number, 'return');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.refund.amount_fen, 1500);
    await waitFor(async () => { p = (await payment(under)).json; return p.orders[0].state === 'refunded'; }, { what: 'the payment returned' });
    assert.equal(p.orders[0].refunded_fen, 1500);
    assert.equal(p.fee.state, 'due');
    assert.equal(p.can_pay, true, 'the citizen may pay the right amount now');
    assert.equal((await bearer(`${srv.url}/api/v1/applications/${under}`, tok.a)).json.state, 'awaiting_payment');
  });

  test('a payment arriving after the order closed is refunded automatically and the citizen told', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    // The gateway closes the payment; the hall hears of it (notification or query) and closes the order.
    const c = await sim.call('POST', `/v1/payments/${gwId(s.json.pay_url)}/cancel`, {});
    assert.equal(c.status, 200, c.text);
    await waitFor(async () => ['cancelled', 'expired'].includes((await payment(number)).json.orders[0].state), { what: 'the order closed' });
    // The simulator still takes a late payment (as a real one may, in flight).
    const late = await sim.call('POST', `/sim/payments/${gwId(s.json.pay_url)}/pay`, { late: true });
    assert.equal(late.status, 200, late.text);
    let p;
    await waitFor(async () => {
      p = (await payment(number)).json;
      return p.refunds.some((f) => f.state === 'succeeded');
    }, { what: 'the late payment refunded' });
    assert.equal(p.fee.state, 'due');
    const inbox = await bearer(`${srv.url}/api/v1/me/inbox`, tok.a);
    assert.ok(JSON.stringify(inbox.json).includes(number), inbox.body);
  });

  test('a notification about an order the hall never made is acknowledged and changes nothing', async () => {
    const r = await sim.call('POST', '/sim/notify', { notify_url: `${srv.url}/api/v1/pay/notify`, reference: 'PO-NO-SUCH', amount: 100 });
    assert.equal(r.status < 300, true, r.text);
    await srv.waitForLog((l) => /PO-NO-SUCH/.test(l.msg ?? ''), { what: 'the unknown order logged' });
  });

  test('gateway down: the citizen is told to retry, the order stays pending, and the query duty resolves it', async () => {
    const number = await feeApplication();
    const s = await startPay(number);
    const gw = gwId(s.json.pay_url);
    await sim.stop();
    try {
      const again = await startPay(number);
      assert.equal(again.status, 200, 'an order the gateway has is paid there'); // its pay_url still stands
      const c = await bearer(`${srv.url}/api/v1/pay/orders/${s.json.order}/check`, tok.a, { method: 'POST', json: {} });
      assert.equal(c.status, 503, c.body);
      assert.match(c.json.detail ?? c.json.message ?? c.body, /\S/);
      assert.equal((await payment(number)).json.orders[0].state, 'pending');
      const number2 = await feeApplication();
      const down = await startPay(number2);
      assert.equal(down.status, 503, down.body);
      assert.equal((await payment(number2)).json.orders[0].state, 'pending');
    } finally {
      await sim.start();
    }
    // Paid while the hall was not listening for it: the duty's query finds it.
    await sim.call('POST', '/sim/faults', { faults: ['bad_signature'] });
    try {
      assert.equal((await sim.call('POST', `/sim/payments/${gw}/pay`, {})).status, 200);
      await paidState(number);
    } finally {
      await sim.call('POST', '/sim/faults', { faults: [] });
    }
  });
});

describe('exemptions by rule', () => {
  /** A citizen ID number (GB 11643) of someone born on birth (YYYYMMDD). */
  const idBornOn = (birth, seq = '123') => {
    const body = `110105${birth}${seq}`;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    return body + '10X98765432'[[...body].reduce((t, c, i) => t + Number(c) * w[i], 0) % 11];
  };
  const assess = async (code, fields) => {
    const item = catalog.services.find((x) => x.code === code);
    const number = await feeApplication(item, { ...demoForm(item), ...fields });
    const p = await payment(number);
    assert.equal(p.status, 200, p.body);
    const app = await bearer(`${srv.url}/api/v1/applications/${number}`, tok.a);
    return { number, fee: p.json.fee, canPay: p.json.can_pay, state: app.json.state };
  };

  test('a rule met by the form waives the fee: nothing to pay and the application goes on; not met: charged', async () => {
    // A recipient of the minimum living allowance (低保) pays nothing for a temporary ID card.
    const low = await assess('psb-0004', { low_income: 'yes' });
    assert.equal(low.fee.state, 'exempt');
    assert.equal(low.fee.amount_fen, 0);
    assert.equal(low.fee.gross_fen, 1000, 'what it would have cost');
    assert.equal(low.fee.exemption, 'low_income');
    assert.equal(low.canPay, false);
    assert.notEqual(low.state, 'awaiting_payment');
    assert.equal((await startPay(low.number)).status, 409, 'nothing is due');
    const paying = await assess('psb-0004', { low_income: 'no' });
    assert.equal(paying.fee.state, 'due');
    assert.equal(paying.fee.amount_fen, 1000);
    assert.equal(paying.fee.exemption, null);
    assert.equal(paying.state, 'awaiting_payment');
    // Two conditions: a will, of someone aged 80 or more (from the ID number's birth date).
    const old = '19400101';
    const will = await assess('jus-0002', { matter: 'will', id_number: idBornOn(old) });
    assert.equal(will.fee.state, 'exempt', JSON.stringify(will.fee));
    assert.equal(will.fee.exemption, 'elderly_will');
    const poa = await assess('jus-0002', { matter: 'poa', id_number: idBornOn(old) });
    assert.equal(poa.fee.state, 'due', 'another matter is charged');
    assert.equal(poa.fee.amount_fen, 20000);
    const young = await assess('jus-0002', { matter: 'will', id_number: idBornOn('19800101') });
    assert.equal(young.fee.state, 'due', 'a younger person is charged');
  });
});

describe('notifications signed with Ed25519', () => {
  let edSim;
  let edHall;
  let edTok;
  before(async () => {
    edSim = await paysim({ sign: 'ed25519' });
    assert.ok(edSim.publicKey, 'the simulator announces its public key');
    edHall = await payHall(edSim, { name: 'pay-ed25519' });
    edTok = (await apiLogin(edHall.url, DEMO.citizen.phone)).token;
  });
  after(async () => {
    await edHall?.stop();
    await edSim?.stop();
  });

  test('the hall believes a payment from the Ed25519 signature, and refuses one signed with any other key', async () => {
    const res = await applyOnline(edHall.url, edTok, ID_CARD, { form: demoForm(ID_CARD) });
    assert.equal(res.status, 201, res.body);
    const number = res.json.number;
    const s = await bearer(`${edHall.url}/api/v1/applications/${number}/payment`, edTok, { method: 'POST', json: {} });
    assert.equal(s.status, 200, s.body);
    // A notification signed with the HMAC secret (a key the hall does not take from this gateway): 400.
    const body = JSON.stringify({ id: 'ev_hmac', type: 'payment.succeeded', payment: { id: gwId(s.json.pay_url), reference: s.json.order, amount: 2000, state: 'success' } });
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', SIM_SECRET).update(`${t}.${body}`).digest('hex');
    const forged = await fetch(`${edHall.url}/api/v1/pay/notify`, { method: 'POST', headers: { 'content-type': 'application/json', 'govpay-signature': `t=${t},v1=${sig}` }, body });
    assert.equal(forged.status, 400);
    const p0 = await bearer(`${edHall.url}/api/v1/applications/${number}/payment`, edTok);
    assert.equal(p0.json.orders[0].state, 'pending');
    // Paid at the gateway: its Ed25519-signed notification is applied.
    assert.equal((await edSim.call('POST', `/sim/payments/${gwId(s.json.pay_url)}/pay`, {})).status, 200);
    let p;
    await waitFor(async () => { p = (await bearer(`${edHall.url}/api/v1/applications/${number}/payment`, edTok)).json; return p.fee.state === 'paid'; },
      { what: 'the Ed25519-signed payment applied' });
    assert.equal(p.orders[0].state, 'paid');
    assert.equal(p.receipts.length, 1);
    assert.ok(edHall.logs().some((l) => /a notification from .* was refused/.test(l.msg ?? '')), 'the forged one logged');
  });
});

describe('refunds', () => {
  const refund = (order, amount, reason = '多收退还', who = 'admin') => bearer(`${srv.url}/api/v1/staff/payments/${order}/refunds`, tok[who],
    { method: 'POST', json: { amount_fen: amount, reason } });

  test('a partial then a full refund, each with its receipt; never more than was paid', async () => {
    const number = await feeApplication();
    const { order } = await pay(number);
    await paidState(number);
    assert.equal((await refund(order, 500, '多收退还', 'psb')).status, 403, 'staff who are not the department head');
    const r1 = await refund(order, 500);
    assert.equal(r1.status, 201, r1.body);
    assert.equal(r1.json.amount_fen, 500);
    let p;
    await waitFor(async () => { p = (await payment(number)).json; return p.orders[0].state === 'partly_refunded'; }, { what: 'partly refunded' });
    assert.equal(p.orders[0].refunded_fen, 500);
    assert.equal((await refund(order, 1501)).status, 409, 'more than is left');
    assert.equal((await refund(order, 0)).status, 422);
    assert.equal((await refund(order, 1500)).status, 201);
    await waitFor(async () => { p = (await payment(number)).json; return p.orders[0].state === 'refunded'; }, { what: 'fully refunded' });
    assert.equal(p.orders[0].refunded_fen, 2000);
    assert.equal(p.receipts.filter((r) => r.kind === 'refund').length, 2);
    assert.equal((await refund(order, 1)).status, 409);
    // Citizens cannot refund.
    const c = await bearer(`${srv.url}/api/v1/staff/payments/${order}/refunds`, tok.a, { method: 'POST', json: { amount_fen: 1, reason: 'x' } });
    assert.equal(c.status, 403);
  });

  test('concurrent refunds never exceed what was paid', async () => {
    const number = await feeApplication();
    const { order } = await pay(number);
    await paidState(number);
    const answers = await Promise.all(Array.from({ length: 8 }, () => refund(order, 700)));
    const ok = answers.filter((a) => a.status === 201).length;
    assert.equal(ok, 2, answers.map((a) => `${a.status} ${a.body}`).join('\n'));
    assert.ok(answers.every((a) => a.status === 201 || a.status === 409));
    let p;
    await waitFor(async () => { p = (await payment(number)).json; return p.refunds.every((f) => f.state === 'succeeded'); }, { what: 'the refunds settled' });
    assert.equal(p.orders[0].refunded_fen, 1400);
    const g = await sim.call('GET', `/v1/payments?reference=${order}`);
    assert.ok(g.status === 200, g.text);
  });
});

describe('reconciliation', () => {
  test('the settlement file against the orders: each planted difference becomes a task, reported and resolved', async () => {
    const number = await feeApplication();
    const { order } = await pay(number);
    await paidState(number);
    // Planted: a payment the gateway settled that the hall never ordered, and an order whose
    // recorded amount no longer matches what was settled.
    const invented = await sim.call('POST', '/sim/notify', { notify_url: `${srv.url}/api/v1/pay/notify`, reference: 'PO-PLANTED', amount: 321 });
    assert.equal(invented.status, 202, invented.text);
    await sql(srv.db, `UPDATE pay_orders SET paid_amount = 1999 WHERE number = '${order}'`);
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10); // China Standard Time
    const keyArgs = sim.publicKey ? ['--pay-notify-public-key', sim.publicKey] : ['--pay-notify-secret', SIM_SECRET];
    const run = await govhall(['pay', 'reconcile', day, '--db', srv.db, '--pay-gateway-url', sim.url, '--pay-api-key', SIM_KEY, ...keyArgs],
      { keyFile: srv.keyFile });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const rep = await bearer(`${srv.url}/api/v1/admin/payments/reconciliation`, tok.admin);
    assert.equal(rep.status, 200, rep.body);
    const diffs = rep.json.differences.filter((d) => d.day === day);
    assert.ok(diffs.some((d) => d.kind === 'amount_differs' && d.order === order && d.hall_fen === 1999 && d.settled_fen === 2000), rep.body);
    assert.ok(diffs.some((d) => d.kind === 'missing_in_hall' && d.ref === invented.json.payment_id && d.settled_fen === 321), rep.body);
    assert.equal(diffs.filter((d) => d.kind !== 'missing_in_hall').length, 1, 'the matching payments are not differences');
    // Again: nothing new.
    const again = await govhall(['pay', 'reconcile', day, '--db', srv.db, '--pay-gateway-url', sim.url, '--pay-api-key', SIM_KEY, ...keyArgs],
      { keyFile: srv.keyFile });
    assert.equal(again.code, 0);
    assert.equal((await bearer(`${srv.url}/api/v1/admin/payments/reconciliation`, tok.admin)).json.differences.filter((d) => d.day === day).length, diffs.length);
    assert.equal((await bearer(`${srv.url}/api/v1/admin/payments/reconciliation`, tok.psb)).status, 403);
    // Resolved with a note, then gone from the open list.
    const d = diffs.find((x) => x.kind === 'amount_differs');
    assert.equal((await bearer(`${srv.url}/api/v1/admin/payments/differences/${d.id}/resolve`, tok.admin, { method: 'POST', json: { note: '' } })).status, 422);
    const res = await bearer(`${srv.url}/api/v1/admin/payments/differences/${d.id}/resolve`, tok.admin, { method: 'POST', json: { note: '已核实' } });
    assert.equal(res.status, 200, res.body);
    assert.equal((await bearer(`${srv.url}/api/v1/admin/payments/differences/${d.id}/resolve`, tok.admin, { method: 'POST', json: { note: '再次' } })).status, 409);
    const open = (await bearer(`${srv.url}/api/v1/admin/payments/reconciliation`, tok.admin)).json.differences;
    assert.ok(!open.some((x) => x.id === d.id));
    // The report exported for finance: every difference, in CSV and in XLSX, for administrators only.
    const admin = await pageLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totpSecret: DEMO.admin.totp });
    const csv = await admin.get('/admin/payments/reconciliation.csv');
    assert.equal(csv.status, 200, csv.body.slice(0, 300));
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment/);
    const rows = csv.body.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    assert.ok(rows.length >= 1 + diffs.length, csv.body);
    assert.ok(rows.some((l) => l.includes(invented.json.payment_id) && l.includes('3.21')), csv.body);
    assert.ok(rows.some((l) => l.includes(order) && l.includes('19.99') && l.includes('20.00')), csv.body);
    const xlsx = await fetch(`${srv.url}/admin/payments/reconciliation.xlsx`, { headers: { cookie: admin.jar.header(), 'x-forwarded-for': admin.ip } });
    assert.equal(xlsx.status, 200);
    assert.match(xlsx.headers.get('content-type'), /spreadsheetml/);
    const bytes = Buffer.from(await xlsx.arrayBuffer());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'a zip (OOXML) file');
    const staffPage = await pageLogin(srv.url, DEMO.staffA.phone, DEMO_PASSWORD, { totpSecret: DEMO.staffA.totp });
    assert.equal((await staffPage.get('/admin/payments/reconciliation.csv')).status, 403);
  });
});

describe('the simulator\'s notification retries', () => {
  test('a notification the hall refused is sent again on the schedule, and the retry is taken', async () => {
    const slow = await paysim({ schedule: '1,2,4,8,16' });
    const hall = await payHall(slow, { name: 'pay-retry' });
    try {
      const citizen = (await apiLogin(hall.url, DEMO.citizen.phone)).token;
      const filed = await applyOnline(hall.url, citizen, ID_CARD);
      assert.equal(filed.status, 201, filed.body);
      const s = await bearer(`${hall.url}/api/v1/applications/${filed.json.number}/payment`, citizen, { method: 'POST', json: {} });
      assert.equal(s.status, 200, s.body);
      const gw = gwId(s.json.pay_url);
      // The hall answers the first attempt with an error: its signature is wrong.
      assert.equal((await slow.call('POST', '/sim/faults', { faults: ['bad_signature'] })).status, 200);
      assert.equal((await slow.call('POST', `/sim/payments/${gw}/pay`, {})).status, 200);
      const event = async () => (await slow.call('GET', `/sim/events?payment_id=${gw}`)).json.events.find((e) => e.type === 'payment.succeeded');
      let e;
      await waitFor(async () => { e = await event(); return e && e.attempts >= 1; }, { what: 'the first attempt' });
      assert.equal(e.last_status, 400, JSON.stringify(e));
      assert.equal(e.delivered, false);
      assert.equal((await slow.call('POST', '/sim/faults', { faults: [] })).status, 200);
      await waitFor(async () => { e = await event(); return e.delivered || e.gave_up; }, { what: 'the retry' });
      assert.equal(e.delivered, true, JSON.stringify(e));
      assert.equal(e.last_status, 200, JSON.stringify(e));
      assert.ok(e.attempts >= 2, JSON.stringify(e));
      assert.ok(hall.logs().some((l) => /a notification from .* was refused/.test(l.msg ?? '')), 'the refused attempt logged');
      const paid = await bearer(`${hall.url}/api/v1/applications/${filed.json.number}/payment`, citizen);
      assert.equal(paid.json.fee.state, 'paid', paid.body);
    } finally {
      await hall.stop();
      await slow.stop();
    }
  });
});

describe('the daily reconciliation duty', () => {
  test('runs by itself: with no settlement delay, a fresh hall reconciles each of the past week\'s days at start', async () => {
    const hall = await payHall(sim, { name: 'pay-duty', extraArgs: ['--pay-settle-delay', '0'] });
    try {
      const admin = (await apiLogin(hall.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
      const cstDay = (back) => new Date(Date.now() + 8 * 3600_000 - back * 86_400_000).toISOString().slice(0, 10);
      const week = [7, 6, 5, 4, 3, 2, 1].map(cstDay);
      let runs = [];
      await waitFor(async () => {
        const r = await bearer(`${hall.url}/api/v1/admin/payments/reconciliation?all=1`, admin);
        assert.equal(r.status, 200, r.body);
        runs = r.json.runs.map((x) => x.day);
        return week.every((d) => runs.includes(d));
      }, { what: 'the duty to reconcile the past week' });
      assert.ok(!runs.includes(cstDay(0)), 'today is not reconciled before it ends');
      assert.equal(new Set(runs).size, runs.length, 'each day once');
    } finally {
      await hall.stop();
    }
  });
});

describe('statistics', () => {
  test('revenue and refunds by department and by item on the supervision tables', async () => {
    const psb = catalog.departments.find((d) => d.code === 'psb');
    const table = async (name) => {
      const res = await fetch(`${srv.url}/api/v1/stats/export?table=${name}&format=csv&lang=en`);
      assert.equal(res.status, 200);
      const lines = (await res.text()).replace(/^\uFEFF/, '').trim().split(/\r?\n/).map((l) => l.split(',').map((c) => c.replace(/^"|"$/g, '')));
      return { head: lines[0], rows: lines.slice(1) };
    };
    const depts = await table('departments');
    const rev = depts.head.indexOf('Fees collected (CNY)');
    const ref = depts.head.indexOf('Refunded (CNY)');
    assert.ok(rev > 0 && ref > 0, depts.head.join(','));
    const row = depts.rows.find((r) => r[0] === psb.name_en);
    assert.ok(row, depts.rows.map((r) => r[0]).join('|'));
    // Every payment of this file was for a CNY 20 ID card of psb (one of CNY 25, accepted with
    // its excess refunded), a CNY 10 driving licence renewal of psb (due after approval) or
    // three copies at CNY 5 of the per-copy test item; refunds were made above.
    assert.ok(Number(row[rev]) >= 30 && (Number(row[rev]) * 100) % 500 === 0, row.join(','));
    assert.ok(Number(row[ref]) > 0, row.join(','));
    const items = await table('items');
    const collected = (code) => Number(items.rows.find((r) => r[0] === code)?.[items.head.indexOf('Fees collected (CNY)')] ?? 0);
    assert.equal(collected(LICENCE.code), 10, 'the licence fee paid after approval');
    assert.equal(collected('psb-9901'), 15, 'three copies of the per-copy item');
    assert.equal(collected(ID_CARD.code) + collected(LICENCE.code) + collected('psb-9901'), Number(row[rev]), 'all of it from these items');
    const other = depts.rows.find((r) => r[0] !== psb.name_en && Number(r[rev]) > 0);
    assert.equal(other, undefined, 'no other department collected anything');
  });
});
