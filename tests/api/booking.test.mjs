// Appointments and queueing (预约 · 取号 · 叫号) through the API, on SQLite and PostgreSQL:
// centres and their slots on working days; hold, confirm, reschedule, cancel, with the free
// places following; what is refused and why (the window of days, times that are not slots,
// the limit per person and item, a hold that expired, changes within two hours of the slot);
// the last place raced for by many people at once (one gets it, the others a clear message);
// no-shows pausing online booking (told why and until when, phone booking still open); the
// reminder of the day before, once; the kiosk's tickets, calling at a counter (booked tickets
// first within their slot), served, missed, transferred, and the hall's screen over
// Server-Sent Events with its limits; and a clean `govhall audit` at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO, DEMO_PASSWORD, apiLogin, applyOnline, bearer, deadline, demoCatalog, freshIp, freshTotp, getJson, htmlText, mapLimit,
  newIdNumber, newPhone, pageLogin, sql, startServer, waitFor, govhall,
} from './helpers.mjs';
import { ALLDAY, bookingDuties, cst, dayNumber, dayString, importCentres, openToday } from './booking-fixtures.mjs';

let srv;
const tok = {};
const RACE = {
  ...ALLDAY, code: 't-race', name_zh: '抢号测试中心', name_en: 'Race test centre', hours: { open: '09:00', close: '17:00' },
  counters: [{ code: 'R1', name_zh: '一号', name_en: 'One', items: ['psb-0001'] }],
};

before(async () => {
  srv = await startServer({ name: 'booking', extraArgs: ['--trust-proxy', 'true', '--stream-max-per-ip', '2'] });
  await importCentres(srv.db, srv.keyFile, [ALLDAY, RACE]);
  for (const [who, acc] of Object.entries({ a: DEMO.citizen, b: DEMO.agent, psb: DEMO.staffA, civ: DEMO.staffB })) {
    tok[who] = (await apiLogin(srv.url, acc.phone)).token;
  }
  tok.admin = (await apiLogin(srv.url, DEMO.admin.phone, DEMO_PASSWORD, { totp: await freshTotp(DEMO.admin.totp) })).token;
});
after(async () => { await srv?.stop(); });

const api = (method, p, token, json, headers) => bearer(`${srv.url}/api/v1${p}`, token, { method, json, headers });

/** Registers a citizen and returns {token, id_number, phone}. */
let people = 0;
async function citizen() {
  const p = { name: `测试${++people}号`, id_number: newIdNumber(700_000 + process.pid % 1000 * 100 + people), phone: newPhone(),
    password: `Booking lantern ${people} river` };
  const reg = await api('POST', '/accounts/individual', null, p);
  assert.equal(reg.status, 202, reg.body);
  return { ...p, token: (await apiLogin(srv.url, p.phone, p.password)).token };
}

async function slots(centre, item, extra = '') {
  const r = await getJson(`${srv.url}/api/v1/centres/${centre}/slots?item=${item}${extra}`);
  assert.equal(r.status, 200, r.body);
  return r.json.days;
}
async function free(centre, item, day, start) {
  const days = await slots(centre, item, `&from=${day}&days=1`);
  return days.find((d) => d.day === day)?.slots.find((s) => s.start === start)?.free;
}
/** The first bookable slot with a free place (the n-th when several are wanted). */
async function firstSlot(centre, item, n = 0) {
  const all = (await slots(centre, item, '&days=5')).flatMap((d) => d.slots.filter((s) => s.free > 0).map((s) => ({ day: d.day, start: s.start })));
  assert.ok(all.length > n, `no free slot of ${item} at ${centre}`);
  return all[n];
}
/**
 * Moves a booking in time behind the application's back (bookings are made a working day
 * ahead; the tests need some today or within the hour), and records the correction in the
 * transparency log as an operator would (govhall ledger correct), so the audit stays clean.
 */
async function plant(ref, set) {
  await sql(srv.db, `UPDATE bookings SET ${set} WHERE ref = '${ref}'`);
  const id = await sql(srv.db, `SELECT id FROM bookings WHERE ref = '${ref}'`);
  const r = await govhall(['ledger', 'correct', `bookings:${id}`, '--reason', '测试：预约时间调整', '--db', srv.db], { keyFile: srv.keyFile });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
}
/** Today's current slot (China time, 30 minutes) for a booking. */
function nowSlot() {
  const now = cst();
  const start = now.minute - (now.minute % 30);
  return `day = ${dayNumber(now.day)}, start_min = ${start}, end_min = ${start + 30}`;
}
async function book(token, body, status = 201, headers) {
  const r = await api('POST', '/bookings', token, body, headers);
  assert.equal(r.status, status, r.body);
  return r.json;
}
async function act(token, ref, action, json, status = 200) {
  const r = await api('POST', `/bookings/${ref}/${action}`, token, json);
  assert.equal(r.status, status, r.body);
  return r.json;
}

describe('centres and slots', () => {
  test('the demo centres, those serving an item, and one with its counters', async () => {
    const all = await getJson(`${srv.url}/api/v1/centres`);
    assert.equal(all.status, 200, all.body);
    assert.ok(all.json.centres.some((c) => c.code === 'qh-main'), all.body);
    const eea = await getJson(`${srv.url}/api/v1/centres?item=eea-0001`);
    assert.deepEqual(eea.json.centres.map((c) => c.code), ['qh-eea']);
    const one = await getJson(`${srv.url}/api/v1/centres/qh-main?lang=en`);
    assert.equal(one.json.name, 'Qinghe Government Service Centre');
    assert.deepEqual(one.json.hours, { open: '09:00', close: '17:00', break: ['12:00', '13:30'] });
    assert.ok(one.json.counters.find((k) => k.code === 'A01').items.includes('psb-0001'));
    assert.equal((await getJson(`${srv.url}/api/v1/centres/nowhere`)).status, 404);
  });

  test('slots lie on working days within the window, in opening hours and outside the break', async () => {
    const days = await slots('qh-main', 'psb-0002', '&days=10');
    assert.equal(days.length, 10);
    const today = dayNumber(cst().day);
    for (const d of days) {
      assert.ok(dayNumber(d.day) > today, `${d.day} is after today`);
      assert.ok(d.weekday >= 1 && d.weekday <= 7);
      const starts = d.slots.map((s) => s.start);
      assert.equal(starts[0], '09:00');
      assert.equal(starts.at(-1), '16:30');
      assert.ok(!starts.some((s) => s >= '12:00' && s < '13:30'), `no slot in the break: ${starts}`);
      assert.ok(d.slots.every((s) => s.free === 4), 'four online places per slot');
    }
    // The calendar decides: a weekend day is there only as an adjusted working day.
    const cal = await bearer(`${srv.url}/api/v1/admin/calendar?year=${days[0].day.slice(0, 4)}`, tok.admin);
    const holidays = new Set(cal.json.days.filter((x) => x.kind === 'holiday').map((x) => x.day));
    const workdays = new Set(cal.json.days.filter((x) => x.kind === 'workday').map((x) => x.day));
    for (const d of days) {
      assert.ok(!holidays.has(d.day), `${d.day} is a holiday`);
      if (d.weekday >= 6) assert.ok(workdays.has(d.day), `${d.day} is a weekend day`);
    }
    // Other channels have their own places.
    const phone = await slots('qh-main', 'psb-0001', '&days=1&channel=phone');
    assert.ok(phone[0].slots.every((s) => s.free === 2));
    assert.equal((await getJson(`${srv.url}/api/v1/centres/qh-main/slots?item=psb-0001&channel=fax`)).status, 400);
    assert.equal((await getJson(`${srv.url}/api/v1/centres/qh-main/slots`)).status, 400);
    assert.equal((await getJson(`${srv.url}/api/v1/centres/qh-main/slots?item=eea-0001`)).status, 404);
  });
});

describe('the guide offers a booking where a centre serves the item', () => {
  test('a served item links to /book; an item no centre serves does not, until an import makes one serve it', async () => {
    const guide = async (code) => {
      const r = await fetch(`${srv.url}/services/${code}`);
      assert.equal(r.status, 200);
      return r.text();
    };
    assert.match(await guide('psb-0002'), /<section class="book-visit"[^]*href="\/book\?item=psb-0002"/);
    assert.doesNotMatch(await guide('psb-0010'), /book-visit|\/book\?item=/);
    await importCentres(srv.db, srv.keyFile, [{ ...ALLDAY, code: 't-guide', name_zh: '指南测试中心', name_en: 'Guide test centre',
      counters: [{ code: 'G1', name_zh: '一号', name_en: 'One', items: ['psb-0010'] }] }]);
    // The import bumps the catalog's generation: the cached guide is dropped within seconds.
    await waitFor(async () => (/href="\/book\?item=psb-0010"/.test(await guide('psb-0010')) ? true : null),
      { what: 'the guide of psb-0010 offering a booking' });
  });
});

describe('a booking from hold to cancel', () => {
  test('hold, confirm, reschedule, cancel: the places follow each step, the history records it', async () => {
    const s1 = await firstSlot('qh-main', 'psb-0002');
    const s2 = await firstSlot('qh-main', 'psb-0002', 3);
    const before1 = await free('qh-main', 'psb-0002', s1.day, s1.start);
    const held = await book(tok.a, { centre: 'qh-main', item: 'psb-0002', day: s1.day, start: s1.start });
    assert.equal(held.state, 'held');
    assert.match(held.ref, /^B[2-9A-HJ-NP-Z]{9}$/);
    assert.ok(held.hold_until, 'a hold says until when');
    assert.equal(held.name, '张*');
    assert.equal(held.phone, '138****0001');
    assert.equal(await free('qh-main', 'psb-0002', s1.day, s1.start), before1 - 1, 'a hold takes the place');

    const booked = await act(tok.a, held.ref, 'confirm');
    assert.equal(booked.state, 'booked');
    assert.equal(booked.hold_until, null);
    assert.equal(booked.can_cancel, true);
    assert.equal((await act(tok.a, held.ref, 'confirm')).state, 'booked', 'confirming again changes nothing');
    const mine = await api('GET', '/bookings', tok.a);
    assert.ok(mine.json.bookings.some((b) => b.ref === held.ref && b.state === 'booked'));
    assert.equal(mine.json.pause, null);
    // Someone else cannot see or change it.
    assert.equal((await api('GET', `/bookings/${held.ref}`, tok.b)).status, 404);
    assert.equal((await api('POST', `/bookings/${held.ref}/cancel`, tok.b)).status, 404);

    const moved = await act(tok.a, held.ref, 'reschedule', { day: s2.day, start: s2.start });
    assert.equal(moved.day, s2.day);
    assert.equal(moved.start, s2.start);
    assert.equal(await free('qh-main', 'psb-0002', s1.day, s1.start), before1, 'the old place is free again');
    const before2 = await free('qh-main', 'psb-0002', s2.day, s2.start);

    const cancelled = await act(tok.a, held.ref, 'cancel');
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(await free('qh-main', 'psb-0002', s2.day, s2.start), before2 + 1, 'a cancellation frees the place');
    const detail = await api('GET', `/bookings/${held.ref}`, tok.a);
    assert.deepEqual(detail.json.history.map((e) => e.action), ['hold', 'confirm', 'reschedule', 'cancel']);
    assert.deepEqual(detail.json.history[2].detail, { from: `${s1.day} ${s1.start}`, to: `${s2.day} ${s2.start}` });
    // The staff of the item's department see it; staff of another do not.
    assert.equal((await api('GET', `/bookings/${held.ref}`, tok.psb)).status, 200);
    assert.equal((await api('GET', `/bookings/${held.ref}`, tok.civ)).status, 404);
    // The person was told in the inbox: booked, moved, cancelled.
    const inbox = await api('GET', '/me/inbox', tok.a);
    assert.equal(inbox.status, 200, inbox.body);
    const kinds = inbox.json.messages.map((m) => m.kind);
    for (const k of ['booking_confirmed', 'booking_rescheduled', 'booking_cancelled']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
  });

  test('what is refused, and why', async () => {
    const s = await firstSlot('qh-main', 'psb-0003');
    const base = { centre: 'qh-main', item: 'psb-0003', day: s.day, start: s.start };
    const today = cst().day;
    const far = dayString(dayNumber(today) + 60);
    const cases = [
      [{ ...base, day: today }, 422, /只能预约/],
      [{ ...base, day: far }, 422, /只能预约/],
      [{ ...base, start: '09:15' }, 422, /时段/],
      [{ ...base, start: '12:30' }, 422, /时段/],
      [{ ...base, start: '9:00' }, 400, null],
      [{ ...base, start: '24:00' }, 400, null],
      [{ ...base, start: '23:60' }, 400, null],
      [{ ...base, day: '2026-02-30' }, 400, null],
      [{ ...base, centre: 'nowhere' }, 404, /服务中心/],
      [{ ...base, item: 'eea-0001' }, 404, /不办理/],
      [{ ...base, extra: 1 }, 400, null],
      [{ centre: 'qh-main', item: 'psb-0003' }, 400, null],
      [{ ...base, application: 'QH20260101000001' }, 422, /办件/],
    ];
    for (const [body, status, re] of cases) {
      const r = await api('POST', '/bookings', tok.a, body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      if (re) assert.match(r.json.error.detail, re);
    }
    // A weekend day that is no working day, when the window has one.
    const cal = await bearer(`${srv.url}/api/v1/admin/calendar?year=${today.slice(0, 4)}`, tok.admin);
    const workdays = new Set(cal.json.days.filter((x) => x.kind === 'workday').map((x) => x.day));
    for (let n = dayNumber(today) + 1; n < dayNumber(today) + 14; n++) {
      const wd = new Date(n * 86_400_000).getUTCDay();
      if ((wd === 0 || wd === 6) && !workdays.has(dayString(n))) {
        const r = await api('POST', '/bookings', tok.a, { ...base, day: dayString(n) });
        assert.equal(r.status, 422, r.body);
        break;
      }
    }
    const notJson = await bearer(`${srv.url}/api/v1/bookings`, tok.a, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(notJson.status, 415);
    assert.equal((await bearer(`${srv.url}/api/v1/bookings`, null, { method: 'POST', json: base })).status, 401);
    // English details for English callers.
    const en = await bearer(`${srv.url}/api/v1/bookings?lang=en`, tok.a, { method: 'POST', json: { ...base, start: '09:15' } });
    assert.match(en.json.error.detail, /Choose one of the centre's times/);
  });

  test('one active booking per person and item; the same Idempotency-Key gives the same booking', async () => {
    const s = await firstSlot('qh-main', 'psb-0004');
    const body = { centre: 'qh-main', item: 'psb-0004', day: s.day, start: s.start };
    const first = await book(tok.b, body, 201, { 'idempotency-key': 'bk-limit-1' });
    const again = await book(tok.b, body, 200, { 'idempotency-key': 'bk-limit-1' });
    assert.equal(again.ref, first.ref);
    const other = await firstSlot('qh-main', 'psb-0004', 2);
    const second = await api('POST', '/bookings', tok.b, { ...body, start: other.start, day: other.day });
    assert.equal(second.status, 409, second.body);
    assert.match(second.json.error.detail, /最多可有 1 个有效预约/);
    // Another item is fine; after a cancellation the item is free to book again.
    const otherItem = await firstSlot('qh-main', 'psb-0006');
    const x = await book(tok.b, { centre: 'qh-main', item: 'psb-0006', day: otherItem.day, start: otherItem.start });
    await act(tok.b, x.ref, 'cancel');
    await act(tok.b, first.ref, 'cancel');
    const third = await book(tok.b, { ...body, start: other.start, day: other.day });
    await act(tok.b, third.ref, 'cancel');
  });

  test('a hold lapses: confirming too late is refused and frees the place; the duty lapses the others', async () => {
    const s = await firstSlot('qh-main', 'psb-0007');
    const before1 = await free('qh-main', 'psb-0007', s.day, s.start);
    const h = await book(tok.a, { centre: 'qh-main', item: 'psb-0007', day: s.day, start: s.start });
    await sql(srv.db, `UPDATE bookings SET hold_until = hold_until - 3600 WHERE ref = '${h.ref}'`);
    const late = await api('POST', `/bookings/${h.ref}/confirm`, tok.a);
    assert.equal(late.status, 409, late.body);
    assert.match(late.json.error.detail, /保留时间已过/);
    assert.equal((await api('GET', `/bookings/${h.ref}`, tok.a)).json.state, 'lapsed');
    assert.equal(await free('qh-main', 'psb-0007', s.day, s.start), before1);
    const h2 = await book(tok.a, { centre: 'qh-main', item: 'psb-0007', day: s.day, start: s.start });
    await sql(srv.db, `UPDATE bookings SET hold_until = hold_until - 3600 WHERE ref = '${h2.ref}'`);
    const pass = await bookingDuties(srv.db, srv.keyFile);
    assert.ok(pass.lapsed >= 1, JSON.stringify(pass));
    assert.equal((await api('GET', `/bookings/${h2.ref}`, tok.a)).json.state, 'lapsed');
    assert.equal(await free('qh-main', 'psb-0007', s.day, s.start), before1);
  });

  test('no cancel or reschedule within two hours of the slot', async () => {
    const s = await firstSlot('qh-main', 'psb-0002');
    const b = await book(tok.b, { centre: 'qh-main', item: 'psb-0002', day: s.day, start: s.start });
    await act(tok.b, b.ref, 'confirm');
    const soon = cst(new Date(Date.now() + 60 * 60_000));
    await plant(b.ref, `day = ${dayNumber(soon.day)}, start_min = ${soon.minute}, end_min = ${soon.minute + 30}`);
    const view = await api('GET', `/bookings/${b.ref}`, tok.b);
    assert.equal(view.json.can_cancel, false);
    assert.equal(view.json.can_reschedule, false);
    const c = await api('POST', `/bookings/${b.ref}/cancel`, tok.b);
    assert.equal(c.status, 409, c.body);
    assert.match(c.json.error.detail, /120 分钟/);
    const s2 = await firstSlot('qh-main', 'psb-0002', 1);
    const m = await api('POST', `/bookings/${b.ref}/reschedule`, tok.b, { day: s2.day, start: s2.start });
    assert.equal(m.status, 409, m.body);
    assert.equal((await api('GET', `/bookings/${b.ref}`, tok.b)).json.state, 'booked');
  });
});

describe('the last place of a slot', () => {
  test('many people racing for the last place: one gets it, the others a clear message', async () => {
    const racers = await mapLimit([1, 2, 3, 4, 5, 6], 3, () => citizen());
    for (let round = 0; round < 3; round++) {
      const s = await firstSlot('t-race', 'psb-0001', round);
      assert.equal(s.day && (await free('t-race', 'psb-0001', s.day, s.start)), 1);
      const answers = await Promise.all(racers.map((p) => api('POST', '/bookings', p.token,
        { centre: 't-race', item: 'psb-0001', day: s.day, start: s.start })));
      const won = answers.filter((r) => r.status === 201);
      const lost = answers.filter((r) => r.status === 409);
      assert.equal(won.length, 1, answers.map((r) => `${r.status} ${r.body}`).join('\n'));
      assert.equal(lost.length, racers.length - 1, answers.map((r) => `${r.status} ${r.body}`).join('\n'));
      for (const r of lost) assert.match(r.json.error.detail, new RegExp(`${s.day} ${s.start} 的最后一个名额刚刚被约走了`));
      assert.equal(await free('t-race', 'psb-0001', s.day, s.start), 0);
      const taken = await sql(srv.db, `SELECT taken FROM booking_slots WHERE centre = 't-race' AND day = ${dayNumber(s.day)} AND start_min = ${Number(s.start.slice(0, 2)) * 60 + Number(s.start.slice(3))} AND channel = 'online'`);
      assert.equal(Number(taken), 1);
      const held = await sql(srv.db, `SELECT COUNT(*) FROM bookings WHERE centre = 't-race' AND day = ${dayNumber(s.day)} AND state = 'held'`);
      assert.equal(Number(held), 1);
      // The winner releases it: the others may then book it.
      const winner = racers[answers.indexOf(won[0])];
      await act(winner.token, won[0].json.ref, 'cancel');
      assert.equal(await free('t-race', 'psb-0001', s.day, s.start), 1);
    }
  });
});

describe('staff booking for a caller', () => {
  test('by phone for a registered citizen of the department\'s item; not another department\'s', async () => {
    const s = await firstSlot('qh-main', 'psb-0003');
    const phoneFree = await free('qh-main', 'psb-0003', s.day, s.start); // online places
    const b = await book(tok.psb, { centre: 'qh-main', item: 'psb-0003', day: s.day, start: s.start, for_id_number: DEMO.citizen.id_number });
    assert.equal(b.channel, 'phone');
    assert.equal(b.via, 'phone');
    assert.equal(b.name, '张*');
    assert.equal(await free('qh-main', 'psb-0003', s.day, s.start), phoneFree, 'the online places are untouched');
    await act(tok.psb, b.ref, 'confirm');
    assert.ok((await api('GET', '/bookings', tok.a)).json.bookings.some((x) => x.ref === b.ref), 'the citizen sees it');
    const other = await api('POST', '/bookings', tok.civ, { centre: 'qh-main', item: 'psb-0003', day: s.day, start: s.start, for_id_number: DEMO.citizen.id_number });
    assert.equal(other.status, 403, other.body);
    const unknown = await api('POST', '/bookings', tok.psb, { centre: 'qh-main', item: 'psb-0003', day: s.day, start: s.start, for_id_number: newIdNumber(999_001) });
    assert.equal(unknown.status, 422, unknown.body);
    await act(tok.psb, b.ref, 'cancel');
  });
});

describe('no-shows pause online booking', () => {
  test('three no-shows in 30 days: paused for 30 days, told why and until when; phone booking stays open', async () => {
    const p = await citizen();
    const items = ['psb-0001', 'psb-0002', 'psb-0003'];
    const refs = [];
    let last = 0;
    for (const item of items) {
      const s = await firstSlot('qh-main', item);
      const b = await book(p.token, { centre: 'qh-main', item, day: s.day, start: s.start });
      await act(p.token, b.ref, 'confirm');
      refs.push(b.ref);
      last = Math.max(last, dayNumber(s.day));
    }
    // The day after the last of them, as the duty sees it.
    const pass = await bookingDuties(srv.db, srv.keyFile, `${dayString(last + 1)}T08:00`);
    assert.ok(pass.missed >= 3 && pass.paused >= 1, JSON.stringify(pass));
    for (const ref of refs) assert.equal((await api('GET', `/bookings/${ref}`, p.token)).json.state, 'missed');
    const mine = await api('GET', '/bookings', p.token);
    assert.ok(mine.json.pause, mine.body);
    assert.equal(mine.json.pause.noshows, 3);
    const expected = dayString(last + 1 + 30);
    assert.ok(mine.json.pause.until.startsWith(expected), `paused until ${mine.json.pause.until}, expected ${expected}`);
    const s = await firstSlot('qh-main', 'psb-0004');
    const refused = await api('POST', '/bookings', p.token, { centre: 'qh-main', item: 'psb-0004', day: s.day, start: s.start });
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.json.error.detail, /3 次预约未到/);
    assert.ok(refused.json.error.detail.includes(mine.json.pause.until), refused.json.error.detail);
    const en = await bearer(`${srv.url}/api/v1/bookings?lang=en`, p.token, { method: 'POST', json: { centre: 'qh-main', item: 'psb-0004', day: s.day, start: s.start } });
    assert.match(en.json.error.detail, /online booking is paused until/);
    const inbox = await api('GET', '/me/inbox', p.token);
    assert.equal(inbox.status, 200, inbox.body);
    assert.ok(inbox.json.messages.some((m) => m.kind === 'booking_paused' && m.body_zh.includes(mine.json.pause.until)), inbox.body);
    // By phone, through a clerk, it still works.
    const byPhone = await book(tok.psb, { centre: 'qh-main', item: 'psb-0004', day: s.day, start: s.start, for_id_number: p.id_number });
    assert.equal(byPhone.channel, 'phone');
    await act(tok.psb, byPhone.ref, 'cancel');
    // Another pass does not pause again.
    assert.equal((await bookingDuties(srv.db, srv.keyFile, `${dayString(last + 1)}T09:00`)).paused, 0);
  });
});

describe('the window of days', () => {
  test('the 30th working day ahead is bookable, the 31st is refused', async () => {
    // The calendar's working days (weekdays but holidays, plus adjusted working weekend days).
    const years = new Map();
    const workday = async (n) => {
      const day = dayString(n), year = day.slice(0, 4);
      if (!years.has(year)) {
        const cal = await bearer(`${srv.url}/api/v1/admin/calendar?year=${year}`, tok.admin);
        assert.equal(cal.status, 200, cal.body);
        years.set(year, new Map(cal.json.days.map((x) => [x.day, x.kind])));
      }
      const kind = years.get(year).get(day), wd = new Date(n * 86_400_000).getUTCDay();
      return kind === 'workday' || (kind !== 'holiday' && wd >= 1 && wd <= 5);
    };
    const ahead = [];
    for (let n = dayNumber(cst().day) + 1; ahead.length < 31; n++) if (await workday(n)) ahead.push(n);
    const days = await slots('qh-main', 'psb-0002', '&days=31');
    assert.equal(days.length, 30, 'thirty working days are offered');
    assert.deepEqual(days.map((d) => d.day), ahead.slice(0, 30).map(dayString), 'the next thirty working days');
    const p = await citizen();
    const last = await book(p.token, { centre: 'qh-main', item: 'psb-0002', day: dayString(ahead[29]), start: '09:00' });
    assert.equal(last.day, dayString(ahead[29]));
    await act(p.token, last.ref, 'cancel');
    const beyond = await api('POST', '/bookings', p.token, { centre: 'qh-main', item: 'psb-0002', day: dayString(ahead[30]), start: '09:00' });
    assert.equal(beyond.status, 422, beyond.body);
    assert.match(beyond.json.error.detail, new RegExp(`只能预约.*${dayString(ahead[29])}`));
  });
});

describe('booking at the kiosk', () => {
  test('a booking made on a kiosk records it (via kiosk); the same form elsewhere is a web one', async () => {
    const p = await citizen();
    const made = {};
    for (const place of ['kiosk', 'web']) {
      const web = await pageLogin(srv.url, p.phone, p.password);
      if (place === 'kiosk') assert.equal((await web.get('/kiosk')).status, 200);
      const item = place === 'kiosk' ? 'psb-0007' : 'psb-0003';
      const s = await firstSlot('qh-main', item);
      const form = await web.get(`/book?item=${item}&centre=qh-main`);
      assert.equal(form.status, 200, form.body.slice(0, 300));
      const r = await web.post('/book', { centre: 'qh-main', item, day: s.day, start: s.start });
      assert.equal(r.status, 303, r.body.slice(0, 300));
      const ref = /\/bookings\/([A-Z0-9]+)/.exec(r.location)?.[1];
      assert.ok(ref, r.location);
      made[place] = (await api('GET', `/bookings/${ref}`, p.token)).json;
      await act(p.token, ref, 'cancel');
    }
    assert.equal(made.kiosk.via, 'kiosk', JSON.stringify(made.kiosk));
    assert.equal(made.kiosk.channel, 'online');
    assert.equal(made.web.via, 'web', JSON.stringify(made.web));
  });
});

describe('a booking is part of "my applications"', () => {
  test('the application page shows its booking, and "my applications" lists the active bookings', async () => {
    const p = await citizen();
    const item = demoCatalog().services.find((s) => s.code === 'psb-0006');
    const filed = await applyOnline(srv.url, p.token, item);
    assert.equal(filed.status, 201, filed.body);
    const number = filed.json.number;
    const s = await firstSlot('qh-main', 'psb-0006');
    const b = await book(p.token, { centre: 'qh-main', item: 'psb-0006', day: s.day, start: s.start, application: number });
    await act(p.token, b.ref, 'confirm');
    // A second booking of another item, made without an application.
    const t = await firstSlot('qh-main', 'psb-0004');
    const other = await book(p.token, { centre: 'qh-main', item: 'psb-0004', day: t.day, start: t.start });
    const web = await pageLogin(srv.url, p.phone, p.password);
    let page = await web.get(`/applications/${number}`);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.ok(page.body.includes(`href="/bookings/${b.ref}"`), 'the application page links its booking');
    assert.ok(htmlText(page.body).includes(`${s.day} ${s.start}`), 'with its time');
    assert.ok(!page.body.includes(other.ref), 'not a booking of another application');
    // Staff of the department see it on the same page.
    const staff = await pageLogin(srv.url, DEMO.staffA.phone);
    assert.ok((await staff.get(`/applications/${number}`)).body.includes(`href="/bookings/${b.ref}"`));
    let mine = await web.get('/applications');
    assert.equal(mine.status, 200);
    for (const ref of [b.ref, other.ref]) assert.ok(mine.body.includes(`href="/bookings/${ref}"`), `"my applications" lists ${ref}`);
    // Cancelled bookings leave both pages; /bookings keeps them as past.
    for (const ref of [b.ref, other.ref]) await act(p.token, ref, 'cancel');
    page = await web.get(`/applications/${number}`);
    assert.ok(!page.body.includes(b.ref), 'a cancelled booking is not shown as the visit to come');
    mine = await web.get('/applications');
    assert.ok(!mine.body.includes(b.ref) && !mine.body.includes(other.ref), 'nor in "my applications"');
    assert.ok(mine.body.includes('href="/bookings"'), 'which links all bookings');
    assert.ok((await web.get('/bookings')).body.includes(b.ref));
  });
});

describe('the reminder of the day before', () => {
  test('goes through the inbox once, the day before the visit, and by the channels each citizen chose', async () => {
    const p = await citizen(), q = await citizen();
    // q wants no SMS for what asks them to act (a visit to make is one); p keeps every channel.
    const off = await api('PUT', '/me/notification-settings', q.token, { topics: { action: { sms: false } } });
    assert.equal(off.status, 200, off.body);
    const s = await firstSlot('qh-main', 'psb-0006');
    const b = await book(p.token, { centre: 'qh-main', item: 'psb-0006', day: s.day, start: s.start });
    const c = await book(q.token, { centre: 'qh-main', item: 'psb-0006', day: s.day, start: s.start });
    for (const [who, ref] of [[p, b.ref], [q, c.ref]]) await act(who.token, ref, 'confirm');
    const eve = `${dayString(dayNumber(s.day) - 1)}T09:00`;
    // The command that runs the duties queues on the channels its settings name, as serve does.
    const channels = ['--notify-sms-url', 'http://127.0.0.1:9/sms', '--notify-webhook-secret', 'booking-secret-0123456789abcdef'];
    const first = await bookingDuties(srv.db, srv.keyFile, eve, channels);
    assert.ok(first.reminded >= 2, JSON.stringify(first));
    const second = await bookingDuties(srv.db, srv.keyFile, eve, channels);
    assert.equal(second.reminded, 0);
    const inbox = await api('GET', '/me/inbox', p.token);
    assert.equal(inbox.status, 200, inbox.body);
    const reminders = inbox.json.messages.filter((m) => m.kind === 'booking_reminder');
    assert.equal(reminders.length, 1, inbox.body);
    assert.ok(reminders[0].body_zh.includes(b.ref) && reminders[0].body_zh.includes(`${s.day} ${s.start}`), reminders[0].body_zh);
    assert.ok(reminders[0].body_en.includes('Reminder'), reminders[0].body_en);
    // The outbox holds one SMS row for p's reminder, naming the message, and none for q's.
    const rows = async (ref) => sql(srv.db, `SELECT o.channel || ':' || o.payload FROM outbox o JOIN inbox i ON i.id = o.inbox_id
      WHERE i.kind = 'booking_reminder' AND i.body_zh LIKE '%${ref}%' ORDER BY o.id`);
    const mine = (await rows(b.ref)).split('\n').filter(Boolean);
    assert.equal(mine.length, 1, mine.join('\n'));
    assert.ok(mine[0].startsWith('sms:'), mine[0]);
    const payload = JSON.parse(mine[0].slice(4));
    assert.equal(payload.kind, 'booking_reminder');
    assert.equal(payload.inbox_id, reminders[0].id);
    assert.ok(payload.body_zh.includes(b.ref), payload.body_zh);
    assert.equal(await rows(c.ref), '', 'q turned SMS off for what asks them to act');
    const theirs = (await api('GET', '/me/inbox', q.token)).json.messages.filter((m) => m.kind === 'booking_reminder');
    assert.equal(theirs.length, 1, 'q still has the reminder in the inbox');
    await act(p.token, b.ref, 'cancel');
    await act(q.token, c.ref, 'cancel');
  });
});

/** Reads a Server-Sent Events stream until pred holds for a "display" event's data. */
async function streamUntil(url, pred, { ip = freshIp(), what = 'an event' } = {}) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { 'x-forwarded-for': ip }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.match(res.headers.get('cache-control'), /no-transform/);
  const reader = res.body.getReader();
  let buf = '';
  try {
    return await deadline((async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (/^event: display$/m.test(block) && data) {
            const state = JSON.parse(data[1]);
            if (pred(state)) return state;
          }
        }
      }
    })(), 30_000, what);
  } finally {
    ac.abort();
  }
}

describe('tickets, calling and the hall\'s screen', () => {
  before(async () => { await openToday(srv.url, tok.admin); });

  /** Retries while the centre answers that it is closed: the calendar change reaches the node. */
  async function untilOpen(fn) {
    return waitFor(async () => {
      const r = await fn();
      if (r.status === 409 && /不取号/.test(r.json?.error?.detail ?? '')) return null;
      return r;
    }, { what: 'the centre open today (the calendar refreshed)' });
  }

  test('walk-in and checked-in tickets; booked first within their slot; served, missed, transferred; the screen follows', async () => {
    const walker = await citizen();
    const w = await untilOpen(() => api('POST', '/centres/t-allday/tickets', walker.token, { item: 'psb-0001' }));
    assert.equal(w.status, 201, w.body);
    assert.match(w.json.number, /^A\d{3}$/);
    assert.equal(w.json.state, 'waiting');
    assert.equal(w.json.name, '测***');
    const again = await api('POST', '/centres/t-allday/tickets', walker.token, { item: 'psb-0001' });
    assert.equal(again.status, 200, 'asking again gives the open ticket');
    assert.equal(again.json.id, w.json.id);

    // A booking of today's current slot (planted: bookings are made a working day ahead),
    // checked in at the kiosk: its ticket goes before the walk-in issued earlier.
    const s = await firstSlot('t-allday', 'psb-0001');
    const b = await book(tok.a, { centre: 't-allday', item: 'psb-0001', day: s.day, start: s.start });
    await act(tok.a, b.ref, 'confirm');
    await plant(b.ref, nowSlot());
    const wrongCentre = await api('POST', '/centres/qh-main/tickets', tok.a, { booking: b.ref });
    assert.equal(wrongCentre.status, 409, wrongCentre.body);
    const y = await api('POST', '/centres/t-allday/tickets', tok.a, { booking: b.ref });
    assert.equal(y.status, 201, y.body);
    assert.match(y.json.number, /^Y\d{3}$/);
    assert.equal(y.json.booking, b.ref);
    assert.equal((await api('POST', '/centres/t-allday/tickets', tok.a, { booking: b.ref })).json.id, y.json.id);
    assert.equal((await api('GET', `/bookings/${b.ref}`, tok.a)).json.state, 'checked_in');
    assert.equal((await api('POST', '/centres/t-allday/tickets', tok.a, { item: 'psb-0001', booking: b.ref })).status, 400);

    // Counters: a clerk of another department may not work them.
    assert.equal((await api('POST', '/centres/t-allday/counters/T1/call', tok.civ)).status, 403);
    assert.equal((await api('POST', '/centres/t-allday/counters/T1/call', tok.a)).status, 403);

    // The screen, live: wait for the call to show there.
    const screen = streamUntil(`${srv.url}/centres/t-allday/display/events`,
      (st) => st.called.some((c) => c.number === y.json.number && c.current), { what: 'the call on the screen' });
    const first = await api('POST', '/centres/t-allday/counters/T1/call', tok.psb);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.json.number, y.json.number, 'the booked ticket first within its slot');
    assert.equal(first.json.counter, 'T1');
    const shown = await screen;
    const row = shown.called.find((c) => c.number === y.json.number);
    assert.equal(row.name, '张*');
    assert.equal(row.counter_name, '测试一号窗口');
    const busy = await api('POST', '/centres/t-allday/counters/T1/call', tok.psb);
    assert.equal(busy.status, 409, busy.body);
    assert.equal((await api('POST', `/tickets/${y.json.id}/served`, tok.psb)).json.state, 'served');
    assert.equal((await api('GET', `/bookings/${b.ref}`, tok.a)).json.state, 'served');

    const second = await api('POST', '/centres/t-allday/counters/T1/call', tok.psb);
    assert.equal(second.json.number, w.json.number);
    const mine = await api('GET', `/tickets/${w.json.id}`, walker.token);
    assert.equal(mine.json.state, 'called');
    assert.equal((await api('GET', `/tickets/${w.json.id}`, tok.b)).status, 404, 'another citizen cannot see it');
    // Transferred to T2: T1 no longer sees it, T2 calls it first.
    const tr = await api('POST', `/tickets/${w.json.id}/transfer`, tok.psb, { counter: 'T2' });
    assert.equal(tr.status, 200, tr.body);
    assert.equal(tr.json.state, 'waiting');
    assert.equal((await api('POST', `/tickets/${w.json.id}/transfer`, tok.psb, { counter: 'T2' })).status, 409);
    assert.equal((await api('POST', '/centres/t-allday/counters/T1/call', tok.psb)).status, 404, 'nobody waits for T1');
    const t2 = await api('POST', '/centres/t-allday/counters/T2/call', tok.psb);
    assert.equal(t2.json.id, w.json.id);
    const recall = await api('POST', `/tickets/${w.json.id}/recall`, tok.psb);
    assert.equal(recall.json.calls, 3);
    const missed = await api('POST', `/tickets/${w.json.id}/missed`, tok.psb);
    assert.equal(missed.json.state, 'missed');
    assert.equal((await api('POST', `/tickets/${w.json.id}/served`, tok.psb)).status, 409, 'a closed ticket stays closed');
    const counter = await api('GET', '/centres/t-allday/counters/T2', tok.psb);
    assert.equal(counter.json.current, null);
    assert.equal(counter.json.waiting, 0);

    const display = await getJson(`${srv.url}/api/v1/centres/t-allday/display`);
    assert.deepEqual(display.json.called.map((c) => c.number).slice(0, 2).sort(), [w.json.number, y.json.number].sort());
    assert.ok(display.json.called.every((c) => !c.current));
    assert.ok(!JSON.stringify(display.json).includes(walker.name), 'the screen shows no full name');
  });

  test('a booked ticket called and missed is a no-show; staff issue numbers for people at the desk', async () => {
    const s = await firstSlot('t-allday', 'psb-0002');
    const b = await book(tok.b, { centre: 't-allday', item: 'psb-0002', day: s.day, start: s.start });
    await act(tok.b, b.ref, 'confirm');
    await plant(b.ref, nowSlot());
    const t = await untilOpen(() => api('POST', '/centres/t-allday/tickets', tok.b, { booking: b.ref }));
    assert.equal(t.status, 201, t.body);
    const desk = await untilOpen(() => api('POST', '/centres/t-allday/tickets', tok.psb, { item: 'psb-0002', name: '王大爷' }));
    assert.equal(desk.status, 201, desk.body);
    assert.equal(desk.json.name, '王**');
    const c = await api('POST', '/centres/t-allday/counters/T1/call', tok.psb);
    assert.equal(c.json.id, t.json.id);
    await api('POST', `/tickets/${t.json.id}/missed`, tok.psb);
    assert.equal((await api('GET', `/bookings/${b.ref}`, tok.b)).json.state, 'missed');
    const d = await api('POST', '/centres/t-allday/counters/T1/call', tok.psb);
    assert.equal(d.json.id, desk.json.id);
    await api('POST', `/tickets/${desk.json.id}/served`, tok.psb);
  });

  test('the supervision page shows visits booked, the share missed and the mean wait', async () => {
    const page = await fetch(`${srv.url}/stats?lang=en`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const card = (label) => {
      const m = new RegExp(`<span class="stats-card-label">${label}</span> <span class="stats-card-value">([^<]*)</span>`).exec(html);
      assert.ok(m, `card ${label}`);
      return m[1];
    };
    assert.ok(Number(card('Visits booked')) >= 2, card('Visits booked'));
    // The tests above attended booked visits and missed one: a share strictly between 0 and 100.
    const missed = /^([0-9.]+)%$/.exec(card('Booked visits missed'));
    assert.ok(missed && Number(missed[1]) > 0 && Number(missed[1]) < 100, card('Booked visits missed'));
    assert.match(card('Mean wait for a call \\(minutes\\)'), /^[0-9]+\.[0-9]$/);
    assert.ok(Number(card('Tickets served at counters')) >= 2);
  });

  test('event streams: a heartbeat-free limit per address, refused with 503 beyond it', async () => {
    const ip = freshIp();
    const url = `${srv.url}/centres/t-allday/display/events`;
    const open = [];
    for (let i = 0; i < 2; i++) {
      const ac = new AbortController();
      const res = await fetch(url, { headers: { 'x-forwarded-for': ip }, signal: ac.signal });
      assert.equal(res.status, 200);
      open.push(ac);
    }
    const third = await fetch(url, { headers: { 'x-forwarded-for': ip } });
    assert.equal(third.status, 503);
    assert.ok(third.headers.get('retry-after'));
    await third.text();
    // Another address is not affected; one closed, the address may open one again.
    const other = new AbortController();
    assert.equal((await fetch(url, { headers: { 'x-forwarded-for': freshIp() }, signal: other.signal })).status, 200);
    other.abort();
    open.pop().abort();
    await waitFor(async () => {
      const ac = new AbortController();
      const res = await fetch(url, { headers: { 'x-forwarded-for': ip }, signal: ac.signal });
      const ok = res.status === 200;
      if (!ok) await res.text();
      ac.abort();
      return ok;
    }, { what: 'the closed stream counted off its address' });
    for (const ac of open) ac.abort();
    const metrics = await fetch(`${srv.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^govhall_http_streams_refused_total [1-9]/m);
    assert.equal((await fetch(`${srv.url}/centres/nowhere/display/events`)).status, 404);
  });

  test('event streams: the state at once, heartbeats while nothing changes, ended at once when the server stops', async () => {
    const other = await startServer({ name: 'booking-stream', extraArgs: ['--stream-heartbeat', '1'] });
    let ended = false;
    try {
      const res = await fetch(`${other.url}/centres/qh-main/display/events`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      assert.match(res.headers.get('cache-control'), /no-transform/);
      assert.equal(res.headers.get('content-encoding'), null);
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let text = '';
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += dec.decode(value, { stream: true });
        }
        ended = true;
      })().catch(() => { ended = true; });
      await waitFor(() => (/^event: display\ndata: \{.*"centre":"qh-main"/m.test(text) ? true : null), { what: 'the first display event' });
      await waitFor(() => (/(^|\n):[^\n]*\n\n/.test(text) ? true : null), { what: 'a heartbeat comment' });
      await deadline(other.stop(), 20_000, 'the server stopping with a stream open');
      await waitFor(() => (ended ? true : null), { what: 'the stream ended by the stop' });
      await reading;
    } finally {
      if (!ended) await other.stop().catch(() => {});
    }
  });
});

describe('the transparency log', () => {
  test('govhall audit is clean after all of it', async () => {
    const r = await govhall(['audit', '--db', srv.db], { keyFile: srv.keyFile });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /, 0 problem\(s\)/);
    assert.ok(Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_refs WHERE tbl = \'bookings\'')) > 0);
    assert.ok(Number(await sql(srv.db, 'SELECT COUNT(*) FROM ledger_refs WHERE tbl = \'booking_tickets\'')) > 0);
  });
});
