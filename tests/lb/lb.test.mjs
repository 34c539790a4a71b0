// lb.test.mjs: the shipped load balancers (deploy/haproxy.cfg, deploy/nginx.conf) in front of two
// govhall nodes on one PostgreSQL database, as an operator runs them (PostgreSQL only):
//  - the client's address: through HAProxy from the PROXY v2 header, through nginx from the
//    X-Forwarded-For it sets; the nodes' per-address log-in throttle counts the real client, a
//    client's own X-Forwarded-For changes nothing, and a node believes no X-Forwarded-For from
//    anyone but the balancer;
//  - limits that fit the descriptors (HAProxy's maxconn within its ulimit-n, nginx's workers
//    allowed twice worker_connections);
//  - a node killed under load: no acknowledged submission lost, fewer than 1% of requests failed
//    (counted, not timed), the node taken out and, restarted, taken back;
//  - retries and redispatch: beside a node that dies on every request, every GET succeeds on
//    the other node, and no POST is carried out twice (nginx passes none on; HAProxy passes on
//    one the node closed without an answer, which its idempotency key makes count once).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DEMO, DEMO_PASSWORD, backend, freshDb, initDb, serve, sql, tempDir, waitFor,
} from '../api/helpers.mjs';
import { Client, certificate, dyingNode, haproxy, nginx, run } from './balancers.mjs';

const skip = backend !== 'postgres' && 'needs PostgreSQL (GOVHALL_TEST_BACKEND=postgres)';
const ITEM = 'gsa-0001'; // online, no required material: a submission is the write alone
const FORM = { phone: DEMO.citizen.phone, type: 'consult', content: 'Street light out (load balancer test)' };

for (const kind of ['haproxy', 'nginx']) {
  describe(`${kind} in front of two nodes`, { skip, concurrency: 1 }, () => {
    let db;
    let dir;
    let cert;
    let lb;
    const nodes = [];
    // HAProxy speaks the PROXY protocol to the nodes; nginx sets X-Forwarded-For.
    const nodeArgs = kind === 'haproxy' ? ['--trusted-proxies', '127.0.0.1', '--proxy-protocol', 'true']
      : ['--trusted-proxies', '127.0.0.1'];
    // Client addresses of this balancer's tests (127.0.0.0/8 is all loopback).
    const net3 = kind === 'haproxy' ? 21 : 22;
    const at = (n) => `127.0.${net3}.${n}`;
    const startNode = (port) => serve(db.url, {
      keyFile: db.keyFile, extraArgs: [...nodeArgs, '--log-level', 'info', ...(port ? ['--listen', `127.0.0.1:${port}`] : [])],
    });

    before(async () => {
      dir = await tempDir(`govhall-lb-${kind}-`);
      cert = await certificate(dir.path);
      db = await freshDb(`lb_${kind}`);
      await initDb(db.url, { keyFile: db.keyFile });
      nodes.push(await startNode(), await startNode());
      lb = await (kind === 'haproxy' ? haproxy : nginx)(dir.path, nodes.map((n) => n.port), cert);
    });

    after(async () => {
      if (lb) await lb.stop();
      for (const n of nodes) if (n.running) await n.stop();
      if (db) await db.drop();
      if (dir) await dir.remove();
    });

    /** A bearer token of login, through the balancer from address from (a node behind HAProxy
     * takes connections from 127.0.0.1 with a PROXY header only). */
    const token = async (from, login) => {
      const c = new Client(from, { port: lb.port, ca: cert.ca });
      try {
        const r = await c.request('POST', '/api/v1/auth/token', {
          json: { login, password: DEMO_PASSWORD },
        });
        assert.equal(r.status, 201, r.body);
        return r.json.token;
      } finally {
        c.close();
      }
    };

    /** The node's log line of the request whose X-Request-Id was id. */
    const logOf = (id) => waitFor(() => nodes.flatMap((n) => n.logs()).find((l) => l.req === id),
      { what: `the log line of request ${id}`, timeout: 10_000 });

    test('the nodes see the client\'s own address, and the per-address throttle counts it', async () => {
      const a = new Client(at(1), { port: lb.port, ca: cert.ca });
      const b = new Client(at(2), { port: lb.port, ca: cert.ca });
      try {
        // Several requests (both nodes answer some): each logged with the client's address.
        const ips = new Set();
        for (let i = 0; i < 6; i++) {
          const r = await a.request('GET', '/services/gsa-0001', { headers: { 'x-forwarded-for': '203.0.113.9' } });
          assert.equal(r.status, 200);
          ips.add((await logOf(r.headers['x-request-id'])).ip);
        }
        assert.deepEqual([...ips], [at(1)], 'every request logged with the client\'s address, none with the one it claimed');

        // Wrong passwords for one account from one address: 5 free, the 6th starts a pause.
        // Each claims another X-Forwarded-For; the throttle still counts the client.
        const wrong = (i) => a.request('POST', '/api/v1/auth/token', {
          headers: { 'x-forwarded-for': `198.51.100.${i}` },
          json: { login: DEMO.citizen.phone, password: `not-the-password-${i}`, channel: 'app', scopes: 'profile' },
        });
        const statuses = [];
        for (let i = 1; i <= 7; i++) statuses.push((await wrong(i)).status);
        assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429], 'six refusals, then the pause');
        const refused = await wrong(8);
        assert.equal(refused.status, 429);
        assert.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After says how long');
        // The owner, at another address behind the same balancer, is not slowed down.
        const ok = await b.request('POST', '/api/v1/auth/token', {
          json: { login: DEMO.citizen.phone, password: DEMO_PASSWORD, channel: 'app', scopes: 'profile' },
        });
        assert.equal(ok.status, 201, ok.body);
        // The security events name the guesser's address (the one the throttle counted).
        const ips2 = await sql(db.url, `SELECT DISTINCT ip FROM security_events WHERE kind = 'login.fail' ORDER BY ip`);
        assert.equal(ips2, at(1));
      } finally {
        a.close();
        b.close();
      }
    });

    test('a node believes X-Forwarded-For from the balancer only', async () => {
      // Straight to a node from another loopback address: the header is ignored.
      const direct = new Client(at(3), { port: nodes[0].port, tls: false });
      try {
        const r = await direct.request('GET', '/healthz', { headers: { 'x-forwarded-for': '203.0.113.77' } });
        assert.equal(r.status, 200);
        const page = await direct.request('GET', '/services', { headers: { 'x-forwarded-for': '203.0.113.77' } });
        assert.equal((await logOf(page.headers['x-request-id'])).ip, at(3));
        // Nor a PROXY header: from a client that is not a trusted proxy it is a bad request.
        const raw = await new Promise((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: nodes[0].port, localAddress: at(3) });
          let buf = '';
          s.setEncoding('latin1');
          s.on('data', (d) => { buf += d; });
          s.on('close', () => resolve(buf));
          s.on('error', reject);
          s.write('PROXY TCP4 203.0.113.78 127.0.0.1 4000 80\r\nGET /services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        });
        assert.match(raw, /^HTTP\/1\.1 400 /);
      } finally {
        direct.close();
      }
    });

    test('limits fit the descriptors', async () => {
      if (kind === 'haproxy') {
        const info = await lb.info();
        assert.equal(Number(info.Maxconn), lb.maxconn, 'maxconn as configured');
        assert.ok(Number(info['Ulimit-n']) >= Number(info.Maxsock), `ulimit-n ${info['Ulimit-n']} >= maxsock ${info.Maxsock}`);
        assert.ok(Number(info.Maxsock) >= 2 * Number(info.Maxconn), 'two descriptors per connection');
        // The shipped maxconn where the system grants fewer descriptors than it needs: HAProxy
        // refuses to start (strict-limits) instead of failing connections under load.
        const shippedMax = Number(/^\s*maxconn (\d+)$/m.exec(lb.shippedCfg)[1]);
        const cfgPath = path.join(dir.path, 'haproxy-strict.cfg');
        writeFileSync(cfgPath, lb.cfg.replace(/^ {4}maxconn \d+$/m, `    maxconn ${shippedMax}`)
          .replace(/^\s*stats socket .*$/m, ''));
        const r = await run('prlimit', [`--nofile=${shippedMax}:${shippedMax}`, 'haproxy', '-db', '-f', cfgPath]);
        assert.notEqual(r.code, 0, 'HAProxy refused to start');
        assert.match(r.stdout + r.stderr, /Cannot raise FD limit/);
      } else {
        // The shipped file leaves each worker two descriptors per connection.
        const shippedWc = Number(/worker_connections (\d+);/.exec(lb.shippedCfg)[1]);
        const shippedNofile = Number(/worker_rlimit_nofile (\d+);/.exec(lb.shippedCfg)[1]);
        assert.ok(shippedNofile >= 2 * shippedWc, `worker_rlimit_nofile ${shippedNofile} >= 2 x ${shippedWc}`);
        const wc = Number(/worker_connections (\d+);/.exec(lb.cfg)[1]);
        const workers = await lb.workers();
        assert.ok(workers.length >= 1);
        for (const pid of workers) {
          const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
          const soft = Number(/Max open files\s+(\d+)/.exec(limits)[1]);
          assert.ok(soft >= 2 * wc, `worker ${pid}: ${soft} descriptors for ${wc} connections (two each)`);
        }
        assert.doesNotMatch(lb.output(), /worker_connections exceed open file resource limit|setrlimit\(RLIMIT_NOFILE/);
      }
      // The plain-HTTP port only sends clients to HTTPS.
      const plain = new Client(at(4), { port: lb.port80, tls: false });
      try {
        const r = await plain.request('GET', '/services?x=1', { headers: { host: 'hall.example.gov.cn' } });
        assert.equal(r.status, 301);
        assert.equal(r.headers.location, 'https://hall.example.gov.cn/services?x=1');
      } finally {
        plain.close();
      }
    });

    test('a node killed under load: nothing acknowledged is lost, fewer than 1% of requests fail', { timeout: 240_000 }, async () => {
      const auth = { authorization: `Bearer ${await token(at(30), DEMO.citizen.phone)}` };
      const clients = Array.from({ length: 8 }, (_, i) => new Client(at(40 + i), { port: lb.port, ca: cert.ca }));
      const counts = { requests: 0, failed: 0 };
      const failures = [];
      const acked = new Map(); // idempotency key -> number
      let stopping = false;
      const one = async (c, method, p, opts) => {
        counts.requests++;
        try {
          const r = await c.request(method, p, opts);
          if (r.status >= 200 && r.status < 400) return r;
          failures.push(`${method} ${p}: ${r.status} ${r.body.slice(0, 120)}`);
        } catch (e) {
          failures.push(`${method} ${p}: ${e.message}`);
        }
        counts.failed++;
        return null;
      };
      const work = async (c, ci) => {
        for (let i = 0; !stopping; i++) {
          await one(c, 'GET', '/services/gsa-0001');
          await one(c, 'GET', '/api/v1/services/gsa-0001');
          await one(c, 'GET', '/api/v1/applications', { headers: auth });
          // A submission, repeated with its key until acknowledged (as an app does).
          const key = `lb-${kind}-${ci}-${i}`;
          for (let tries = 0; tries < 5 && !acked.has(key); tries++) {
            const r = await one(c, 'POST', `/api/v1/services/${ITEM}/applications`, {
              headers: auth, json: { form: FORM, materials: [], submit: true, idempotency_key: key },
            });
            if (r?.status === 201) acked.set(key, r.json.number);
          }
        }
      };
      const load = Promise.all(clients.map(work));
      try {
        await waitFor(() => counts.requests >= 300, { what: '300 requests', timeout: 120_000 });
        // The first node dies (as a crash: no goodbye to the balancer).
        const victim = nodes[0];
        const port = victim.port;
        victim.proc.kill('SIGKILL');
        await victim.exited;
        const atKill = counts.requests;
        await waitFor(() => counts.requests >= atKill + 700, { what: '700 more requests', timeout: 180_000 });
        if (kind === 'haproxy') {
          await waitFor(async () => (await lb.servers()).n1?.startsWith('DOWN'), { what: 'HAProxy to take n1 out' });
        }
        // Back on its port: the balancer sends it requests again.
        nodes[0] = await startNode(port);
        const seen = nodes[0].logs().length;
        if (kind === 'haproxy') {
          await waitFor(async () => (await lb.servers()).n1 === 'UP', { what: 'HAProxy to take n1 back' });
        }
        await waitFor(() => nodes[0].logs().slice(seen).some((l) => l.route === 'cases.api_apply' || l.route === 'catalog.item'),
          { what: 'requests on the restarted node', timeout: 60_000 });
      } finally {
        stopping = true;
        await load;
        clients.forEach((c) => c.close());
      }
      const share = counts.failed / counts.requests;
      assert.ok(share < 0.01, `${counts.failed} of ${counts.requests} requests failed: ${failures.slice(0, 10).join('; ')}`);
      // Every acknowledged submission is stored, under the number it was acknowledged with.
      const rows = await sql(db.url, `SELECT idempotency_key || '=' || number FROM applications WHERE idempotency_key LIKE 'lb-${kind}-%'`);
      const stored = new Map(rows.split('\n').filter(Boolean).map((l) => l.split('=')));
      const lost = [...acked].filter(([k, n]) => stored.get(k) !== n);
      assert.deepEqual(lost, [], 'no acknowledged submission lost');
      assert.ok(acked.size >= 50, `${acked.size} submissions acknowledged`);
    });

    test('retries and redispatch: every GET answered, no POST carried out twice', async () => {
      const dying = await dyingNode();
      const live = nodes[1];
      const lb2 = await (kind === 'haproxy' ? haproxy : nginx)(dir.path, [live.port, dying.port], cert);
      const c = new Client(at(60), { port: lb2.port, ca: cert.ca });
      try {
        const agent = await token(at(31), DEMO.agent.phone);
        // POSTs until one reaches the dying node, which reads it and closes without an answer.
        const answers = [];
        await waitFor(async () => {
          const key = `retry-${kind}-${answers.length}`;
          const r = await c.request('POST', `/api/v1/services/${ITEM}/applications`, {
            headers: { authorization: `Bearer ${agent}` },
            json: { form: { ...FORM, phone: DEMO.agent.phone }, materials: [], submit: true, idempotency_key: key },
          });
          answers.push({ key, status: r.status, number: r.json?.number });
          return dying.seen.some((s) => s.method === 'POST');
        }, { what: 'a POST to reach the dying node', timeout: 60_000 });
        const reached = dying.seen.filter((s) => s.method === 'POST').map((s) => JSON.parse(s.body).idempotency_key);
        // Each POST is carried out at most once: acknowledged ones stored once under the number
        // answered, failed ones nowhere.
        for (const x of answers) {
          const stored = await sql(db.url, `SELECT number FROM applications WHERE idempotency_key = '${x.key}'`);
          if (x.status === 201) assert.equal(stored, x.number, `${x.key}: stored once as acknowledged`);
          else assert.equal(stored, '', `${x.key} (${x.status}) carried out nowhere`);
        }
        if (kind === 'nginx') {
          // nginx passes on no POST that reached a node (proxy_next_upstream without non_idempotent).
          for (const k of reached) assert.equal(answers.find((x) => x.key === k).status, 502, `${k} not passed on`);
        } else {
          // HAProxy 2.6 sends a request again when the node closed its fresh connection without
          // a byte of answer, whatever the method (a connection failure to it; disable-l7-retry
          // does not apply): the submission's idempotency key makes it count once.
          for (const k of reached) assert.ok([201, 502, 503].includes(answers.find((x) => x.key === k).status));
        }
        // GETs: those that reach the dying node are tried again on the live one, and succeed.
        const gets = [];
        await waitFor(async () => {
          const r = await c.request('GET', '/api/v1/services/gsa-0001');
          gets.push(r.status);
          return dying.seen.some((s) => s.method === 'GET');
        }, { what: 'a GET to reach the dying node', timeout: 60_000 });
        for (let i = 0; i < 10; i++) gets.push((await c.request('GET', '/services/gsa-0001')).status);
        assert.deepEqual([...new Set(gets)], [200], 'every GET answered');
      } finally {
        c.close();
        await lb2.stop();
        await dying.close();
      }
    });
  });
}
