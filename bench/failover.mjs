// bench/failover.mjs: the PostgreSQL failover drill of the test suite (tests/failover/drill.mjs)
// against the build in GOVHALL_BIN, for `make bench`: ROUNDS times a primary and a synchronous
// standby, a node on the multi-host URL under CLIENTS concurrent submitting clients, the
// primary stopped at once and the standby promoted. Prints one line per round and a summary
// that bench/run.sh reads:
//   round N recovery_ms R promote_ms P acknowledged A lost L duplicated D strays S audit ok|failed
//   failover rounds N recovery_ms_median R recovery_ms_max M lost L duplicated D strays S audit_failed F
// Settings (environment): BENCH_FAILOVER_ROUNDS=3, BENCH_FAILOVER_CLIENTS=16,
// BENCH_FAILOVER_SUBMISSIONS=200 (acknowledged before the kill, and again after recovery).
if (!process.env.GOVHALL_BIN) {
  console.error('bench/failover.mjs: set GOVHALL_BIN to the govhall binary');
  process.exit(2);
}
const { failoverDrill } = await import('../tests/failover/drill.mjs');

const rounds = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 3);
const clients = Number(process.env.BENCH_FAILOVER_CLIENTS ?? 16);
const submissions = Number(process.env.BENCH_FAILOVER_SUBMISSIONS ?? 200);

const recovery = [];
let lost = 0;
let duplicated = 0;
let strays = 0;
let auditFailed = 0;
for (let i = 1; i <= rounds; i++) {
  const r = await failoverDrill({ clients, before: submissions, after: submissions, threads: 2 });
  recovery.push(r.recoveryMs);
  lost += r.lost.length;
  duplicated += r.duplicates.length;
  strays += r.strays.length;
  auditFailed += r.audit.code !== 0;
  for (const l of [...r.lost, ...r.duplicates, ...r.strays, ...r.unexpected].slice(0, 5)) console.error(`round ${i}: ${l}`);
  console.log(`round ${i} recovery_ms ${r.recoveryMs} promote_ms ${r.promoteMs} acknowledged ${r.acknowledged} `
    + `lost ${r.lost.length} duplicated ${r.duplicates.length} strays ${r.strays.length} `
    + `audit ${r.audit.code === 0 ? 'ok' : 'failed'} answers ${JSON.stringify(r.answers)}`);
}
recovery.sort((a, b) => a - b);
console.log(`failover rounds ${rounds} recovery_ms_median ${recovery[Math.floor(recovery.length / 2)]} `
  + `recovery_ms_max ${recovery[recovery.length - 1]} lost ${lost} duplicated ${duplicated} strays ${strays} `
  + `audit_failed ${auditFailed}`);
