/**
 * Records `scope.withdrawn` when a policy reload takes scopes away from
 * principals, so the revocation feed can tell gateways to stop accepting
 * the tokens that carry them (introspection already refuses them, since it
 * reads the policy in force).
 */
import type { ServerContext } from '../http/context.js';
import type { Policy } from '../policy/types.js';
import type { NewAuditEvent } from '../audit/append.js';
import { withdrawnScopes } from '../policy/withdrawn-scopes.js';
import { nowS } from '../util/clock.js';

/** Principals per query when looking up their tokens. */
const CHUNK = 500;

/**
 * Appends one `scope.withdrawn` event per principal that lost scopes
 * between `prev` and `next`: `{principal, scopes, until, policy_hash,
 * previous_policy_hash}`. `until` is the latest `exp` of the principal's
 * tokens carrying those scopes, and never earlier than a token issued right
 * now under the old policy could live. Returns how many were appended.
 */
export async function recordWithdrawnScopes(ctx: ServerContext, prev: Policy, next: Policy): Promise<number> {
  const now = nowS(ctx.clock);
  const lost = withdrawnScopes(prev, next, now);
  if (lost.size === 0) return 0;
  const latest = await latestExpiry(ctx, lost, now);
  const floor = now + ctx.config.tokenLifetimeS;
  const events: NewAuditEvent[] = [...lost].map(([principal, scopes]) => ({
    type: 'scope.withdrawn',
    actor: null,
    subject: principal,
    data: {
      principal,
      scopes,
      until: Math.max(floor, latest.get(principal) ?? 0),
      policy_hash: next.hash,
      previous_policy_hash: prev.hash,
    },
  }));
  await ctx.audit.transact((_trx, append) => append(events));
  return events.length;
}

/** Per principal, the latest `exp` of its unexpired, unrevoked tokens carrying a lost scope. */
async function latestExpiry(ctx: ServerContext, lost: Map<string, string[]>, now: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const principals = [...lost.keys()];
  for (let i = 0; i < principals.length; i += CHUNK) {
    const rows = await ctx.store.db
      .selectFrom('tokens')
      .select(['sub', 'scope', 'exp'])
      .where('sub', 'in', principals.slice(i, i + CHUNK))
      .where('revoked_at', 'is', null)
      .where('exp', '>', now)
      .execute();
    for (const r of rows) {
      const scopes = lost.get(r.sub) ?? [];
      const exp = Number(r.exp);
      if (r.scope.split(' ').some((s) => scopes.includes(s)) && exp > (out.get(r.sub) ?? 0)) out.set(r.sub, exp);
    }
  }
  return out;
}
