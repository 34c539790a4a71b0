// booking-fixtures.mjs: what the appointment tests share (API, audit, browser, bench): a test
// centre open around the clock, its import, today as a working day, and China Standard Time.
import assert from 'node:assert/strict';
import { bearer, govhall, tempDir, writeJsonFile } from './helpers.mjs';

/** A centre open 00:00-24:00 on working days, one place per slot and channel, two counters. */
export const ALLDAY = {
  code: 't-allday', name_zh: '全天测试中心', name_en: 'All-day test centre', address_zh: '清河市测试路 1 号',
  address_en: '1 Test Road, Qinghe', phone: '0000-99999', hours: { open: '00:00', close: '24:00' }, slot_minutes: 30,
  capacity: { online: 1, phone: 1, counter: 1 },
  counters: [
    { code: 'T1', name_zh: '测试一号窗口', name_en: 'Test counter 1', items: ['psb-0001', 'psb-0002', 'psb-0003'] },
    { code: 'T2', name_zh: '测试二号窗口', name_en: 'Test counter 2', items: ['psb-0001'] },
  ],
};

/** Imports centres into the database of a running or stopped hall (govhall booking import). */
export async function importCentres(dbUrl, keyFile, centres) {
  const dir = await tempDir('govhall-centres-');
  try {
    const file = await writeJsonFile(dir.path, 'centres.json', { centres });
    const r = await govhall(['booking', 'import', file, '--db', dbUrl], { keyFile });
    assert.equal(r.code, 0, `govhall booking import: ${r.stdout}\n${r.stderr}`);
  } finally {
    await dir.remove();
  }
}

/** One pass of the booking duties as at moment (a Date or "YYYY-MM-DDTHH:MM" China time). */
export async function bookingDuties(dbUrl, keyFile, at, extraArgs = []) {
  const args = ['booking', 'duties'];
  if (at) args.push(typeof at === 'string' ? at : cstMoment(at));
  const r = await govhall([...args, '--db', dbUrl, ...extraArgs], { keyFile });
  assert.equal(r.code, 0, `govhall booking duties: ${r.stdout}\n${r.stderr}`);
  const m = /(\d+) hold\(s\) lapsed, (\d+) no-show\(s\), (\d+) paused, (\d+) reminder\(s\), (\d+) ticket\(s\) expired/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return { lapsed: +m[1], missed: +m[2], paused: +m[3], reminded: +m[4], expired: +m[5] };
}

/** The China Standard Time date (YYYY-MM-DD) and minute of the day of t. */
export function cst(t = new Date()) {
  const s = new Date(t.getTime() + 8 * 3600_000).toISOString();
  return { day: s.slice(0, 10), minute: Number(s.slice(11, 13)) * 60 + Number(s.slice(14, 16)), weekday: new Date(`${s.slice(0, 10)}T00:00:00Z`).getUTCDay() };
}
export function cstMoment(t) {
  const s = new Date(t.getTime() + 8 * 3600_000).toISOString();
  return `${s.slice(0, 10)}T${s.slice(11, 16)}`;
}
/** Day numbers (days since 1970-01-01) as the database stores them, and back. */
export const dayNumber = (ymd) => Math.round(Date.parse(`${ymd}T00:00:00Z`) / 86_400_000);
export const dayString = (n) => new Date(n * 86_400_000).toISOString().slice(0, 10);

/**
 * Makes today (China time) a working day of the hall's calendar through the administrators'
 * API when it is not (a holiday removed, a weekend day listed as an adjusted working day).
 * Every node picks the change up within seconds: wait for it with untilOpen.
 */
export async function openToday(base, adminToken) {
  const { day, weekday } = cst();
  const year = day.slice(0, 4);
  const list = await bearer(`${base}/api/v1/admin/calendar?year=${year}`, adminToken);
  assert.equal(list.status, 200, list.body);
  const listed = list.json.days.find((d) => d.day === day);
  if (listed?.kind === 'holiday') {
    const del = await bearer(`${base}/api/v1/admin/calendar/${day}`, adminToken, { method: 'DELETE' });
    assert.equal(del.status, 200, del.body);
  }
  if ((weekday === 0 || weekday === 6) && listed?.kind !== 'workday') {
    const add = await bearer(`${base}/api/v1/admin/calendar`, adminToken, { method: 'POST', json: { day, kind: 'workday', note: '测试' } });
    assert.equal(add.status, 201, add.body);
  }
}
