import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { limitParam } from './body.js';
import { Problem, forbidden } from '../problem.js';
import { AUDIT_SCOPE } from '../../access/actor.js';
import { listAlerts } from '../../alerts/alert-store.js';
import { ALERT_TYPES, isAlertType } from '../../alerts/alert.js';

/** GET /api/v1/alerts?after=&type=&limit=: stored alerts, oldest first, for holders of jitgate:audit. */
export function registerAlertRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/alerts', async (req) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(AUDIT_SCOPE)) throw forbidden(`reading alerts needs the ${AUDIT_SCOPE} scope`, { scope: AUDIT_SCOPE });
    const q = req.query as Record<string, string | undefined>;
    let after: number | undefined;
    if (q.after !== undefined) {
      after = Number(q.after);
      if (q.after === '' || !Number.isSafeInteger(after) || after < 0) throw new Problem(400, 'query_invalid', 'after must be a whole number (the seq of the last alert read)');
    }
    if (q.type !== undefined && !isAlertType(q.type)) throw new Problem(400, 'query_invalid', `type is one of ${ALERT_TYPES.join(', ')}`);
    const limit = limitParam(q.limit, 50, 500);
    const items = await listAlerts(ctx.store.db, { after, type: q.type, limit });
    // A full page may have more behind it: `next` is the cursor for ?after=.
    return { items, next: items.length === limit ? items[items.length - 1]!.seq : null };
  });
}
