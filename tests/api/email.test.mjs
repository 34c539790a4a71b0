// Notifications by e-mail: an applicant sets an address on the account page or through the
// API (checked, sealed, shown masked); every state change of their application is then
// e-mailed through the configured SMTP server (a small SMTP receiver here), as a UTF-8
// message with the Chinese text and the English one; removing the address stops it; the
// address never appears in the server log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  DEMO, actOn, apiLogin, applyOnline, bearer, csrfOf, deadline, demoCatalog, htmlText, pageLogin, sql, startServer,
} from './helpers.mjs';

/** An SMTP receiver that accepts everything and keeps each message with its envelope. */
function smtpSink() {
  const messages = [];
  const waiters = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let data = null;
    let env = { from: null, to: [] };
    sock.write('220 sink.test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          data += buf.slice(0, end + 2);
          buf = buf.slice(end + 5);
          const msg = { ...env, raw: Buffer.from(data, 'latin1').toString('utf8') };
          messages.push(msg);
          for (const w of waiters.splice(0)) w();
          data = null;
          env = { from: null, to: [] };
          sock.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') sock.write('250-sink.test\r\n250 8BITMIME\r\n');
        else if (cmd === 'HELO') sock.write('250 sink.test\r\n');
        else if (cmd === 'MAIL') { env.from = line.slice(10).trim(); sock.write('250 2.1.0 ok\r\n'); }
        else if (cmd === 'RCPT') { env.to.push(line.slice(8).trim()); sock.write('250 2.1.5 ok\r\n'); }
        else if (cmd === 'DATA') { data = ''; sock.write('354 go ahead\r\n'); }
        else if (cmd === 'QUIT') { sock.end('221 bye\r\n'); return; }
        else if (cmd === 'RSET' || cmd === 'NOOP') sock.write('250 ok\r\n');
        else sock.write('502 not implemented\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return {
    messages,
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port))),
    close: () => new Promise((resolve) => server.close(resolve)),
    /** Resolves the first message (in arrival order) for which pred holds, as it arrives. */
    async waitFor(pred, timeout = 60_000) {
      for (;;) {
        const m = messages.find(pred);
        if (m) return m;
        const next = new Promise((r) => { waiters.push(r); });
        await deadline(next, timeout, `such an e-mail (${messages.length} received)`);
      }
    },
  };
}

/** Headers (lower-cased names, unfolded) and the decoded body of a raw message. */
function parse(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = {};
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = Buffer.from(rest.join('\r\n\r\n').replace(/\s+/g, ''), 'base64').toString('utf8');
  const subject = headers.subject.replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/g, (_, b) => Buffer.from(b, 'base64').toString('latin1'));
  return { headers, body, subject: Buffer.from(subject, 'latin1').toString('utf8') };
}

const ADDRESS = 'Zhang.San@Example.COM';
const STORED = 'Zhang.San@example.com'; // the domain is lower-cased, the local part kept
const sink = smtpSink();
let srv;
let tok;
let staff;

before(async () => {
  const port = await sink.listen();
  srv = await startServer({
    name: 'email',
    extraArgs: ['--trust-proxy', 'true', '--notify-smtp-url', `smtp://127.0.0.1:${port}`,
      '--notify-smtp-from', 'noreply@hall.example.gov.cn'],
  });
  tok = (await apiLogin(srv.url, DEMO.citizen.phone)).token;
  staff = (await apiLogin(srv.url, DEMO.staffA.phone)).token;
});
after(async () => {
  await srv?.stop();
  await sink.close();
});

const catalog = demoCatalog();
const ITEM = catalog.services.find((s) => s.department === 'psb' && s.online_depth >= 3);

async function submitted() {
  const r = await applyOnline(srv.url, tok, ITEM);
  assert.equal(r.status, 201, r.body);
  return r.json.number;
}

async function emailRows() {
  // Only the demo citizen ever gives an address in this file.
  return Number(await sql(srv.db, "SELECT COUNT(*) FROM outbox WHERE channel = 'email'"));
}

describe('e-mail notifications', () => {
  test('the account page sets the address, checks it and shows it masked', async () => {
    const c = await pageLogin(srv.url, DEMO.citizen.phone);
    const page = await c.get('/account');
    assert.equal(page.status, 200);
    const csrf = csrfOf(page.body, '/account/email');
    assert.ok(csrf, 'the account page has the e-mail form');
    const bad = await c.post('/account/email', { _csrf: csrf, email: 'zhang@@example' });
    assert.equal(bad.status, 422);
    assert.match(htmlText(bad.body), /有效的电子邮箱地址/);
    assert.match(bad.body, /value="zhang@@example"/, 'what was typed is kept');
    const noCsrf = await c.post('/account/email', { _csrf: 'x', email: ADDRESS });
    assert.equal(noCsrf.status, 403);
    const ok = await c.post('/account/email', { _csrf: csrf, email: ADDRESS });
    assert.equal(ok.status, 303);
    assert.match(ok.location, /done=email/);
    const again = await c.get('/account');
    assert.match(again.body, /Z\*\*\*@example\.com/);
    assert.ok(!again.body.includes('Zhang.San@'), 'the full address is not shown');
    const me = await bearer(`${srv.url}/api/v1/me`, tok);
    assert.equal(me.json.email_masked, 'Z***@example.com');
  });

  test('the API checks the address too', async () => {
    for (const email of ['no-at-sign', 'a@b', `${'x'.repeat(250)}@example.com`, 'a b@example.com']) {
      const r = await bearer(`${srv.url}/api/v1/me/email`, tok, { method: 'PUT', json: { email } });
      assert.equal(r.status, 422, email);
      assert.equal(r.json.error.code, 'validation_failed');
      assert.ok(r.json.error.fields.email, r.body);
    }
    const r = await bearer(`${srv.url}/api/v1/me/email`, tok, { method: 'PUT', json: { email: ADDRESS } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.email_masked, 'Z***@example.com');
    const anon = await bearer(`${srv.url}/api/v1/me/email`, null, { method: 'PUT', json: { email: ADDRESS } });
    assert.equal(anon.status, 401);
  });

  test('a state change is e-mailed in both languages', async () => {
    const number = await submitted();
    const acc = await actOn(srv.url, staff, number, 'accept');
    assert.equal(acc.status, 200, acc.body);
    const m = parse((await sink.waitFor((x) => x.raw.includes('Subject:') && parse(x.raw).body.includes(number))).raw);
    const env = sink.messages.find((x) => parse(x.raw).body.includes(number));
    assert.deepEqual(env.to, [`<${STORED}>`]);
    assert.equal(env.from, '<noreply@hall.example.gov.cn>');
    assert.equal(m.headers.to, STORED);
    assert.match(m.headers['content-type'], /charset=UTF-8/i);
    assert.equal(m.headers['auto-submitted'], 'auto-generated');
    assert.match(m.subject, /办件/);
    assert.match(m.subject, /[A-Za-z]/, 'the subject has the English title too');
    assert.match(m.body, /已受理|受理/);
    assert.match(m.body, /accepted/i);
    assert.ok(m.body.includes(ITEM.name_zh), 'the item is named');
  });

  test('without an address no e-mail is queued, and the address is never logged', async () => {
    const r = await bearer(`${srv.url}/api/v1/me/email`, tok, { method: 'PUT', json: { email: '' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.email_masked, undefined);
    const before = await emailRows();
    const number = await submitted();
    const acc = await actOn(srv.url, staff, number, 'accept');
    assert.equal(acc.status, 200);
    assert.equal(await emailRows(), before, 'no e-mail row for an account without an address');
    const log = srv.stderr.join('\n');
    assert.ok(!/zhang\.san@/i.test(log), 'the address is not in the log');
  });
});
