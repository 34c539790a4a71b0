// federation-fixtures.mjs: what the federation tests share: a signer of requests as the
// federation signs them (RFC 9421 with Ed25519, RFC 9530's Content-Digest), written here apart
// from the server's C code so the server is checked against a second implementation.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign as edSign } from 'node:crypto';
import { freshDb, getJson, govhall, initDb, serve, startServer, waitFor } from './helpers.mjs';
import { freePort } from './pay-fixtures.mjs';

export const b64url = (b) => Buffer.from(b).toString('base64url');
export const now = () => Math.floor(Date.now() / 1000);

/** The header fields of a POST of body to url signed by privateKey as key kid. */
export function signedHeaders(url, body, privateKey, kid, { created = now(), expires = created + 300, idem = b64url(randomBytes(16)) } = {}) {
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  const ik = `"${idem}"`;
  const params = `("@method" "@target-uri" "content-digest" "idempotency-key");created=${created};expires=${expires};keyid="${kid}";alg="ed25519"`;
  const base = `"@method": POST\n"@target-uri": ${url}\n"content-digest": ${digest}\n"idempotency-key": ${ik}\n"@signature-params": ${params}`;
  const sig = edSign(null, Buffer.from(base), privateKey).toString('base64');
  return { 'content-type': 'application/json', 'content-digest': digest, 'idempotency-key': ik,
    'signature-input': `gh=${params}`, signature: `gh=:${sig}:` };
}

/** Registers hall id with the hub at hubUrl by a registration signed with a new key; resolves the key. */
export async function registerHall(hubUrl, id, { name = `${id}市`, region = id, baseUrl = 'http://127.0.0.1:9' } = {}) {
  const key = generateKeyPairSync('ed25519');
  const kid = `${id}-1`;
  const reg = JSON.stringify({ id, name, region, base_url: baseUrl, keys: [{ kid, x: key.publicKey.export({ format: 'jwk' }).x }] });
  const url = `${hubUrl}/federation/halls`;
  const r = await fetch(url, { method: 'POST', body: reg, headers: signedHeaders(url, reg, key.privateKey, kid) });
  if (r.status !== 202) throw new Error(`registration of ${id}: ${r.status} ${await r.text()}`);
  return { ...key, kid };
}

const must = (r, what) => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
};

/** Registers hall id as a client of the hub on hubDb; resolves its client secret. */
export async function addClient(hubDb, id) {
  const r = must(await govhall(['federation', 'client', 'add', id, '--name', `${id} hall`, '--redirect',
    `http://127.0.0.1:9/${id}/callback`, '--db', hubDb]), `client add ${id}`);
  return /client_secret: (\S+)/.exec(r.stdout)[1];
}

/** The settings of a hall joined to the hub at hubUrl, the back-off compressed to a second. */
export const hallArgs = (hubUrl, port, url, id, secret) => ['--listen', `127.0.0.1:${port}`, '--public-url', url,
  '--fed-hub-url', hubUrl, '--fed-client-id', id, '--fed-client-secret', secret, '--fed-directory-period', '1',
  '--fed-retry', '1', '--fed-timeout', '1500'];

/** `govhall federation join` of hall id (database db), then its approval on the hub (hubDb). */
export async function joinHall(hub, db, keyFile, id, name, url) {
  must(await govhall(['federation', 'join', '--name', name, '--region', name, '--db', db, '--fed-hub-url', hub.url,
    '--fed-client-id', id, '--public-url', url], { keyFile }), `join ${id}`);
  must(await govhall(['federation', 'hall', 'approve', id, '--db', hub.db]), `approve ${id}`);
}

/** The outbox of a hall, one object per message, as `govhall federation outbox` lists it. */
export async function outboxOf(db, keyFile) {
  const r = must(await govhall(['federation', 'outbox', '--db', db], { keyFile }), 'federation outbox');
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [dest, subject, seq, kind, attempts, state, error] = l.split('\t');
    return { dest, subject, seq: Number(seq), kind, attempts: Number(attempts.replace('attempts ', '')), state, error };
  });
}

/**
 * A hub and two halls, Qinghe and Lanshan, joined and approved (settings hallArgs), and a third
 * hall "probe" whose key the caller holds (registered with its address probeUrl); each hall
 * holds the directory of the three. Lanshan runs on a database of the caller's (lanshanDb, with
 * lanshanArgs), so that it can be stopped and served again. Names of databases start with
 * prefix; demo: the halls' demo catalog and people (hubDemo: the hub's demo people); ownLogs:
 * each hall's log named by its own address (so another hall takes its certificates). Resolves {hub, hubUrl, qinghe, qingheUrl,
 * lanshan, lanshanUrl, lanshanDb, lanshanArgs, qingheDb, serveQinghe, probe}.
 */
export async function federation(prefix, { demo = false, hubDemo = false, ownLogs = false, probeUrl = 'http://127.0.0.1:9' } = {}) {
  const f = {};
  const hubPort = await freePort();
  f.hubUrl = `http://127.0.0.1:${hubPort}`;
  f.hub = await startServer({ name: `${prefix}_hub`, demo: hubDemo, extraArgs: ['--listen', `127.0.0.1:${hubPort}`, '--public-url', f.hubUrl, '--role', 'hub'] });
  const hub = { url: f.hubUrl, db: f.hub.db };
  const qs = await addClient(hub.db, 'qinghe');
  const ls = await addClient(hub.db, 'lanshan');
  await addClient(hub.db, 'probe');
  const qPort = await freePort();
  f.qingheUrl = `http://127.0.0.1:${qPort}`;
  // Qinghe and Lanshan each on a database of the caller's (qingheDb, lanshanDb: the caller
  // drops them), so that either can be stopped and served again.
  f.qingheDb = await freshDb(`${prefix}_qinghe`);
  await initDb(f.qingheDb.url, { demo, keyFile: f.qingheDb.keyFile, args: ownLogs ? ['--public-url', f.qingheUrl] : [] });
  const qingheArgs = hallArgs(f.hubUrl, qPort, f.qingheUrl, 'qinghe', qs);
  f.serveQinghe = async () => Object.assign(await serve(f.qingheDb.url, { keyFile: f.qingheDb.keyFile, extraArgs: qingheArgs }),
    { db: f.qingheDb.url, keyFile: f.qingheDb.keyFile });
  f.qinghe = await f.serveQinghe();
  await joinHall(hub, f.qinghe.db, f.qinghe.keyFile, 'qinghe', '清河市', f.qingheUrl);
  const lPort = await freePort();
  f.lanshanUrl = `http://127.0.0.1:${lPort}`;
  f.lanshanDb = await freshDb(`${prefix}_lanshan`);
  await initDb(f.lanshanDb.url, { demo, keyFile: f.lanshanDb.keyFile, args: ownLogs ? ['--public-url', f.lanshanUrl] : [] });
  f.lanshanArgs = hallArgs(f.hubUrl, lPort, f.lanshanUrl, 'lanshan', ls);
  f.lanshan = await serve(f.lanshanDb.url, { keyFile: f.lanshanDb.keyFile, extraArgs: f.lanshanArgs });
  await joinHall(hub, f.lanshanDb.url, f.lanshanDb.keyFile, 'lanshan', '兰山市', f.lanshanUrl);
  // The probe: a hall whose key the caller holds, registered by a request it signs itself.
  f.probe = await registerHall(f.hubUrl, 'probe', { name: '试点', region: '试点', baseUrl: probeUrl });
  must(await govhall(['federation', 'hall', 'approve', 'probe', '--db', hub.db]), 'approve probe');
  for (const u of [f.qingheUrl, f.lanshanUrl]) {
    await waitFor(async () => {
      const d = await getJson(`${u}/federation/directory`);
      return d.status === 200 && ['qinghe', 'lanshan', 'probe'].every((id) => d.json.halls.some((h) => h.id === id));
    }, { what: `${u} to hold the directory with all three halls` });
  }
  return f;
}

// Stops the three processes of federation() as the test holds them now (a hall it stopped and
// served again is the one passed) and drops the halls' databases.
export async function stopFederation({ hub, qinghe, lanshan, qingheDb, lanshanDb } = {}) {
  await Promise.allSettled([hub?.stop(), qinghe?.stop(), lanshan?.stop()]);
  await Promise.allSettled([lanshanDb?.drop(), qingheDb?.drop()]);
}
