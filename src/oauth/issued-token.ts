import { timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ServerContext } from '../http/context.js';
import type { TokenTable } from '../store/schema.js';
import { tokenHash } from '../tokens/token-hash.js';
import { PreparedQuery } from '../store/prepared.js';
import { VerifiedRows } from './verified-rows.js';

export type TokenRow = Selectable<TokenTable>;

const selectByJti = new WeakMap<object, PreparedQuery<TokenRow>>();
const provedTokens = new WeakMap<object, VerifiedRows<TokenRow>>();

/** The lookup of introspection and the REST API, compiled once per database. */
function selectToken(ctx: ServerContext): PreparedQuery<TokenRow> {
  let q = selectByJti.get(ctx.store.db);
  if (!q) {
    q = new PreparedQuery(ctx.store.db.selectFrom('tokens').selectAll().where('jti', '=', '').compile());
    selectByJti.set(ctx.store.db, q);
  }
  return q;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The `jti` of a compact JWT, read without verifying it; null when malformed.
 * The header is not read: the recorded hash of the whole token is what
 * proves it, `kid` included.
 */
export function peekJti(token: string): string | null {
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) return null;
  try {
    const jti: unknown = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8')).jti;
    // Ids this server makes are base64url; anything else (a NUL, a megabyte) is not ours and never reaches the database.
    return typeof jti === 'string' && ID.test(jti) ? jti : null;
  } catch {
    return null;
  }
}

/**
 * The record of a token this server issued, or null. The presented token is
 * matched against the SHA-256 recorded at issuance, which proves it byte for
 * byte without verifying the signature again. On SQLite a proved token's
 * row is kept, keyed by the exact token text, until a row of `tokens` or
 * `grants` may have changed (see RowVersion): asking about the same token
 * again skips the read and the hash, never a status check. The row is
 * frozen.
 */
export async function findIssuedToken(ctx: ServerContext, token: string): Promise<TokenRow | null> {
  const cache = VerifiedRows.of(provedTokens, ctx.store.db);
  const kept = cache?.get(token);
  if (kept !== undefined) return kept;
  const jti = peekJti(token);
  if (jti === null) return null;
  const version = cache ? cache.version() : null;
  const row = (await selectToken(ctx).run(ctx.store.db, [jti])).rows[0];
  if (!row) return null;
  const presented = Buffer.from(tokenHash(token));
  const recorded = Buffer.from(row.token_hash);
  if (presented.length !== recorded.length || !timingSafeEqual(presented, recorded)) return null;
  return cache ? cache.set(token, row, version) : row;
}
