import type { Store } from './open.js';

/** How long expired rows are kept (1 day): long enough to tell "expired" from "unknown" while debugging. */
export const DEFAULT_PRUNE_GRACE_S = 86_400;
const DEFAULT_CHUNK = 2000;

/** Options of {@link pruneExpired}. */
export interface PruneOptions {
  /** Keep rows this many seconds past their `exp` (default 1 day). */
  graceS?: number;
  /** Rows deleted per statement (default 2000). */
  chunk?: number;
}

/**
 * Deletes tokens and client assertions whose `exp` is older than
 * `now - graceS` (`now` in epoch seconds). Safe to skip or delay: an expired
 * token is inactive at introspection whether or not its row exists, a
 * replayed client assertion fails its own `exp` check, and the audit log
 * keeps the history. Deletes in chunks so no single statement holds the
 * write lock long enough to stall token issuance.
 */
export async function pruneExpired(
  store: Store,
  now: number,
  opts: PruneOptions = {},
): Promise<{ tokens: number; clientAssertions: number }> {
  const cutoff = now - (opts.graceS ?? DEFAULT_PRUNE_GRACE_S);
  const chunk = Math.max(1, opts.chunk ?? DEFAULT_CHUNK);
  const { db } = store;

  let tokens = 0;
  for (;;) {
    const r = await db
      .deleteFrom('tokens')
      .where('jti', 'in', db.selectFrom('tokens').select('jti').where('exp', '<', cutoff).limit(chunk))
      .executeTakeFirst();
    const n = Number(r.numDeletedRows);
    tokens += n;
    if (n < chunk) break;
  }

  let clientAssertions = 0;
  for (;;) {
    const r = await db
      .deleteFrom('client_assertions')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('client_id', 'jti'),
          'in',
          selectFrom('client_assertions')
            .select(['client_id', 'jti'])
            .where('exp', '<', cutoff)
            .limit(chunk)
            .$asTuple('client_id', 'jti'),
        ),
      )
      .executeTakeFirst();
    const n = Number(r.numDeletedRows);
    clientAssertions += n;
    if (n < chunk) break;
  }

  return { tokens, clientAssertions };
}
