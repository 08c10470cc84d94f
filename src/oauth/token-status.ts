import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { baselineScopes, principalKnown } from '../access/entitlements.js';
import { findIssuedToken, type TokenRow } from './issued-token.js';

export type { TokenRow };

/**
 * Whether a jitgate access token is active right now: the truth that
 * introspection, the REST API and the revocation feed rest on. It must be a
 * token this server issued, signed by a key still published, unexpired,
 * unrevoked, and the policy in force must still give its principal every
 * scope it carries (a reload that drops a scope from a group ends it at once).
 */
export async function activeToken(ctx: ServerContext, token: string): Promise<TokenRow | null> {
  const row = await findIssuedToken(ctx, token);
  if (!row) return null;
  const now = nowS(ctx.clock);
  if (row.revoked_at !== null || row.exp <= now) return null;
  if (!ctx.keyring.verificationKey(row.kid)) return null;
  return stillEntitled(ctx, row) ? row : null;
}

function stillEntitled(ctx: ServerContext, row: TokenRow): boolean {
  const policy = ctx.policy.current;
  if (!policy.clients.has(row.client_id) || !principalKnown(policy, row.sub)) return false;
  if (row.grant_id !== null) return false; // elevated tokens are judged by their grant (access module)
  if (row.scope === '') return true;
  const allowed = baselineScopes(policy, row.sub);
  for (const s of row.scope.split(' ')) if (!allowed.has(s)) return false;
  return true;
}
