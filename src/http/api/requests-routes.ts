import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { objectBody, optionalText, onlyKeys, limitParam, boolParam } from './body.js';
import { Problem } from '../problem.js';
import { idParam } from './params.js';
import { submitRequest, getRequest, commandRequest, canSee, viewOf } from '../../access/request-service.js';
import { parseRequestRow } from '../../access/stored-request.js';
import { currentDeciders, tick, type RequestStatus } from '../../access/request-machine.js';
import { nowS } from '../../util/clock.js';

const STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

/** POST/GET /api/v1/requests and the approve, deny and cancel transitions. */
export function registerRequestRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/requests', async (req, reply) => {
    const actor = await authenticate(ctx, req);
    const view = await submitRequest(ctx, actor, objectBody(req.body, false));
    return reply.code(201).header('location', `/api/v1/requests/${view.id}`).send(view);
  });

  api.get('/requests', async (req) => {
    const actor = await authenticate(ctx, req);
    const q = req.query as Record<string, string | undefined>;
    const status = q.status as RequestStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new Problem(400, 'query_invalid', `status must be one of ${STATUSES.join(', ')}`);
    }
    const mine = boolParam(q.mine, 'mine');
    const toApprove = boolParam(q.to_approve, 'to_approve');
    const limit = limitParam(q.limit);
    const now = nowS(ctx.clock);
    const policy = ctx.policy.current;

    let sql = ctx.store.db.selectFrom('access_requests').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (mine) sql = sql.where('requester', '=', actor.principal);
    // Stored status can lag time (a pending row past its TTL reads expired), so filter on the computed one.
    if (toApprove || status === 'pending') sql = sql.where('status', '=', 'pending');
    else if (status === 'expired') sql = sql.where('status', 'in', ['pending', 'expired']);
    else if (status) sql = sql.where('status', '=', status);
    const rows = await sql.limit(1000).execute();

    const myGroups = policy.groupsOf.get(actor.principal) ?? [];
    const items: Record<string, unknown>[] = [];
    for (const row of rows) {
      const stored = parseRequestRow(row);
      const state = tick(stored.state, now).state;
      if (status && state.status !== status) continue;
      if (toApprove) {
        const deciders = currentDeciders(state);
        const alreadyApproved = state.stages.some((s) => s.approvals.some((a) => a.by === actor.principal));
        if (row.requester === actor.principal || alreadyApproved || !deciders.some((g) => myGroups.includes(g))) continue;
      } else if (!canSee(policy, actor, stored)) continue;
      items.push(await viewOf(ctx, stored));
      if (items.length >= limit) break;
    }
    return { items };
  });

  api.get('/requests/:id', async (req) => {
    const actor = await authenticate(ctx, req);
    return getRequest(ctx, actor, idParam(req.params, 'request'));
  });

  api.post('/requests/:id/approve', async (req) => {
    const actor = await authenticate(ctx, req);
    const body = objectBody(req.body);
    onlyKeys(body, ['comment']);
    return commandRequest(ctx, actor, idParam(req.params, 'request'), { kind: 'approve', comment: optionalText(body, 'comment') });
  });

  api.post('/requests/:id/deny', async (req) => {
    const actor = await authenticate(ctx, req);
    const body = objectBody(req.body);
    onlyKeys(body, ['reason']);
    const reason = optionalText(body, 'reason');
    if (!reason?.trim()) throw new Problem(422, 'reason_required', 'a denial needs a reason the requester can read');
    return commandRequest(ctx, actor, idParam(req.params, 'request'), { kind: 'deny', reason });
  });

  api.post('/requests/:id/cancel', async (req) => {
    const actor = await authenticate(ctx, req);
    onlyKeys(objectBody(req.body), []);
    return commandRequest(ctx, actor, idParam(req.params, 'request'), { kind: 'cancel' });
  });
}
