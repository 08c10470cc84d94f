/**
 * The public keys that checkpoints are verified with. They come from
 * `signing_keys.public_jwk` (readable without the key-encryption key), from
 * the header of an export file, or from a JWKS file the auditor trusts.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { JitgateError } from '../util/errors.js';

/** A P-256 public key as JSON (RFC 7517) with its kid. */
export interface CheckpointJwk {
  kid: string;
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/** Keys by kid, and the ones left out with why. */
export interface PublicKeySet {
  keys: ReadonlyMap<string, KeyObject>;
  jwks: readonly CheckpointJwk[];
  rejected: readonly { kid: string; reason: string }[];
  /** Where they came from, for messages: `database`, `export file`, or a path. */
  source: string;
}

/** RFC 7638 thumbprint of an EC public key: the kid jitgate gives its keys. */
export function ecThumbprint(jwk: { crv: string; x: string; y: string }): string {
  const members = `{"crv":${JSON.stringify(jwk.crv)},"kty":"EC","x":${JSON.stringify(jwk.x)},"y":${JSON.stringify(jwk.y)}}`;
  return createHash('sha256').update(members, 'utf8').digest('base64url');
}

/**
 * Builds a key set from JWKs. A key is used only when it is a P-256 public
 * key whose kid is its own thumbprint, so a row whose public part was
 * replaced cannot keep the old key's name.
 */
export function publicKeySet(candidates: readonly unknown[], source: string): PublicKeySet {
  const keys = new Map<string, KeyObject>();
  const jwks: CheckpointJwk[] = [];
  const rejected: { kid: string; reason: string }[] = [];
  for (const c of candidates) {
    const jwk = c as Partial<CheckpointJwk> & { d?: unknown };
    const kid = typeof jwk.kid === 'string' ? jwk.kid : '(none)';
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
      rejected.push({ kid, reason: 'not a P-256 public key' });
      continue;
    }
    if (jwk.d !== undefined) {
      rejected.push({ kid, reason: 'holds a private part; only public keys are accepted' });
      continue;
    }
    if (ecThumbprint(jwk as CheckpointJwk) !== kid) {
      rejected.push({ kid, reason: 'kid is not the thumbprint of the key' });
      continue;
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
    } catch (err) {
      rejected.push({ kid, reason: `unusable key: ${(err as Error).message}` });
      continue;
    }
    keys.set(kid, key);
    jwks.push({ kid, kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  }
  return { keys, jwks, rejected, source };
}

/** Every signing key's public part from the database, retired ones included. No KEK needed. */
export async function storedPublicKeys(db: Kysely<Database>): Promise<PublicKeySet> {
  const rows = await db.selectFrom('signing_keys').select(['kid', 'public_jwk']).orderBy('created_at').execute();
  const candidates = rows.map((r) => {
    try {
      return { ...(JSON.parse(r.public_jwk) as object), kid: r.kid };
    } catch {
      return { kid: r.kid };
    }
  });
  return publicKeySet(candidates, 'database');
}

/** Keys from JWKS text (`{"keys": [...]}`), e.g. a copy of the server's /jwks kept by the auditor. */
export function publicKeysFromJwksText(text: string, source: string): PublicKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new JitgateError('audit_keys_invalid', `${source} is not JSON: ${(err as Error).message}`);
  }
  const list = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new JitgateError('audit_keys_invalid', `${source} is not a JWKS: it has no "keys" array`);
  const set = publicKeySet(list, source);
  if (set.keys.size === 0) throw new JitgateError('audit_keys_invalid', `${source} holds no usable P-256 public key`);
  return set;
}
