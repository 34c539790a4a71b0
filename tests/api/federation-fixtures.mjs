// federation-fixtures.mjs: what the federation tests share: a signer of requests as the
// federation signs them (RFC 9421 with Ed25519, RFC 9530's Content-Digest), written here apart
// from the server's C code so the server is checked against a second implementation.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign as edSign } from 'node:crypto';
import { govhall } from './helpers.mjs';

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

/** Registers client id with the hub whose database is hubDb; resolves its secret. */
export async function addClient(hubDb, id) {
  const r = await govhall(['federation', 'client', 'add', id, '--name', `${id} hall`, '--redirect', `http://127.0.0.1:9/${id}/callback`, '--db', hubDb]);
  assert.equal(r.code, 0, r.stderr);
  return /client_secret: (\S+)/.exec(r.stdout)[1];
}

/** `govhall federation join` of the hall on db (key file keyFile) as id at url, approved at the hub. */
export async function joinHall({ hubUrl, hubDb, db, keyFile, id, name, url }) {
  const r = await govhall(['federation', 'join', '--name', name, '--region', name, '--db', db, '--fed-hub-url', hubUrl,
    '--fed-client-id', id, '--public-url', url], { keyFile });
  assert.equal(r.code, 0, r.stderr);
  const a = await govhall(['federation', 'hall', 'approve', id, '--db', hubDb]);
  assert.equal(a.code, 0, a.stderr);
}
