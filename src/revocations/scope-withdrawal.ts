/**
 * Records `scope.withdrawn` when a policy reload takes scopes away from
 * principals, so the revocation feed can tell gateways to stop accepting
 * the tokens that carry them, and revokes those tokens in the same
 * transaction (`revoked_reason` `scope_withdrawn`). Introspection refuses
 * them at once anyway, since it reads the policy in force; the revocation
 * makes the refusal final, as it is at the gateways: a later reload that
 * gives the scope back does not bring tokens issued before the withdrawal
 * back to life.
 */
import type { Transaction } from 'kysely';
import type { ServerContext } from '../http/context.js';
import type { Database } from '../store/schema.js';
import type { Policy } from '../policy/types.js';
import type { NewAuditEvent } from '../audit/append.js';
import { withdrawnScopes } from '../policy/withdrawn-scopes.js';
import { nowS } from '../util/clock.js';
import { markTokensRevoked } from '../oauth/revoke-token.js';

/** Principals per query when looking up their tokens. */
const CHUNK = 500;

/**
 * Appends one `scope.withdrawn` event per principal that lost scopes
 * between `prev` and `next`: `{principal, scopes, until, tokens_revoked,
 * policy_hash, previous_policy_hash}`, and revokes the principal's live
 * tokens that carry any of those scopes. `until` is the latest `exp` of
 * those tokens, and never earlier than a token issued right now under the
 * old policy could live. Returns how many events were appended.
 */
export async function recordWithdrawnScopes(ctx: ServerContext, prev: Policy, next: Policy): Promise<number> {
  const now = nowS(ctx.clock);
  const lost = withdrawnScopes(prev, next, now);
  if (lost.size === 0) return 0;
  const floor = now + ctx.config.tokenLifetimeS;
  return ctx.audit.transact(async (trx, append) => {
    // Read and revoke inside the event's transaction: a token recorded meanwhile is either seen here or issued under the new policy.
    const affected = await affectedTokens(trx, lost, now);
    await markTokensRevoked(trx, affected.jtis, now, WITHDRAWN_REASON);
    const events: NewAuditEvent[] = [...lost].map(([principal, scopes]) => ({
      type: 'scope.withdrawn',
      actor: null,
      subject: principal,
      data: {
        principal,
        scopes,
        until: Math.max(floor, affected.latest.get(principal) ?? 0),
        tokens_revoked: affected.count.get(principal) ?? 0,
        policy_hash: next.hash,
        previous_policy_hash: prev.hash,
      },
    }));
    await append(events);
    return events.length;
  });
}

/** `revoked_reason` of a token whose scope a policy reload withdrew. */
export const WITHDRAWN_REASON = 'scope_withdrawn';

interface Affected {
  jtis: string[];
  /** Per principal, the latest `exp` of the affected tokens. */
  latest: Map<string, number>;
  count: Map<string, number>;
}

/** The unexpired, unrevoked tokens of the principals that carry a scope each lost. */
async function affectedTokens(trx: Transaction<Database>, lost: Map<string, string[]>, now: number): Promise<Affected> {
  const out: Affected = { jtis: [], latest: new Map(), count: new Map() };
  const principals = [...lost.keys()];
  for (let i = 0; i < principals.length; i += CHUNK) {
    const rows = await trx
      .selectFrom('tokens')
      .select(['jti', 'sub', 'scope', 'exp'])
      .where('sub', 'in', principals.slice(i, i + CHUNK))
      .where('revoked_at', 'is', null)
      .where('exp', '>', now)
      .execute();
    for (const r of rows) {
      const scopes = lost.get(r.sub) ?? [];
      if (!r.scope.split(' ').some((s) => scopes.includes(s))) continue;
      const exp = Number(r.exp);
      out.jtis.push(r.jti);
      out.count.set(r.sub, (out.count.get(r.sub) ?? 0) + 1);
      if (exp > (out.latest.get(r.sub) ?? 0)) out.latest.set(r.sub, exp);
    }
  }
  return out;
}
