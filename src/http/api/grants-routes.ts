import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { objectBody, optionalText, onlyKeys, limitParam } from './body.js';
import { Problem } from '../problem.js';
import { idParam, principalParam } from './params.js';
import { listGrants, revoke, release, review } from '../../access/grant-service.js';

/** GET /api/v1/grants, revoke, release, and the break-glass review. */
export function registerGrantRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/grants', async (req) => {
    const actor = await authenticate(ctx, req);
    const q = req.query as Record<string, string | undefined>;
    if (q.review !== undefined && !['none', 'pending', 'done'].includes(q.review)) {
      throw new Problem(400, 'query_invalid', 'review must be none, pending or done');
    }
    const items = await listGrants(ctx, actor, { status: q.status, principal: principalParam(q.principal), review: q.review, limit: limitParam(q.limit) });
    return { items };
  });

  api.post('/grants/:id/revoke', async (req) => {
    const actor = await authenticate(ctx, req);
    const body = objectBody(req.body);
    onlyKeys(body, ['reason']);
    const reason = optionalText(body, 'reason');
    if (!reason?.trim()) throw new Problem(422, 'reason_required', 'say why the grant is revoked');
    return revoke(ctx, actor, idParam(req.params, 'grant'), reason);
  });

  api.post('/grants/:id/release', async (req) => {
    const actor = await authenticate(ctx, req);
    onlyKeys(objectBody(req.body), []);
    return release(ctx, actor, idParam(req.params, 'grant'));
  });

  api.post('/grants/:id/review', async (req) => {
    const actor = await authenticate(ctx, req);
    const body = objectBody(req.body);
    onlyKeys(body, ['note']);
    return review(ctx, actor, idParam(req.params, 'grant'), optionalText(body, 'note'));
  });
}
