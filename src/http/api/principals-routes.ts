import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { objectBody, optionalText, onlyKeys } from './body.js';
import { Problem, forbidden } from '../problem.js';
import { PRINCIPAL } from '../../policy/names.js';
import { ADMIN_SCOPE } from '../../access/actor.js';
import { revokePrincipal } from '../../access/principal-revocation.js';

/** POST /api/v1/principals/{principal}/revoke: end everything a principal holds, at once (jitgate:admin). */
export function registerPrincipalRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/principals/:principal/revoke', async (req) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(ADMIN_SCOPE)) throw forbidden(`revoking a principal needs ${ADMIN_SCOPE}`);
    const principal = (req.params as { principal?: unknown }).principal;
    if (typeof principal !== 'string' || !PRINCIPAL.test(principal)) {
      throw new Problem(400, 'principal_invalid', 'the principal must be user:<id> or client:<id>');
    }
    const body = objectBody(req.body);
    onlyKeys(body, ['reason']);
    const reason = optionalText(body, 'reason')?.trim();
    if (!reason) throw new Problem(422, 'reason_required', 'say why the principal is revoked');
    const done = await revokePrincipal(ctx, principal, actor.principal, reason);
    ctx.log.info({ principal, by: actor.principal, tokens: done.tokens, grants: done.grants }, 'principal revoked');
    return { ...done, at: new Date(done.at * 1000).toISOString() };
  });
}
