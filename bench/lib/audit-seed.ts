/**
 * Fills an SQLite database with an audit chain of N events, signed
 * checkpoints every 1,000, the way a server would have written them (each
 * event through the real append, a second apart from 2026-01-01). Runs as
 * its own process so the measuring process's memory figures start clean:
 *
 *   node --import tsx bench/lib/audit-seed.ts sqlite:/tmp/x.db 1000000
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.js';
import { appendAuditEvents, type NewAuditEvent } from '../../src/audit/append.js';
import { writeCheckpoint } from '../../src/audit/checkpointer.js';
import { Keyring } from '../../src/tokens/keyring.js';
import { Kek } from '../../src/tokens/kek.js';

/** 2026-01-01T00:00:00Z: event i happens i seconds later. */
export const SEED_T0_MS = Date.UTC(2026, 0, 1);
const PER_TX = 5000;
const CHECKPOINT_EVERY = 1000;

/** A token.issued event as the server writes it (jti, client, scopes, audience, expiry). */
export function sampleEvent(i: number): NewAuditEvent {
  return {
    type: i % 10 === 0 ? 'request.created' : 'token.issued',
    actor: 'client:ci-pipeline',
    subject: `user:u${i % 1000}`,
    data: { jti: `jti-${i.toString(36).padStart(8, '0')}`, client_id: 'ci-pipeline', scopes: ['read:logs', 'deploy:prod'], aud: 'https://deploy.internal', exp: 1_767_225_600 + i },
    atMs: SEED_T0_MS + i * 1000,
  };
}

async function seed(url: string, n: number): Promise<void> {
  const store = await openStore(url, { checkpointer: false });
  try {
    const keyring = await Keyring.open(store, Kek.generate(), { now: () => Math.floor(SEED_T0_MS / 1000) });
    for (let done = 0; done < n; ) {
      const size = Math.min(PER_TX, n - done);
      await store.db.transaction().execute(async (trx) => {
        for (let k = 0; k < size; k += CHECKPOINT_EVERY) {
          const m = Math.min(CHECKPOINT_EVERY, size - k);
          await appendAuditEvents(trx, store.dialect, Array.from({ length: m }, (_, j) => sampleEvent(done + k + j + 1)), SEED_T0_MS);
          await writeCheckpoint(trx, keyring.signer(), 'https://jitgate.bench', SEED_T0_MS + (done + k + m) * 1000);
        }
      });
      done += size;
    }
  } finally {
    await store.close();
  }
}

/** Seeds `url` with `n` events in a child process; resolves with its wall time in ms. */
export function seedAuditDb(url: string, n: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), url, String(n)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`seeding the audit chain failed (${code}): ${err.slice(-2000)}`))));
  });
}

/** How many events the audit cases work on: the stated size for full-length loads, fewer for --quick. */
export function auditBenchEvents(settings: { durationS: number }): number {
  return settings.durationS >= 15 ? 1_000_000 : 200_000;
}

let seedDir: string | null = null;
const seeded = new Map<number, Promise<{ url: string; seedMs: number }>>();

/**
 * A database seeded with `n` events, shared by the cases of one run (they
 * only read it) and removed when the process exits.
 */
export function seededAuditDb(n: number): Promise<{ url: string; seedMs: number }> {
  let entry = seeded.get(n);
  if (!entry) {
    if (seedDir === null) {
      const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-audit-'));
      seedDir = dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    const url = `sqlite:${join(seedDir, `chain-${n}.db`)}`;
    entry = seedAuditDb(url, n).then((seedMs) => ({ url, seedMs }));
    seeded.set(n, entry);
  }
  return entry;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, n] = process.argv.slice(2);
  if (!url || !Number.isSafeInteger(Number(n))) {
    process.stderr.write('usage: audit-seed.ts sqlite:PATH N\n');
    process.exit(2);
  }
  await seed(url, Number(n));
}
