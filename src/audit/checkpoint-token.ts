/**
 * A checkpoint is a compact JWS (ES256) by the server's signing key over
 * `{iss, seq, hash, at}`: "event `seq` of the chain has hash `hash`". The
 * hash chains every earlier event, so one signature vouches for the whole
 * prefix; anyone with the public keys can check it.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import type { Signer } from '../tokens/signer.js';

/** The JWS `typ` of checkpoints, so no other jitgate signature can pass for one. */
export const CHECKPOINT_TYP = 'jitgate-checkpoint+jwt';

export interface CheckpointClaims {
  /** The issuer of the server that signed it. */
  iss: string;
  seq: number;
  hash: string;
  /** RFC 3339 UTC: when it was signed. */
  at: string;
}

export type CheckpointVerdict =
  | { ok: true; kid: string; claims: CheckpointClaims }
  | { ok: false; kid: string | null; reason: string };

const SIG = { dsaEncoding: 'ieee-p1363' } as const;
const HEX64 = /^[0-9a-f]{64}$/;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Signs a checkpoint with `signer` (synchronous: one ECDSA signature). */
export function signCheckpoint(signer: Signer, claims: CheckpointClaims): string {
  const header = b64(JSON.stringify({ alg: 'ES256', typ: CHECKPOINT_TYP, kid: signer.kid }));
  const payload = b64(JSON.stringify({ iss: claims.iss, seq: claims.seq, hash: claims.hash, at: claims.at }));
  const input = `${header}.${payload}`;
  const signature = sign('sha256', Buffer.from(input, 'utf8'), { key: signer.key, ...SIG });
  return `${input}.${signature.toString('base64url')}`;
}

function parsePart(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Checks a checkpoint's form and signature against `keys` (by kid); never throws. */
export function verifyCheckpoint(jws: string, keys: ReadonlyMap<string, KeyObject>): CheckpointVerdict {
  const parts = jws.split('.');
  if (parts.length !== 3) return { ok: false, kid: null, reason: 'not a compact JWS' };
  const [h, p, s] = parts as [string, string, string];
  const header = parsePart(h);
  if (!header) return { ok: false, kid: null, reason: 'its header is not a JSON object' };
  const kid = typeof header.kid === 'string' ? header.kid : null;
  if (header.alg !== 'ES256') return { ok: false, kid, reason: `alg is ${String(header.alg)}, not ES256` };
  if (header.typ !== CHECKPOINT_TYP) return { ok: false, kid, reason: `typ is ${String(header.typ)}, not ${CHECKPOINT_TYP}` };
  if (kid === null) return { ok: false, kid, reason: 'its header names no kid' };
  const key = keys.get(kid);
  if (!key) return { ok: false, kid, reason: `signed with key ${kid}, which is not among the trusted public keys` };
  const good = verify('sha256', Buffer.from(`${h}.${p}`, 'utf8'), { key, ...SIG }, Buffer.from(s, 'base64url'));
  if (!good) return { ok: false, kid, reason: `its signature does not verify with key ${kid}` };
  const payload = parsePart(p);
  if (
    !payload ||
    typeof payload.iss !== 'string' ||
    !Number.isSafeInteger(payload.seq) ||
    (payload.seq as number) < 1 ||
    typeof payload.hash !== 'string' ||
    !HEX64.test(payload.hash) ||
    typeof payload.at !== 'string'
  ) {
    return { ok: false, kid, reason: 'its payload is not {iss, seq, hash, at}' };
  }
  return { ok: true, kid, claims: { iss: payload.iss, seq: payload.seq as number, hash: payload.hash, at: payload.at } };
}
