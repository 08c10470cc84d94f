/**
 * Kysely table types shared by SQLite and PostgreSQL. Instants are integer
 * epoch seconds (PostgreSQL `bigint`, parsed to number); JSON is stored as
 * text so both databases read and write it the same way.
 */
import type { Generated } from 'kysely';

export interface SigningKeyTable {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  public_jwk: string;
  /** Private key (PKCS#8 DER) sealed with the key-encryption key, base64url. */
  private_enc: string;
  created_at: number;
  /** The key is published from creation but signs only from this instant. */
  signs_from: number;
  /** When a newer key took over signing; null while it is the newest. */
  superseded_at: number | null;
  /** When it may leave the JWKS: the last token it signed has expired by then. */
  publish_until: number | null;
}

export interface TokenTable {
  jti: string;
  /** SHA-256 (base64url) of the whole token: proves a presented token is the one issued. */
  token_hash: string;
  sub: string;
  client_id: string;
  aud: string;
  /** Space-delimited, as in the token. */
  scope: string;
  grant_id: string | null;
  kid: string;
  iat: number;
  exp: number;
  auth_time: number | null;
  acr: string | null;
  /** JSON array text, or null. */
  amr: string | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

/** Replay protection for private_key_jwt client assertions (RFC 7523 `jti`). */
export interface ClientAssertionTable {
  client_id: string;
  jti: string;
  exp: number;
}

/** Server-wide key/value facts (e.g. the policy hash last loaded). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  signing_keys: SigningKeyTable;
  tokens: TokenTable;
  client_assertions: ClientAssertionTable;
  meta: MetaTable;
}

export type { Generated };
