/**
 * Verifying the chain in the database: reads the public keys, checkpoints
 * and chain head, then every event in seq order, page by page, through the
 * pure {@link ChainVerifier}. Needs read access only, never the KEK.
 */
import { performance } from 'node:perf_hooks';
import type { Store } from '../store/open.js';
import { ChainVerifier, type VerifyReport } from './chain-verifier.js';
import { storedPublicKeys, type PublicKeySet } from './public-keys.js';
import { prunedThrough } from './prune-records.js';
import { eventPages } from './event-pages.js';

/** How far a long run has got, for progress lines. */
export interface VerifyProgress {
  events: number;
  lastSeq: number;
  /** The last seq known when the run started. */
  headSeq: number;
  elapsedMs: number;
}

export interface VerifyStoreOptions {
  /** Trusted keys; the database's own public keys when left out. */
  keys?: PublicKeySet;
  /** Events per read (default 5000). */
  pageSize?: number;
  onProgress?: (p: VerifyProgress) => void;
  /** Milliseconds between progress calls (default 1000). */
  progressEveryMs?: number;
}

/** A verification report with where it ran and with which keys. */
export interface VerifyRun extends VerifyReport {
  source: string;
  keys: { source: string; kids: string[]; rejected: { kid: string; reason: string }[] };
  duration_ms: number;
}

/** Verifies the whole chain stored in `store`. */
export async function verifyStore(store: Store, opts: VerifyStoreOptions = {}): Promise<VerifyRun> {
  const started = performance.now();
  const { db } = store;
  const keys = opts.keys ?? (await storedPublicKeys(db));
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  const checkpoints = await db.selectFrom('audit_checkpoints').select(['seq', 'hash', 'jws']).orderBy('seq').execute();
  const pruned = await prunedThrough(db);
  const headSeq = head ? Number(head.seq) : 0;

  const verifier = new ChainVerifier({
    keys: keys.keys,
    checkpoints: checkpoints.map((c) => ({ seq: Number(c.seq), hash: c.hash, jws: c.jws })),
    expectedFirstSeq: pruned + 1,
    anchorRequired: true,
    head: head ? { seq: headSeq, hash: head.hash } : null,
  });

  const pageSize = Math.max(1, opts.pageSize ?? 5000);
  const every = opts.progressEveryMs ?? 1000;
  let lastProgress = started;
  let lastSeq = 0;
  for await (const page of eventPages(store, 0, pageSize)) {
    for (const e of page) {
      verifier.push(e);
      if (verifier.failed) break;
    }
    if (verifier.failed) break;
    lastSeq = page[page.length - 1]!.seq;
    const now = performance.now();
    if (opts.onProgress && now - lastProgress >= every) {
      lastProgress = now;
      opts.onProgress({ events: verifier.events, lastSeq, headSeq, elapsedMs: now - started });
    }
  }
  const report = verifier.finish();
  return {
    ...report,
    source: `database ${store.display}`,
    keys: { source: keys.source, kids: [...keys.keys.keys()], rejected: [...keys.rejected] },
    duration_ms: Math.round(performance.now() - started),
  };
}
