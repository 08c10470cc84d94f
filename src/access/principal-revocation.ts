/**
 * Revoking a principal: everything it holds right now ends in one
 * transaction — its live access tokens, its scheduled and active grants,
 * its refresh-token families and, for a person, its login sessions — with
 * one audit event per token and grant (which the revocation feed carries to
 * the gateways) and a `principal.revoked` summary. What the principal may
 * get again afterwards is the policy's business: a principal still in the
 * policy can log in and ask anew; a removed local user cannot.
 */
import type { Transaction } from 'kysely';
import type { AppendFn, AuditLog } from '../audit/log.js';
import type { NewAuditEvent } from '../audit/append.js';
import type { Store } from '../store/open.js';
import type { Database } from '../store/schema.js';
import { nowS, type Clock } from '../util/clock.js';
import { auditRecordOf } from './audit-mapping.js';
import { revokeGrant } from './grant-commands.js';
import { grantRecordOf } from './stored-grant.js';
import { liveGrantsOf } from './grant-rows.js';
import { markTokensRevoked } from '../oauth/revoke-token.js';

export const PRINCIPAL_REVOKED_EVENT = 'principal.revoked';

/** `revoked_reason` of tokens and refresh tokens ended by a principal revocation. */
export const PRINCIPAL_REVOKED_REASON = 'principal_revoked';

/** What a principal revocation ended. */
export interface PrincipalRevocation {
  principal: string;
  /** Epoch seconds. */
  at: number;
  tokens: number;
  grants: number;
  refresh_families: number;
  sessions: number;
}

export interface PrincipalRevocationDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
}

/** Revokes everything `principal` holds now, in its own transaction; `by` is who asked, `reason` why. */
export function revokePrincipal(deps: PrincipalRevocationDeps, principal: string, by: string | null, reason: string): Promise<PrincipalRevocation> {
  const at = nowS(deps.clock);
  return deps.audit.transact((trx, append) => revokePrincipalIn(trx, append, { principal, by, reason, at }));
}

/** The same inside a transaction the caller owns (removing a local user revokes in the removal's transaction). */
export async function revokePrincipalIn(
  trx: Transaction<Database>,
  append: AppendFn,
  cmd: { principal: string; by: string | null; reason: string; at: number },
): Promise<PrincipalRevocation> {
  const { principal, by, reason, at } = cmd;
  const events: NewAuditEvent[] = [];

  // Grants first: their revocation events end their elevated tokens at the gateways even before the tokens' own.
  // Every live grant, however many: none may be left out.
  let grantsRevoked = 0;
  for (const row of await liveGrantsOf(trx, principal, at, Number.MAX_SAFE_INTEGER)) {
    // `by` null: an operator working on the database (removing a local user), who is no principal.
    const result = revokeGrant(grantRecordOf(row), { by: by ?? '', at, reason });
    if (!result.ok) continue;
    // Still unrevoked and unreleased: a revocation racing this one on another connection is recorded once.
    const res = await trx
      .updateTable('grants')
      .set({ revoked_at: at, revoked_by: by, revoke_reason: reason })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .where('released_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) continue;
    grantsRevoked++;
    for (const e of result.effects) {
      const record = auditRecordOf(e, principal);
      if (by === null) delete record.data.by;
      events.push({ ...record, actor: by });
    }
  }

  const tokens = await trx
    .selectFrom('tokens')
    .select(['jti', 'client_id'])
    .where('sub', '=', principal)
    .where('revoked_at', 'is', null)
    .where('exp', '>', at)
    .execute();
  await markTokensRevoked(
    trx,
    tokens.map((t) => t.jti),
    at,
    PRINCIPAL_REVOKED_REASON,
  );
  for (const t of tokens) {
    events.push({ type: 'token.revoked', actor: by, subject: principal, data: { jti: t.jti, client_id: t.client_id, reason } });
  }

  const families = await trx
    .selectFrom('refresh_tokens')
    .select('family_id')
    .distinct()
    .where('principal', '=', principal)
    .where('revoked_at', 'is', null)
    .where('family_expires_at', '>', at)
    .execute();
  await trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: at, revoked_reason: PRINCIPAL_REVOKED_REASON })
    .where('principal', '=', principal)
    .where('revoked_at', 'is', null)
    .execute();

  const sessions = await trx.deleteFrom('login_sessions').where('principal', '=', principal).executeTakeFirst();

  const counts = { tokens: tokens.length, grants: grantsRevoked, refresh_families: families.length, sessions: Number(sessions.numDeletedRows) };
  events.push({ type: PRINCIPAL_REVOKED_EVENT, actor: by, subject: principal, data: { principal, reason, ...counts }, atMs: at * 1000 });
  await append(events);
  return { principal, at, ...counts };
}
