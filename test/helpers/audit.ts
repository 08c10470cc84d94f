/**
 * Audit chains for tests: real events appended through the AuditLog, real
 * checkpoints signed by a real keyring, and the moves of an attacker with
 * write access to the database (triggers dropped, rows edited).
 */
import { sql } from 'kysely';
import type { Store } from '../../src/store/open.js';
import { AuditLog } from '../../src/audit/log.js';
import { writeCheckpoint } from '../../src/audit/checkpointer.js';
import { Keyring } from '../../src/tokens/keyring.js';
import { Kek } from '../../src/tokens/kek.js';
import { FrozenClock } from '../../src/util/clock.js';
import { locate } from './databases.js';

export const T0_MS = Date.parse('2026-11-24T09:00:00Z');
export const ISSUER = 'https://jit.test';

export interface SeededChain {
  keyring: Keyring;
  audit: AuditLog;
  clock: FrozenClock;
  /** Appends `n` more events in transactions of `perTx`, signing a checkpoint after every `checkpointEvery`. */
  append(n: number): Promise<void>;
}

/**
 * A chain in `store`: `events` events, a second apart, in transactions of
 * up to 7, with a checkpoint after every `checkpointEvery` events (at the
 * head as committed then, so checkpoints fall where transactions end).
 */
export async function seedChain(store: Store, opts: { events: number; checkpointEvery: number }): Promise<SeededChain> {
  const clock = new FrozenClock(T0_MS);
  const keyring = await Keyring.open(store, Kek.generate(), { now: () => Math.floor(clock.nowMs() / 1000) });
  const audit = new AuditLog(store, clock);
  let appended = 0;
  let sinceCheckpoint = 0;
  const append = async (n: number) => {
    let left = n;
    while (left > 0) {
      const batch = Math.min(left, 1 + (appended % 7));
      await audit.transact(async (_trx, add) => {
        await add(
          Array.from({ length: batch }, (_, i) => {
            const k = appended + i + 1;
            return {
              type: k % 3 === 0 ? 'grant.started' : 'token.issued',
              actor: k % 3 === 0 ? null : 'client:ci-pipeline',
              subject: `user:u${k % 5}`,
              data: { n: k, scopes: ['read:logs'], note: `event ${k}` },
            };
          }),
        );
      });
      appended += batch;
      sinceCheckpoint += batch;
      left -= batch;
      clock.advance(1);
      if (sinceCheckpoint >= opts.checkpointEvery) {
        await writeCheckpoint(store.db, keyring.signer(), ISSUER, clock.nowMs());
        sinceCheckpoint = 0;
      }
    }
  };
  await append(opts.events);
  return { keyring, audit, clock, append };
}

/** What an attacker with write access does first. */
export async function dropAppendOnlyTriggers(store: Store): Promise<void> {
  if (store.dialect === 'postgres') {
    await sql`drop trigger audit_events_append_only on audit_events`.execute(store.db);
    await sql`drop trigger audit_checkpoints_append_only on audit_checkpoints`.execute(store.db);
  } else {
    for (const t of ['audit_events_no_update', 'audit_events_no_delete', 'audit_checkpoints_no_update', 'audit_checkpoints_no_delete']) {
      await sql.raw(`drop trigger ${t}`).execute(store.db);
    }
  }
}

/** The seqs of the stored checkpoints, in order. */
export async function checkpointSeqs(store: Store): Promise<number[]> {
  const rows = await store.db.selectFrom('audit_checkpoints').select('seq').orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

/**
 * A URL another process can open `store`'s database with: the SQLite file,
 * or the PostgreSQL URL with the store's schema as its search_path.
 */
export function childDbUrl(store: Store): string {
  const { url, pgSchema } = locate(store);
  if (!pgSchema) return url;
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${pgSchema}`);
  return u.toString();
}
