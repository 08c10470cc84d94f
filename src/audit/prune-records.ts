import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** The event that records a retention prune, appended in the prune's own transaction. */
export const PRUNED_EVENT = 'audit.pruned';

/** What an `audit.pruned` event's data holds. */
export interface PrunedEventData {
  /** Every event up to and including this seq was removed. */
  through_seq: number;
  /** The hash of that last removed event, which a signed checkpoint vouches for. */
  checkpoint_hash: string;
  /** Events removed by this prune. */
  events: number;
  /** SHA-256 hex of the export file written before the removal, and its name. */
  export_sha256: string;
  export_file: string;
}

/**
 * The highest seq a recorded prune removed events through, 0 when none: a
 * chain starting later than one past it has lost events nobody accounted for.
 */
export async function prunedThrough(db: Kysely<Database>): Promise<number> {
  const rows = await db.selectFrom('audit_events').select('data').where('type', '=', PRUNED_EVENT).execute();
  let max = 0;
  for (const r of rows) {
    try {
      const through = (JSON.parse(r.data) as Partial<PrunedEventData>).through_seq;
      if (typeof through === 'number' && Number.isSafeInteger(through) && through > max) max = through;
    } catch {
      // An unreadable record counts for nothing; the chain check reports the altered row.
    }
  }
  return max;
}
