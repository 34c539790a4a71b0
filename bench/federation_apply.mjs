// Forwarded applications per second between two halls (跨省通办; make bench). A hub and two
// halls, Qinghe and Lanshan, each on its own SQLite database; a citizen of Qinghe files N
// applications for a Lanshan item (consent, form, one PDF each) through 16 concurrent clients.
// The figure is N over the time from the first request until Lanshan has filed every one of them
// and Qinghe holds Lanshan's answer for each (the forward through Qinghe's outbox, Lanshan's
// inbox filing a real application with its file, the state message back through Lanshan's outbox,
// Qinghe's inbox recording it): every one must end filed, or the run fails. Beside it, the
// ceiling: N local submissions of the same item at Lanshan through its API by the same number
// of clients, and the ratio of the two.
//
// Environment: GOVHALL_BIN, BENCH_FED_N (default 400), BENCH_FED_CONNS (default 16).
import {
  DEMO, apiLogin, applyOnline, bearer, demoCatalog, demoForm, demoMaterials, getJson, mapLimit, sql, startServer,
  waitFor,
} from '../tests/api/helpers.mjs';
import { freePort } from '../tests/api/pay-fixtures.mjs';
import { addClient, hallArgs, joinHall } from '../tests/api/federation-fixtures.mjs';

const N = Number(process.env.BENCH_FED_N ?? 400);
const CONNS = Number(process.env.BENCH_FED_CONNS ?? 16);
const item = demoCatalog().services.find((s) => s.code === 'psb-0001');

const servers = [];
try {
  const hubPort = await freePort();
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  const hub = await startServer({ name: 'bench_fed_hub', demo: false, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', hubUrl, '--role', 'hub'] });
  servers.push(hub);
  const halls = {};
  for (const id of ['qinghe', 'lanshan']) {
    const secret = await addClient(hub.db, id);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const srv = await startServer({ name: `bench_fed_${id}`, extraArgs: hallArgs(hubUrl, port, url, id, secret) });
    servers.push(srv);
    await joinHall({ url: hubUrl, db: hub.db }, srv.db, srv.keyFile, id, id, url);
    halls[id] = srv;
  }
  for (const h of Object.values(halls)) {
    await waitFor(async () => {
      const d = await getJson(`${h.url}/federation/directory`);
      return d.status === 200 && d.json.halls.length === 2;
    }, { what: 'both halls in the directory' });
  }
  const { qinghe, lanshan } = halls;
  const tq = (await apiLogin(qinghe.url, DEMO.citizen.phone)).token;
  const tl = (await apiLogin(lanshan.url, DEMO.citizen.phone)).token;
  // The files are uploaded first, at each hall: the figures are of the applications alone.
  const qm = await mapLimit(Array.from({ length: N }, (_, i) => i), 8, () => demoMaterials(qinghe.url, tq, item));
  const lm = await mapLimit(Array.from({ length: N }, (_, i) => i), 8, () => demoMaterials(lanshan.url, tl, item));

  const t0 = process.hrtime.bigint();
  await mapLimit(qm, CONNS, async (materials) => {
    const r = await bearer(`${qinghe.url}/api/v1/federation/applications`, tq, { method: 'POST',
      json: { hall: 'lanshan', item_code: item.code, form: demoForm(item), materials, consent: true } });
    if (r.status !== 201) throw new Error(`forward: ${r.status} ${r.body}`);
  });
  await waitFor(async () => Number((await sql(qinghe.db, 'SELECT count(*) FROM fed_forwarded WHERE remote_number IS NOT NULL')).trim()) === N,
    { what: `all ${N} filed at Lanshan and answered`, timeout: 600_000 });
  const fwd = Number(process.hrtime.bigint() - t0) / 1e9;
  const filed = Number((await sql(lanshan.db, "SELECT count(*) FROM fed_received")).trim());
  if (filed !== N) throw new Error(`Lanshan filed ${filed} of ${N}`);

  const t1 = process.hrtime.bigint();
  await mapLimit(lm, CONNS, async (materials) => {
    const r = await applyOnline(lanshan.url, tl, item, { materials });
    if (r.status !== 201) throw new Error(`apply: ${r.status} ${r.body}`);
  });
  const local = Number(process.hrtime.bigint() - t1) / 1e9;
  const rate = N / fwd;
  const ceiling = N / local;
  console.log(`forwarded applications: ${N} by ${CONNS} clients, filed at the other hall and answered in ${fwd.toFixed(2)} s = `
    + `${rate.toFixed(1)}/s; local submissions ${ceiling.toFixed(1)}/s; ratio ${(rate / ceiling).toFixed(3)}`);
} finally {
  await Promise.allSettled(servers.map((s) => s.stop()));
}
