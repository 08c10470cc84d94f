/**
 * Retention: removing the oldest events once they are exported. The chain
 * can only be cut at a signed checkpoint, so what stays still verifies: its
 * first event links to that checkpoint's hash, and an `audit.pruned` event
 * appended in the same transaction records the cut, so a prefix removed any
 * other way shows as missing.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Store } from '../store/open.js';
import type { Database } from '../store/schema.js';
import { JitgateError } from '../util/errors.js';
import { appendAuditEvents } from './append.js';
import { checkCheckpoints } from './chain-verifier.js';
import { exportAudit } from './export.js';
import { storedPublicKeys, type PublicKeySet } from './public-keys.js';
import { PRUNED_EVENT, type PrunedEventData } from './prune-records.js';
import { verifyStore, type VerifyProgress } from './verify-store.js';

export interface PruneOptions {
  /** Remove events before this seq, down to the nearest signed checkpoint. */
  beforeSeq: number;
  /** Where the removed events are exported first (JSONL); must not exist yet. */
  exportPath: string;
  /** Epoch ms. */
  nowMs: number;
  keys?: PublicKeySet;
  onProgress?: (line: string) => void;
}

export interface PruneResult {
  /** Events up to and including this seq were removed. */
  through_seq: number;
  events: number;
  export_file: string;
  export_sha256: string;
}

/**
 * Exports, then removes, the events up to the last valid checkpoint before
 * `beforeSeq`. Refuses (`audit_prune_refused`) when the chain does not
 * verify: removing events from a chain that is already broken would destroy
 * the evidence.
 */
export async function pruneAudit(store: Store, opts: PruneOptions): Promise<PruneResult> {
  const { db } = store;
  if (!Number.isSafeInteger(opts.beforeSeq) || opts.beforeSeq < 2) {
    throw new JitgateError('usage', '--before must be a seq of 2 or more');
  }
  const keys = opts.keys ?? (await storedPublicKeys(db));
  const stored = await db
    .selectFrom('audit_checkpoints')
    .select(['seq', 'hash', 'jws'])
    .where('seq', '<', opts.beforeSeq)
    .orderBy('seq', 'desc')
    .limit(50)
    .execute();
  const cut = checkCheckpoints(
    stored.map((c) => ({ seq: Number(c.seq), hash: c.hash, jws: c.jws })),
    keys.keys,
  )
    .filter((c) => c.valid)
    .at(-1);
  if (!cut) {
    throw new JitgateError('audit_prune_no_checkpoint', `no valid signed checkpoint before seq ${opts.beforeSeq}: nothing can be removed yet`);
  }
  const first = await db.selectFrom('audit_events').select('seq').orderBy('seq').limit(1).executeTakeFirst();
  if (!first || Number(first.seq) > cut.seq) {
    throw new JitgateError('audit_prune_nothing', `events up to seq ${cut.seq} are already removed`);
  }

  opts.onProgress?.(`verifying the chain before removing anything`);
  const report = await verifyStore(store, {
    keys,
    onProgress: (p: VerifyProgress) => opts.onProgress?.(`verified ${p.events.toLocaleString('en-US')} events`),
  });
  if (!report.ok) {
    throw new JitgateError(
      'audit_prune_refused',
      `the audit chain does not verify (seq ${report.problem!.seq}: ${report.problem!.reason}); nothing was removed`,
    );
  }

  opts.onProgress?.(`exporting events ${Number(first.seq)}..${cut.seq} to ${opts.exportPath}`);
  const sha256 = await exportToFile(store, opts.exportPath, cut.seq, opts.nowMs);

  let removed = 0;
  await db.transaction().execute(async (trx) => {
    // The head first: appenders take it first too, so nobody waits on us while holding it.
    await lockHead(trx, store.dialect);
    removed = await deleteThrough(trx, store.dialect, cut.seq);
    const data: PrunedEventData = {
      through_seq: cut.seq,
      checkpoint_hash: cut.hash,
      events: removed,
      export_sha256: sha256,
      export_file: basename(opts.exportPath),
    };
    await appendAuditEvents(trx, store.dialect, [{ type: PRUNED_EVENT, actor: null, subject: null, data: { ...data } }], opts.nowMs);
  });
  return { through_seq: cut.seq, events: removed, export_file: opts.exportPath, export_sha256: sha256 };
}

async function exportToFile(store: Store, path: string, throughSeq: number, nowMs: number): Promise<string> {
  const partial = `${path}.partial`;
  let file: FileHandle;
  try {
    // Exclusive create: an earlier export is never overwritten.
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new JitgateError('audit_export_exists', `${path} exists already; choose another --export file`);
    }
    throw err;
  }
  await file.close();
  const digest = createHash('sha256');
  // Hashes exactly the bytes that reach the file.
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      digest.update(chunk);
      done(null, chunk);
    },
  });
  try {
    const written = pipeline(hasher, createWriteStream(partial, { flags: 'w', mode: 0o600 }));
    await exportAudit(store, hasher, { format: 'jsonl', throughSeq, nowMs });
    hasher.end();
    await written;
    const fh = await open(partial, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Only a complete, synced export takes the name the removal record points to.
    await rename(partial, path);
  } catch (err) {
    hasher.destroy();
    await rm(partial, { force: true });
    await rm(path, { force: true });
    throw err;
  }
  return digest.digest('hex');
}

async function lockHead(trx: Transaction<Database>, dialect: Store['dialect']): Promise<void> {
  // SQLite: the transaction began IMMEDIATE and holds the write lock already.
  if (dialect === 'postgres') await sql`select seq from audit_head where id = 1 for update`.execute(trx);
}

/** Deletes events through `seq` with the append-only trigger lifted for this transaction only. */
async function deleteThrough(trx: Kysely<Database>, dialect: Store['dialect'], seq: number): Promise<number> {
  if (dialect === 'postgres') {
    // Transactional: other sessions never see the trigger disabled, and the
    // table lock it takes holds off other writers of audit_events until commit.
    await sql`alter table audit_events disable trigger audit_events_append_only`.execute(trx);
    const res = await trx.deleteFrom('audit_events').where('seq', '<=', seq).executeTakeFirst();
    await sql`alter table audit_events enable trigger audit_events_append_only`.execute(trx);
    return Number(res.numDeletedRows);
  }
  const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where type = 'trigger' and name = 'audit_events_no_delete'`.execute(trx);
  const definition = rows[0]?.sql;
  if (!definition) throw new JitgateError('audit_trigger_missing', 'the append-only trigger audit_events_no_delete is missing: the database was altered');
  await sql`drop trigger audit_events_no_delete`.execute(trx);
  const res = await trx.deleteFrom('audit_events').where('seq', '<=', seq).executeTakeFirst();
  await sql.raw(definition).execute(trx);
  return Number(res.numDeletedRows);
}
