import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/**
 * WAL checkpoints on a second connection in a worker thread. better-sqlite3
 * is synchronous, so an automatic checkpoint runs on the event loop of the
 * commit that triggers it (copying the WAL into the database and, with
 * synchronous=NORMAL, syncing it) and every request waits. A PASSIVE
 * checkpoint never blocks writers or readers, so doing it here keeps that
 * work off the request path. The main connection keeps a large automatic
 * threshold as a safety net should this worker stop.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** Main-connection fallback: checkpoint by itself only past this many WAL pages (~400 MiB). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 5000 });
let timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.close();
  }
});
`;

export function startCheckpointer(path: string, opts: { intervalMs?: number; onError?: (message: string) => void } = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: opts.intervalMs ?? 500 } });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) opts.onError?.(m.error);
  });
  worker.on('error', (err) => opts.onError?.(String(err)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | null = null;
  return {
    // Ref'd while stopping: an unref'd worker lets the event loop end before its exit is seen.
    stop: () => (stopping ??= (worker.ref(), worker.postMessage('stop'), exited)),
  };
}
