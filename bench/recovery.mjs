// bench/recovery.mjs: whether a forgot-password request takes the same time for a name with an
// account as for a name without one, for `make bench`. Starts the build in GOVHALL_BIN on a fresh
// SQLite database with the SMS gateway stand-in of the API tests, registers ACCOUNTS citizens and
// verifies their numbers (the code each SMS carries), then sends POST /api/v1/auth/recovery one
// request at a time, ACCOUNTS times with the number of a verified account and as many times with
// a number no account has, in a shuffled order (each name once: the per-name limit never
// applies; one X-Forwarded-For address per request: nor does the per-address one), and prints
// the two medians and their difference, the line bench/run.sh reads:
//   recovery known_ms K unknown_ms U difference_ms D requests N non202 E
// Settings (environment): BENCH_RECOVERY_ACCOUNTS=200.
if (!process.env.GOVHALL_BIN) {
  console.error('bench/recovery.mjs: set GOVHALL_BIN to the govhall binary');
  process.exit(2);
}
const {
  apiLogin, bearer, deadline, mapLimit, newIdNumber, smsGateway, startServer,
} = await import('../tests/api/helpers.mjs');

const accounts = Number(process.env.BENCH_RECOVERY_ACCOUNTS ?? 200);
const sms = await smsGateway();
const srv = await startServer({
  name: 'bench_recovery',
  extraArgs: ['--trust-proxy', 'true', '--job-max-wait', '600000', '--notify-sms-url', sms.url,
    '--notify-webhook-secret', 'bench-recovery-secret-0123456789abcdef'],
});

/** Numbers apart from the test suite's: 137 + 8 digits from a per-run base. */
const base = (process.pid * 7919) % 50_000_000;
const number = (i) => `137${String(base + i).padStart(8, '0')}`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

try {
  const known = await mapLimit(Array.from({ length: accounts }, (_, i) => i), 4, async (i) => {
    const p = { name: '计时测试', id_number: newIdNumber(900_000 + base % 1000 * 1000 + i), phone: number(i),
      password: `Timing lantern ${i} ${base} path` };
    const r = await bearer(`${srv.url}/api/v1/accounts/individual`, null, { method: 'POST', json: p });
    if (r.status !== 202) throw new Error(`registration ${i}: ${r.status} ${r.body.slice(0, 200)}`);
    const code = await deadline(sms.code(p.phone), 30_000, `the SMS to ${p.phone}`);
    const t = await apiLogin(srv.url, p.phone, p.password);
    const v = await bearer(`${srv.url}/api/v1/me/phone/verify`, t.token, { method: 'POST', json: { code } });
    if (v.status !== 200 || v.json?.phone_verified !== true) throw new Error(`verification ${i}: ${v.status} ${v.body.slice(0, 200)}`);
    return p.phone;
  });
  const unknown = Array.from({ length: accounts }, (_, i) => number(accounts + i));
  const order = [...known.map((n) => ({ n, known: true })), ...unknown.map((n) => ({ n, known: false }))];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const times = { true: [], false: [] };
  let non202 = 0;
  for (const o of order) {
    const t0 = process.hrtime.bigint();
    const r = await bearer(`${srv.url}/api/v1/auth/recovery`, null, { method: 'POST', json: { login: o.n } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 202) {
      non202++;
      console.error(`${o.known ? 'known' : 'unknown'} ${o.n}: ${r.status} ${r.body.slice(0, 200)}`);
      continue;
    }
    times[o.known].push(ms);
  }
  const k = median(times.true);
  const u = median(times.false);
  console.log(`recovery known_ms ${k.toFixed(3)} unknown_ms ${u.toFixed(3)} difference_ms ${(k - u).toFixed(3)} `
    + `requests ${order.length} non202 ${non202}`);
} finally {
  await srv.stop();
  await sms.close();
}
