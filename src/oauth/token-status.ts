import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { baselineScopes, principalKnown } from '../access/entitlements.js';
import { eligibleScopes } from '../access/eligibility.js';
import { grantCovers } from '../access/grant-status.js';
import { grantRecordOf, type GrantRow } from '../access/stored-grant.js';
import { PreparedQuery } from '../store/prepared.js';
import { VerifiedRows } from './verified-rows.js';
import { findIssuedToken, type TokenRow } from './issued-token.js';
import { recordRevokedTokenUse, type PresentedAt } from './revoked-token-use.js';
import { WITHDRAWN_REASON } from '../revocations/scope-withdrawal.js';

export type { TokenRow };

/**
 * Whether a jitgate access token is active right now: the truth that
 * introspection, the REST API and the revocation feed rest on. It must be a
 * token this server issued, signed by a key still published, unexpired,
 * unrevoked, and the policy in force must still give its principal every
 * scope it carries: baseline scopes through its groups, elevated scopes
 * through a grant that is active at this moment and scopes it is still
 * eligible for. A revoked, released or ended grant, or a reload that drops a
 * scope from a group, ends the affected tokens at once.
 * With `presentedAt`, a refusal because the token or its grant was revoked
 * or released is recorded (`token.revoked_use`); active tokens cost nothing extra.
 */
export async function activeToken(ctx: ServerContext, token: string, presentedAt?: PresentedAt): Promise<TokenRow | null> {
  const row = await findIssuedToken(ctx, token);
  if (!row) return null;
  const now = nowS(ctx.clock);
  if (row.revoked_at !== null || row.exp <= now) {
    // A policy withdrawal is not someone's revocation: its tokens are refused without a revoked-use alert, as at the gateways.
    if (presentedAt && row.revoked_at !== null && row.exp > now && row.revoked_reason !== WITHDRAWN_REASON) {
      recordRevokedTokenUse(ctx, row, 'token_revoked', presentedAt);
    }
    return null;
  }
  if (!ctx.keyring.verificationKey(row.kid)) return null;
  return (await stillEntitled(ctx, row, now, presentedAt)) ? row : null;
}

async function stillEntitled(ctx: ServerContext, row: TokenRow, now: number, presentedAt?: PresentedAt): Promise<boolean> {
  const policy = ctx.policy.current;
  if (!policy.clients.has(row.client_id) || !principalKnown(policy, row.sub)) return false;
  if (row.scope === '') return true;
  const baseline = baselineScopes(policy, row.sub);
  const scopes = row.scope.split(' ');
  if (row.grant_id === null) return scopes.every((s) => baseline.has(s));

  const grant = await findGrant(ctx, row.grant_id);
  if (!grant || grant.principal !== row.sub) return false;
  if (!grantCovers(grantRecordOf(grant), now)) {
    if (presentedAt && (grant.revoked_at !== null || grant.released_at !== null)) {
      recordRevokedTokenUse(ctx, row, grant.revoked_at !== null ? 'grant_revoked' : 'grant_released', presentedAt);
    }
    return false;
  }
  const granted = grant.scopes.split(' ');
  const eligible = eligibleScopes(policy, row.sub, now).scopes;
  return scopes.every((s) => baseline.has(s) || (granted.includes(s) && eligible.has(s)));
}

const selectGrant = new WeakMap<object, PreparedQuery<GrantRow>>();
const keptGrants = new WeakMap<object, VerifiedRows<GrantRow>>();

/** The grant an elevated token names: compiled once per database, and on SQLite kept like proved tokens (see findIssuedToken). */
async function findGrant(ctx: ServerContext, id: string): Promise<GrantRow | undefined> {
  const db = ctx.store.db;
  const cache = VerifiedRows.of(keptGrants, db);
  const kept = cache?.get(id);
  if (kept !== undefined) return kept;
  let q = selectGrant.get(db);
  if (!q) {
    q = new PreparedQuery(db.selectFrom('grants').selectAll().where('id', '=', '').compile());
    selectGrant.set(db, q);
  }
  const version = cache ? cache.version() : null;
  const grant = (await q.run(db, [id])).rows[0];
  if (!grant) return undefined;
  return cache ? cache.set(id, grant, version) : grant;
}
