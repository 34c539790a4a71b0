// federation-messages.test.mjs: signed messages between halls. A hub and two halls (Qinghe and
// Lanshan) join the federation; Qinghe queues messages to Lanshan in its durable outbox, which
// its duty delivers signed (RFC 9421) in order per subject. Lanshan is stopped across several
// retry rounds (the back-off compressed to a second) and restarted on the same database: every
// message arrives exactly once and in order. A third, counterfeit-capable hall whose key this
// file holds sends messages of its own: tampered, replayed, unsigned, expired, out of order or
// from a sender other than the signer are refused; a sender's retry gets the answer recorded
// the first time. Both sides log request and response hashes to their transparency logs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { freshDb, govhall, initDb, serve, sql, waitFor } from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';
import * as fixtures from './federation-fixtures.mjs';
import { b64url, now, signedHeaders } from './federation-fixtures.mjs';

let hub;
let hubUrl;
let qinghe;
let qingheUrl;
let qingheDb;
let serveQinghe;
let lanshan;
let lanshanUrl;
let lanshanDb;
let lanshanArgs;
let probe; // {privateKey, kid}: the third hall, whose key this file holds
let probeKid;
let sink; // the probe's address: a server that takes connections and never answers
const sinkSockets = new Set();
const sinkTimes = []; // when each connection to the probe's address came (Date.now())


const outbox = fixtures.outboxOf;

/** The inbox of a hall, in (sender, subject, seq) order. */
async function inbox(db, keyFile) {
  const r = await govhall(['federation', 'inbox', '--db', db], { keyFile });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [sender, subject, seq, kind, body] = l.split('\t');
    return { sender, subject, seq: Number(seq), kind, body: JSON.parse(body) };
  });
}

async function send(subject, n) {
  const r = await govhall(['federation', 'send', 'lanshan', '--subject', subject, '--kind', 'note', '--body', JSON.stringify({ n }),
    '--db', qinghe.db, '--fed-client-id', 'qinghe']);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  // The probe's address: a server that takes connections and never answers.
  sink = net.createServer((sock) => { sinkSockets.add(sock); sock.on('close', () => sinkSockets.delete(sock)); sock.on('error', () => {}); });
  sink.connections = 0;
  sink.on('connection', () => { sink.connections++; sinkTimes.push(Date.now()); });
  const sinkPort = await freePort();
  await new Promise((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  ({ hub, hubUrl, qinghe, qingheUrl, qingheDb, serveQinghe, lanshan, lanshanUrl, lanshanDb, lanshanArgs, probe } = await fixtures.federation('fmsg',
    { probeUrl: `http://127.0.0.1:${sinkPort}` }));
  probeKid = probe.kid;
});

after(async () => {
  await Promise.allSettled([hub?.stop(), qinghe?.stop(), lanshan?.stop()]);
  for (const sock of sinkSockets) sock.destroy();
  await new Promise((resolve) => (sink ? sink.close(resolve) : resolve()));
  await Promise.allSettled([lanshanDb?.drop(), qingheDb?.drop()]);
});

describe('the outbox', () => {
  test('a hall down across several retry rounds gets every message once and in order when it returns', async () => {
    await send('case-1', 1);
    await waitFor(async () => (await inbox(lanshanDb.url, lanshanDb.keyFile)).length === 1, { what: 'the first message at Lanshan' });
    let out = await outbox(qinghe.db, qinghe.keyFile);
    assert.deepEqual(out.map((m) => [m.subject, m.seq, m.state]), [['case-1', 1, 'delivered']]);
    // Both sides keep the message's text sealed: neither table holds it readable (a forwarded
    // application's message carries a person's name and ID number).
    for (const [db, table] of [[qinghe.db, 'fed_outbox'], [lanshanDb.url, 'fed_inbox']]) {
      const stored = await sql(db, `SELECT body FROM ${table}`);
      assert.match(stored, /^s1:[A-Za-z0-9_-]+$/, `${table} holds the message sealed`);
      assert.ok(!stored.includes('case-1'), `${table} does not hold the message's text`);
    }

    await lanshan.stop();
    // Two subjects, interleaved: each is ordered on its own.
    for (let n = 2; n <= 4; n++) {
      await send('case-1', n);
      await send('case-2', n);
    }
    // Several rounds of retries fail while Lanshan is down; the later messages of a subject
    // wait behind its first.
    out = await waitFor(async () => {
      const o = await outbox(qinghe.db, qinghe.keyFile);
      return o.filter((m) => m.state === 'waiting' && m.seq === (m.subject === 'case-1' ? 2 : 1)).every((m) => m.attempts >= 3) ? o : null;
    }, { what: 'three failed tries of the head of each subject' });
    assert.equal(out.filter((m) => m.state === 'waiting').length, 6);
    for (const m of out.filter((x) => x.state === 'waiting' && x.seq > (x.subject === 'case-1' ? 2 : 1))) {
      assert.equal(m.attempts, 0, `${m.subject} #${m.seq} is not sent before the one ahead of it`);
    }
    assert.ok(qinghe.stderr.some((l) => l.includes('a message to lanshan waits')), 'the wait is logged');

    lanshan = await serve(lanshanDb.url, { keyFile: lanshanDb.keyFile, extraArgs: lanshanArgs });
    out = await waitFor(async () => {
      const o = await outbox(qinghe.db, qinghe.keyFile);
      return o.every((m) => m.state === 'delivered') ? o : null;
    }, { what: 'every message to be delivered' });
    assert.equal(out.length, 7);

    const got = await inbox(lanshanDb.url, lanshanDb.keyFile);
    const of = (s) => got.filter((m) => m.subject === s);
    assert.deepEqual(of('case-1').map((m) => [m.seq, m.body.body.n]), [[1, 1], [2, 2], [3, 3], [4, 4]]);
    assert.deepEqual(of('case-2').map((m) => [m.seq, m.body.body.n]), [[1, 2], [2, 3], [3, 4]]);
    assert.ok(got.every((m) => m.sender === 'qinghe' && m.body.from === 'qinghe' && m.kind === 'note'));
    assert.equal(got.length, 7, 'nothing twice');
  });

  test('a hall that swallows connections holds up no other hall', async () => {
    // Five subjects for the probe, whose address takes connections and never answers (each
    // try ends at fed-timeout), queued before one message for Lanshan, all while Qinghe is
    // stopped: its first pass after it is served again finds the six at once, however long
    // the queueing took.
    await qinghe.stop();
    for (let n = 1; n <= 5; n++) {
      const r = await govhall(['federation', 'send', 'probe', '--subject', `stuck-${n}`, '--db', qinghe.db, '--fed-client-id', 'qinghe']);
      assert.equal(r.code, 0, r.stderr);
    }
    await send('case-3', 1);
    const inboxLines = () => lanshan.logs().filter((l) => l.path === '/federation/inbox' && l.status === 200);
    const seen = inboxLines().length;
    const served = Date.now();
    qinghe = await serveQinghe();
    await waitFor(async () => (await outbox(qinghe.db, qinghe.keyFile)).some((m) => m.subject === 'case-3' && m.state === 'delivered'),
      { what: 'the message to Lanshan to be delivered' });
    // The probe's tries before Lanshan took its message: Lanshan's log line of the request
    // gives when it came (its time less its duration), whatever the load delayed after it.
    const line = inboxLines()[seen];
    assert.ok(line, 'Lanshan logged the request that delivered the message');
    const came = Date.parse(line.ts) - line.ms;
    const tries = sinkTimes.filter((t) => t >= served && t <= came).length;
    assert.ok(sink.connections >= 1, 'the probe was tried');
    assert.ok(tries < 5, `Lanshan's message waited for ${tries} tries of the probe`);
    const stuck = (await outbox(qinghe.db, qinghe.keyFile)).filter((m) => m.dest === 'probe');
    assert.ok(stuck.every((m) => m.state === 'waiting'));
  });

  test('messages of one subject queued at once by many processes are numbered 1, 2, ... without a gap or a clash', async () => {
    const n = 12;
    const runs = await Promise.all(Array.from({ length: n }, (_, i) => govhall(['federation', 'send', 'probe', '--subject', 'busy',
      '--body', JSON.stringify({ i }), '--db', qinghe.db, '--fed-client-id', 'qinghe'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const seqs = (await outbox(qinghe.db, qinghe.keyFile)).filter((m) => m.subject === 'busy').map((m) => m.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1));
  });

  test('queueing refuses what cannot be a message, with the fix', async () => {
    for (const args of [['lanshan', '--subject', 'has space'], ['Not A Hall', '--subject', 's'], ['lanshan', '--subject', 's', '--body', '[1]']]) {
      const r = await govhall(['federation', 'send', ...args, '--db', qinghe.db, '--fed-client-id', 'qinghe']);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, /message could not be queued|send needs/);
    }
  });

  test('a back-off that is not a list of delays stops the hall from starting, saying what to write', async () => {
    const db = await freshDb('fmsg_retry');
    try {
      await initDb(db.url, { demo: false, keyFile: db.keyFile });
      for (const bad of ['0', '5,abc', '5,,15', '90000', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17']) {
        await assert.rejects(serve(db.url, { keyFile: db.keyFile, extraArgs: ['--fed-hub-url', hubUrl, '--fed-client-id', 'lanshan',
          '--fed-client-secret', 'x', '--fed-retry', bad] }), /fed-retry must/, `fed-retry ${bad}`);
      }
    } finally {
      await db.drop();
    }
  });
});

describe('the inbox', () => {
  const url = () => `${qingheUrl}/federation/inbox`;
  const msg = (seq, extra = {}) => JSON.stringify({ from: 'probe', subject: 'p-1', seq, kind: 'note', body: { seq }, ...extra });
  const post = (body, headers) => fetch(url(), { method: 'POST', body, headers });

  test('tampered, replayed, unsigned, expired, misattributed or out-of-order messages are refused; a retry is answered once', async () => {
    const first = msg(1);
    const idem = b64url(randomBytes(16));
    const h1 = signedHeaders(url(), first, probe.privateKey, probeKid, { created: now() - 2, idem });

    let r = await post(first, { 'content-type': 'application/json' });
    assert.equal(r.status, 401, 'unsigned');
    r = await post(msg(1, { body: { seq: 99 } }), h1);
    assert.equal(r.status, 401, 'tampered body');
    const tampered = msg(1, { kind: 'other' });
    r = await post(tampered, { ...h1, 'content-digest': `sha-256=:${createHash('sha256').update(tampered).digest('base64')}:` });
    assert.equal(r.status, 401, 'tampered body and digest');
    r = await post(first, signedHeaders(url(), first, probe.privateKey, probeKid, { created: now() - 900, expires: now() - 600, idem }));
    assert.equal(r.status, 401, 'expired signature');
    r = await post(first, signedHeaders(url(), first, generateKeyPairSync('ed25519').privateKey, probeKid, { idem }));
    assert.equal(r.status, 401, 'signed by a key the directory does not give the hall');
    r = await post(first, signedHeaders(`${lanshanUrl}/federation/inbox`, first, probe.privateKey, probeKid, { idem }));
    assert.equal(r.status, 401, 'signed for another hall');
    const asLanshan = msg(1, { from: 'lanshan' });
    r = await post(asLanshan, signedHeaders(url(), asLanshan, probe.privateKey, probeKid));
    assert.equal(r.status, 403, 'says it is from a hall other than the signer');
    r = await post(msg(2), signedHeaders(url(), msg(2), probe.privateKey, probeKid));
    assert.equal(r.status, 409, 'the second before the first');
    r = await post('{"from":"probe"}', signedHeaders(url(), '{"from":"probe"}', probe.privateKey, probeKid));
    assert.equal(r.status, 422, 'not a message');
    assert.deepEqual((await inbox(qinghe.db, qinghe.keyFile)).filter((m) => m.sender === 'probe'), [], 'nothing refused was recorded');

    r = await post(first, h1);
    assert.equal(r.status, 200);
    const answer = await r.text();
    assert.equal(JSON.parse(answer).seq, 1);
    r = await post(first, h1);
    assert.equal(r.status, 409, 'the same signed request again is a replay');
    assert.match((await r.json()).error_description, /replay/);
    // The sender's retry (signed again, same idempotency key): the answer of the first time.
    r = await post(first, signedHeaders(url(), first, probe.privateKey, probeKid, { idem }));
    assert.equal(r.status, 200);
    assert.equal(await r.text(), answer);
    r = await post(msg(1, { body: { other: true } }), signedHeaders(url(), msg(1, { body: { other: true } }), probe.privateKey, probeKid, { idem }));
    assert.equal(r.status, 422, 'the same idempotency key with another message');
    r = await post(msg(1, { body: { again: true } }), signedHeaders(url(), msg(1, { body: { again: true } }), probe.privateKey, probeKid));
    assert.equal(r.status, 409, 'a sequence number taken');
    r = await post(msg(2), signedHeaders(url(), msg(2), probe.privateKey, probeKid));
    assert.equal(r.status, 200, 'the second after the first');

    const got = (await inbox(qinghe.db, qinghe.keyFile)).filter((m) => m.sender === 'probe');
    assert.deepEqual(got.map((m) => [m.subject, m.seq, m.body.body.seq]), [['p-1', 1, 1], ['p-1', 2, 2]]);
  });

  test('both sides log request and response hashes: their audits pass, and every alteration is found', async () => {
    const audit = (db, keyFile) => govhall(['audit', '--db', db], { keyFile });
    for (const [db, keyFile] of [[qinghe.db, qinghe.keyFile], [lanshanDb.url, lanshanDb.keyFile]]) {
      const r = await audit(db, keyFile);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    }
    const n = await sql(lanshanDb.url, 'SELECT count(*) FROM fed_inbox WHERE response_hash IS NOT NULL');
    assert.equal(Number(n), 8);

    // Each covered column of a received message altered, then restored; the row deleted and
    // put back; a row inserted behind the application.
    const { url: db, keyFile } = lanshanDb;
    const key = "sender = 'qinghe' AND subject = 'case-1' AND seq = 2";
    const expectCaught = async (what) => {
      const r = await audit(db, keyFile);
      assert.notEqual(r.code, 0, `${what} is found`);
      assert.match(`${r.stdout}${r.stderr}`, /fed_inbox/, what);
    };
    const expectClean = async (what) => {
      const r = await audit(db, keyFile);
      assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}`);
    };
    const [idem] = (await sql(db, `SELECT idem_key FROM fed_inbox WHERE ${key}`)).split('\n');
    const row = `sender = 'qinghe' AND idem_key = '${idem}'`;
    for (const [col, changed] of [['subject', "'case-9'"], ['seq', '1000'], ['kind', "'other'"], ['request_hash', `'${'1'.repeat(64)}'`],
      ['response_hash', `'${'0'.repeat(64)}'`], ['received_at', 'received_at + 1']]) {
      const was = (await sql(db, `SELECT ${col} FROM fed_inbox WHERE ${row}`)).trim();
      await sql(db, `UPDATE fed_inbox SET ${col} = ${changed} WHERE ${row}`);
      await expectCaught(`fed_inbox.${col} altered`);
      await sql(db, `UPDATE fed_inbox SET ${col} = ${/^\d+$/.test(was) ? was : `'${was}'`} WHERE ${row}`);
      await expectClean(`fed_inbox.${col} restored`);
    }
    const cols = 'sender, idem_key, subject, seq, kind, body, request_hash, signature_hash, response, response_hash, received_at';
    await sql(db, `CREATE TABLE fed_inbox_kept AS SELECT ${cols} FROM fed_inbox WHERE ${row}`);
    await sql(db, `DELETE FROM fed_inbox WHERE ${row}`);
    await expectCaught('a received message deleted');
    await sql(db, `INSERT INTO fed_inbox (${cols}) SELECT ${cols} FROM fed_inbox_kept`);
    await expectClean('the message put back');
    await sql(db, `INSERT INTO fed_inbox (${cols}) SELECT sender, 'planted', subject, 99, kind, body, request_hash, 'x', response, `
      + `response_hash, received_at FROM fed_inbox_kept`);
    await expectCaught('a message inserted behind the application');
    await sql(db, "DELETE FROM fed_inbox WHERE idem_key = 'planted'");
    await sql(db, 'DROP TABLE fed_inbox_kept');
    await expectClean('the planted message removed');

    // The sender's side: the answer's hash it recorded.
    await sql(qinghe.db, `UPDATE fed_outbox SET response_hash = '${'0'.repeat(64)}' WHERE seq = 3 AND subject = 'case-2'`);
    const bad = await audit(qinghe.db, qinghe.keyFile);
    assert.notEqual(bad.code, 0);
    assert.match(`${bad.stdout}${bad.stderr}`, /fed_outbox/);
  });
});
