import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import type { RefreshTokenTable } from '../store/schema.js';
import { tokenHash } from '../tokens/token-hash.js';
import { randomBase64url } from '../util/random-pool.js';
import { nowS } from '../util/clock.js';
import { formatScope } from '../util/scope-string.js';
import { revokeToken } from './revoke-token.js';

export type RefreshTokenRow = Selectable<RefreshTokenTable>;

/** Rows of families that ended this long ago are deleted when a new family starts. */
const KEEP_ENDED_S = 86_400;

/** What a new refresh token family is bound to. */
export interface NewRefreshToken {
  clientId: string;
  principal: string;
  /** The scopes granted at login: the most any refreshed access token may carry. */
  scope: string[];
  /** How the person logged in; every refreshed access token carries the same facts. */
  person: AuthenticatedPerson;
  /** RFC 8707 resource of the access token issued with it; absent or null for jitgate's own API. */
  resource?: string | null;
  /** `jti` of the access token issued with it, so revoking the family revokes that token too. */
  accessJti?: string | null;
}

/**
 * Opaque, 256 random bits. Only its SHA-256 is stored: a copy of the
 * database does not hand out live refresh tokens.
 */
function newRefreshTokenValue(): string {
  return randomBytes(32).toString('base64url');
}

/** The life of a new member of a family: unspent, idle expiry within the family's absolute end. */
function unspentMember(ctx: ServerContext, now: number, familyExpiresAt: number) {
  return {
    created_at: now,
    family_expires_at: familyExpiresAt,
    expires_at: Math.min(now + ctx.config.refreshTokenIdleS, familyExpiresAt),
    used_at: null,
    replaced_by: null,
    revoked_at: null,
    revoked_reason: null,
  };
}

/**
 * Starts a refresh token family for a person who has just logged in
 * (authorization code, device code) and returns the token. Baseline logins
 * only: elevated tokens and client_credentials never get one.
 */
export async function issueRefreshToken(ctx: ServerContext, input: NewRefreshToken): Promise<string> {
  const now = nowS(ctx.clock);
  const token = newRefreshTokenValue();
  const familyExpiresAt = now + ctx.config.refreshTokenLifetimeS;
  // Families past their end can only ever answer invalid_grant, which an unknown token gets too; logins are rare enough to sweep them here.
  await ctx.store.db.deleteFrom('refresh_tokens').where('family_expires_at', '<', now - KEEP_ENDED_S).execute();
  await ctx.store.db
    .insertInto('refresh_tokens')
    .values({
      token_hash: tokenHash(token),
      family_id: randomBase64url(16),
      client_id: input.clientId,
      principal: input.principal,
      scope: formatScope(input.scope),
      resource: input.resource ?? null,
      access_jti: input.accessJti ?? null,
      acr: input.person.acr,
      amr: input.person.amr.length ? JSON.stringify(input.person.amr) : null,
      auth_time: input.person.authTime,
      ...unspentMember(ctx, now, familyExpiresAt),
    })
    .execute();
  return token;
}

/** Looks a presented refresh token up by its hash; null when this server never issued it. */
export async function findRefreshToken(ctx: ServerContext, token: string): Promise<RefreshTokenRow | null> {
  // Ours are 43 base64url characters; anything else never reaches the database.
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await ctx.store.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash(token)).executeTakeFirst();
  return row ?? null;
}

/** The authentication facts a family was started with. */
export function personOf(row: RefreshTokenRow): AuthenticatedPerson {
  return {
    principal: row.principal,
    acr: row.acr,
    amr: row.amr ? (JSON.parse(row.amr) as string[]) : [],
    authTime: row.auth_time === null ? 0 : Number(row.auth_time),
  };
}

/** Outcome of {@link rotateRefreshToken}. */
export type Rotation =
  | { ok: true; token: string; tokenHash: string }
  /** `used`: it was rotated already (a reuse, or a concurrent use that lost); `revoked`: the family is dead. */
  | { ok: false; reason: 'used' | 'revoked' };

/**
 * Marks `row` used and creates its successor in the same family, bound to
 * the access token already minted for this use (`accessJti`), in one
 * transaction. The update only matches while the token is unused and
 * unrevoked, so of two concurrent uses exactly one rotates; the other
 * sees `used` (and its caller revokes the family: a second use of one
 * refresh token cannot be told apart from a stolen copy).
 */
export async function rotateRefreshToken(ctx: ServerContext, row: RefreshTokenRow, accessJti: string): Promise<Rotation> {
  const now = nowS(ctx.clock);
  const token = newRefreshTokenValue();
  const hash = tokenHash(token);
  const familyExpiresAt = Number(row.family_expires_at);
  return ctx.store.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('refresh_tokens')
      .set({ used_at: now, replaced_by: hash })
      .where('token_hash', '=', row.token_hash)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      const current = await trx.selectFrom('refresh_tokens').select(['revoked_at']).where('token_hash', '=', row.token_hash).executeTakeFirst();
      return { ok: false, reason: current?.revoked_at != null ? 'revoked' : 'used' } as const;
    }
    await trx
      .insertInto('refresh_tokens')
      .values({
        ...row,
        token_hash: hash,
        access_jti: accessJti,
        ...unspentMember(ctx, now, familyExpiresAt),
      })
      .execute();
    return { ok: true, token, tokenHash: hash } as const;
  });
}

/**
 * Revokes every refresh token of a family and every access token issued
 * with them (through the token revocation path, so introspection and the
 * gateways' feed learn of it). `event` is recorded with the family marking;
 * it names the family and client, never a token value.
 */
export async function revokeRefreshFamily(
  ctx: ServerContext,
  row: Pick<RefreshTokenRow, 'family_id' | 'client_id' | 'principal'>,
  by: string,
  reason: string,
  eventType: 'refresh_token.reused' | 'refresh_token.revoked',
): Promise<void> {
  const now = nowS(ctx.clock);
  const jtis = await ctx.audit.transact(async (trx, append) => {
    // Until nothing is left: on PostgreSQL a rotation that committed while
    // the first statement waited for its row lock added a successor that
    // statement could not see; the next statement sees it.
    let marked = 0;
    for (;;) {
      const res = await trx
        .updateTable('refresh_tokens')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('family_id', '=', row.family_id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) break;
      marked += Number(res.numUpdatedRows);
    }
    // A family already revoked is recorded once, when it was.
    if (marked > 0) {
      await append([
        { type: eventType, actor: by, subject: row.principal, data: { family_id: row.family_id, client_id: row.client_id, reason } },
      ]);
    }
    const linked = await trx
      .selectFrom('refresh_tokens')
      .select('access_jti')
      .where('family_id', '=', row.family_id)
      .where('access_jti', 'is not', null)
      .execute();
    return linked.map((r) => r.access_jti as string);
  });
  if (jtis.length === 0) return;
  const tokens = await ctx.store.db
    .selectFrom('tokens')
    .select(['jti', 'sub', 'client_id'])
    .where('jti', 'in', jtis)
    .where('revoked_at', 'is', null)
    .where('exp', '>', now)
    .execute();
  for (const t of tokens) await revokeToken(ctx, t, now, by, reason);
}
