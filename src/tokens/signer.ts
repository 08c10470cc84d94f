import type { KeyObject } from 'node:crypto';

/** A private signing key and the kid that names it in token headers and the JWKS. */
export interface Signer {
  readonly kid: string;
  readonly key: KeyObject;
}
