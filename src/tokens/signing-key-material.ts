/**
 * ES256 signing-key material: generating a key, sealing it into a
 * `signing_keys` row, and opening a row back into node:crypto KeyObjects.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { SigningKeyTable } from '../store/schema.js';
import { JitgateError } from '../util/errors.js';
import type { Kek } from './kek.js';
import type { SigningKeyTimes } from './key-state.js';

export const SIGNING_ALG = 'ES256';

/** The public half of a P-256 key as stored (no kid/alg/use: those are added when published). */
export interface EcPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface SigningKeyMaterial {
  kid: string;
  publicJwk: EcPublicJwk;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** A fresh P-256 key; its kid is the RFC 7638 thumbprint of the public JWK. */
export async function generateSigningKey(): Promise<SigningKeyMaterial> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = toEcPublicJwk(publicKey);
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), publicJwk, publicKey, privateKey };
}

/** The row to store for `key`, its private part sealed under `kek`. */
export function sealSigningKey(key: SigningKeyMaterial, kek: Kek, times: Omit<SigningKeyTimes, 'kid'>): SigningKeyTable {
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    kid: key.kid,
    alg: SIGNING_ALG,
    public_jwk: JSON.stringify(key.publicJwk),
    private_enc: kek.seal(key.kid, der),
    created_at: times.createdAt,
    signs_from: times.signsFrom,
    superseded_at: times.supersededAt,
    publish_until: times.publishUntil,
  };
}

/**
 * Opens a stored row. Besides decrypting (which fails with `kek_mismatch`
 * under another KEK), it checks that the kid is the thumbprint of the stored
 * public key and that the private key belongs to it: someone able to write
 * the database but without the KEK cannot get a key of their own published.
 */
export async function openSigningKey(row: SigningKeyTable, kek: Kek): Promise<SigningKeyMaterial> {
  if (row.alg !== SIGNING_ALG) {
    throw new JitgateError('signing_key_corrupt', `signing key ${row.kid} has unsupported alg ${row.alg}`);
  }
  const der = kek.open(row.kid, row.private_enc);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  const publicKey = createPublicKey(privateKey);
  const publicJwk = toEcPublicJwk(publicKey);
  let stored: Partial<EcPublicJwk>;
  try {
    stored = JSON.parse(row.public_jwk) as Partial<EcPublicJwk>;
  } catch (err) {
    throw new JitgateError('signing_key_corrupt', `signing key ${row.kid} has an unreadable public key`, { cause: err });
  }
  if (stored.x !== publicJwk.x || stored.y !== publicJwk.y || stored.crv !== publicJwk.crv || stored.kty !== 'EC') {
    throw new JitgateError('signing_key_corrupt', `signing key ${row.kid}: the stored public key is not the sealed key's`);
  }
  if ((await calculateJwkThumbprint(publicJwk, 'sha256')) !== row.kid) {
    throw new JitgateError('signing_key_corrupt', `signing key ${row.kid}: the kid is not the key's thumbprint`);
  }
  return { kid: row.kid, publicJwk, publicKey, privateKey };
}

/** The instants of a stored row, as the pure key-state rules read them. */
export function rowTimes(row: SigningKeyTable): SigningKeyTimes {
  return {
    kid: row.kid,
    createdAt: Number(row.created_at),
    signsFrom: Number(row.signs_from),
    supersededAt: row.superseded_at === null ? null : Number(row.superseded_at),
    publishUntil: row.publish_until === null ? null : Number(row.publish_until),
  };
}

function toEcPublicJwk(publicKey: KeyObject): EcPublicJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new JitgateError('signing_key_corrupt', 'a signing key is not a P-256 key');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}
