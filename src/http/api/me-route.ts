import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { baselineScopes } from '../../access/entitlements.js';
import { eligibleScopes } from '../../access/eligibility.js';
import { liveGrantsOf } from '../../access/grant-rows.js';
import { grantView } from '../../access/views.js';
import { nowS } from '../../util/clock.js';

/** GET /api/v1/me: who the caller is and what they hold or may ask for. */
export function registerMeRoute(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/me', async (req) => {
    const actor = await authenticate(ctx, req);
    const policy = ctx.policy.current;
    const now = nowS(ctx.clock);
    const eligible = eligibleScopes(policy, actor.principal, now);
    const grants = await liveGrantsOf(ctx.store.db, actor.principal, now);
    return {
      principal: actor.principal,
      client_id: actor.clientId,
      groups: policy.groupsOf.get(actor.principal) ?? [],
      baseline: [...baselineScopes(policy, actor.principal)].sort(),
      eligible: { scopes: [...eligible.scopes].sort(), bundles: eligible.bundles },
      token_scopes: [...actor.scopes].sort(),
      grants: grants.map((g) => grantView(g, now)),
    };
  });
}
