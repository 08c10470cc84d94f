/**
 * Tokens a gateway refused because they, or their grants, were revoked:
 * recorded as `token.revoked_use` (and so raised as `revoked_token_use`)
 * through the same path as refusals at introspection and the REST API. The
 * server trusts the gateway only to say that the token was presented; that
 * it was revoked is checked here against the server's own records, so a
 * report can never raise an alert about a token that is fine.
 */
import type { ServerContext } from '../http/context.js';
import { recordRevokedTokenUse } from '../oauth/revoked-token-use.js';
import type { RevokedUse } from './report.js';

/** How many reported refusals were recorded, and how many the server's records did not bear out. */
export interface RefusalOutcome {
  recorded: number;
  unconfirmed: number;
}

export async function recordGatewayRefusals(ctx: ServerContext, refusals: readonly RevokedUse[]): Promise<RefusalOutcome> {
  if (refusals.length === 0) return { recorded: 0, unconfirmed: 0 };
  const db = ctx.store.db;
  const jtis = [...new Set(refusals.map((r) => r.jti))];
  const tokens = new Map((await db.selectFrom('tokens').selectAll().where('jti', 'in', jtis).execute()).map((t) => [t.jti, t]));
  const grantIds = [...new Set([...tokens.values()].map((t) => t.grant_id).filter((g): g is string => g !== null))];
  const grants = new Map(
    grantIds.length === 0
      ? []
      : (await db.selectFrom('grants').select(['id', 'revoked_at', 'released_at']).where('id', 'in', grantIds).execute()).map((g) => [g.id, g]),
  );
  let recorded = 0;
  for (const r of refusals) {
    const row = tokens.get(r.jti);
    // Reported details must match the token: the gateway learned them from the token itself.
    if (!row || row.sub !== r.principal || row.aud !== r.resource) continue;
    // As at introspection: a token past its exp when presented was dead anyway, revoked or not.
    if (row.exp <= r.at) continue;
    if (r.cause === 'token_revoked' && row.revoked_at !== null) {
      recordRevokedTokenUse(ctx, row, 'token_revoked', 'gateway');
      recorded++;
    } else if (r.cause === 'grant_revoked' && row.grant_id !== null) {
      const g = grants.get(row.grant_id);
      if (g && (g.revoked_at !== null || g.released_at !== null)) {
        recordRevokedTokenUse(ctx, row, g.revoked_at !== null ? 'grant_revoked' : 'grant_released', 'gateway');
        recorded++;
      }
    }
  }
  return { recorded, unconfirmed: refusals.length - recorded };
}
