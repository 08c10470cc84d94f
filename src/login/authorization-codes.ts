import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { nowS } from '../util/clock.js';
import { randomToken, sha256 } from './secrets.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** An authorization code is good for this long (RFC 6749 §4.1.2 recommends at most 10 minutes; a browser redirect needs seconds). */
export const CODE_TTL_S = 60;

/** Issues a code for the request and the person; only its hash is stored. */
export async function issueAuthorizationCode(ctx: ServerContext, request: AuthorizeRequest, person: AuthenticatedPerson): Promise<string> {
  const code = randomToken();
  const now = nowS(ctx.clock);
  // A used code is kept as long as a refresh token from it may live, so a late replay still revokes its family.
  await ctx.store.db.deleteFrom('authorization_codes').where('expires_at', '<', now - ctx.config.refreshTokenLifetimeS).execute();
  await ctx.store.db
    .insertInto('authorization_codes')
    .values({
      code_hash: sha256(code),
      client_id: request.clientId,
      redirect_uri: request.redirectUri,
      code_challenge: request.codeChallenge,
      scope: request.scope,
      resource: request.resource,
      principal: person.principal,
      amr: JSON.stringify(person.amr),
      acr: person.acr,
      auth_time: person.authTime,
      created_at: now,
      expires_at: now + CODE_TTL_S,
      used_at: null,
      replayed_at: null,
      issued: null,
    })
    .execute();
  return code;
}

export interface StoredCode {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string | null;
  resource: string | null;
  person: AuthenticatedPerson;
  expiresAt: number;
}

/** What a code's redemption handed out: access token ids and the refresh token's hash. */
export interface IssuedFromCode {
  jtis: string[];
  refreshHash: string | null;
}

export type Redemption =
  | { kind: 'first'; code: StoredCode }
  | { kind: 'replayed'; principal: string; clientId: string; issued: IssuedFromCode };

/**
 * Redeems a code: the first redemption marks it used and gets it; any later
 * one gets `replayed` with what was issued from it, which the caller revokes
 * (RFC 6749 §4.1.2). Unknown codes are null.
 */
export async function redeemAuthorizationCode(ctx: ServerContext, code: string): Promise<Redemption | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return null;
  const codeHash = sha256(code);
  const now = nowS(ctx.clock);
  const res = await ctx.store.db
    .updateTable('authorization_codes')
    .set({ used_at: now })
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  const first = Number(res.numUpdatedRows) === 1;
  if (!first) {
    await ctx.store.db.updateTable('authorization_codes').set({ replayed_at: now }).where('code_hash', '=', codeHash).execute();
  }
  const row = await ctx.store.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  if (!row) return null;
  if (!first) return { kind: 'replayed', principal: row.principal, clientId: row.client_id, issued: parseIssued(row.issued) };
  return {
    kind: 'first',
    code: {
      codeHash,
      clientId: row.client_id,
      redirectUri: row.redirect_uri,
      codeChallenge: row.code_challenge,
      scope: row.scope,
      resource: row.resource,
      person: { principal: row.principal, amr: JSON.parse(row.amr) as string[], acr: row.acr, authTime: Number(row.auth_time) },
      expiresAt: Number(row.expires_at),
    },
  };
}

function parseIssued(text: string | null): IssuedFromCode {
  if (!text) return { jtis: [], refreshHash: null };
  const v = JSON.parse(text) as { jtis?: string[]; refresh_hash?: string | null };
  return { jtis: v.jtis ?? [], refreshHash: v.refresh_hash ?? null };
}

/**
 * Records what was issued from a code. Returns true when a replay was seen
 * meanwhile: the caller then revokes it too, so a replay racing the first
 * redemption still ends with everything from the code revoked.
 */
export async function recordIssuedFromCode(ctx: ServerContext, codeHash: string, issued: IssuedFromCode): Promise<boolean> {
  await ctx.store.db
    .updateTable('authorization_codes')
    .set({ issued: JSON.stringify({ jtis: issued.jtis, refresh_hash: issued.refreshHash }) })
    .where('code_hash', '=', codeHash)
    .execute();
  const row = await ctx.store.db.selectFrom('authorization_codes').select('replayed_at').where('code_hash', '=', codeHash).executeTakeFirst();
  return row?.replayed_at != null;
}
