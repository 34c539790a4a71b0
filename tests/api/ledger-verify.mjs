// ledger-verify.mjs: an independent verifier of the transparency log, written from RFC 9162
// and C2SP (node:crypto for SHA-256 and Ed25519): leaf and node hashes, inclusion and
// consistency proofs, signed checkpoints. The ledger and workflow tests share it.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';

export const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
export const leafHash = (text) => sha256(Buffer.from([0]), Buffer.from(text, 'utf8'));
export const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
export const b64 = (s) => Buffer.from(s, 'base64');

export function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

export function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 === 0 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (proof.length === 0) return false;
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

/** Checks a C2SP checkpoint against the published log keys; returns {origin, size, root}. */
export function checkCheckpoint(note, keysDoc) {
  const [body, sigs] = note.split('\n\n');
  const lines = body.split('\n');
  assert.equal(lines.length, 3, `three body lines: ${note}`);
  const [origin, size, root] = lines;
  const signed = Buffer.from(`${body}\n`, 'utf8');
  let ok = 0;
  for (const line of sigs.split('\n').filter(Boolean)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    assert.ok(m, `signature line: ${line}`);
    const raw = b64(m[2]);
    for (const k of keysDoc.log.keys) {
      const pk = b64(k.public_key);
      const keyHash = sha256(Buffer.from(`${k.name}\n`, 'utf8'), Buffer.from([1]), pk).subarray(0, 4);
      if (k.name !== m[1] || !keyHash.equals(raw.subarray(0, 4))) continue;
      const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]);
      const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      assert.ok(edVerify(null, signed, key, raw.subarray(4)), 'Ed25519 signature of the checkpoint');
      ok++;
    }
  }
  assert.ok(ok >= 1, 'signed by a published log key');
  return { origin, size: Number(size), root: b64(root) };
}
