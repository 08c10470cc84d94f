import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { parseRequestRow } from './stored-request.js';
import { recordTimePassing } from './request-service.js';
import { grantEventsBetween } from './grant-status.js';
import { grantRecordOf } from './stored-grant.js';
import { auditRecordOf } from './audit-mapping.js';

const CURSOR_KEY = 'sweeper.grants_recorded_until';

/**
 * Writes down what time did: requests that escalated or expired, grants
 * that started or ended. Status never depends on it (every check computes
 * it from time); it only records events, so a sweep that runs late loses
 * nothing. Several nodes may sweep: the grant range is claimed with a
 * compare-and-set on a cursor, and request writes are version-checked.
 */
export async function sweepOnce(ctx: ServerContext): Promise<{ requests: number; grantEvents: number }> {
  const now = nowS(ctx.clock);
  let requests = 0;
  const pending = await ctx.store.db.selectFrom('access_requests').selectAll().where('status', '=', 'pending').orderBy('created_at').limit(500).execute();
  for (const row of pending) if (await recordTimePassing(ctx, parseRequestRow(row))) requests++;

  const cursor = await ctx.store.db.selectFrom('meta').select('value').where('key', '=', CURSOR_KEY).executeTakeFirst();
  const since = cursor ? Number(cursor.value) : 0;
  if (since >= now) return { requests, grantEvents: 0 };
  const grants = await ctx.store.db
    .selectFrom('grants')
    .selectAll()
    .where((eb) => eb.or([eb.and([eb('starts_at', '>', since), eb('starts_at', '<=', now)]), eb.and([eb('ends_at', '>', since), eb('ends_at', '<=', now)])]))
    .execute();
  // Events at creation were recorded by the writer (grant.created and any start already due).
  const events = grants.flatMap((g) =>
    grantEventsBetween(grantRecordOf(g), Math.max(since, g.created_at), now).map((e) => auditRecordOf(e, g.principal)),
  );
  const claimed = await ctx.audit.transact(async (trx, append) => {
    const res = cursor
      ? await trx.updateTable('meta').set({ value: String(now) }).where('key', '=', CURSOR_KEY).where('value', '=', cursor.value).executeTakeFirst()
      : await trx.insertInto('meta').values({ key: CURSOR_KEY, value: String(now) }).onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst();
    const n = 'numUpdatedRows' in res ? Number(res.numUpdatedRows) : Number(res.numInsertedOrUpdatedRows ?? 0n);
    if (n !== 1) return false;
    events.sort((a, b) => (a.atMs ?? 0) - (b.atMs ?? 0));
    await append(events);
    return true;
  });
  return { requests, grantEvents: claimed ? events.length : 0 };
}

/** Runs the sweep every `intervalMs` until stopped. */
export function startSweeper(ctx: ServerContext, intervalMs = 15_000): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOnce(ctx)
      .catch((err) => ctx.log.error({ err }, 'sweep failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
