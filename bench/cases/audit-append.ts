/**
 * audit_append: events appended to the hash chain on SQLite the way the
 * server appends them: concurrent callers each waiting for their event to
 * be durable, every event offered in one turn going into one chain append,
 * group-committed by the write batcher.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../../src/store/open.js';
import { WriteBatcher } from '../../src/store/write-batcher.js';
import { AuditLog } from '../../src/audit/log.js';
import { BatchedAuditAppender } from '../../src/audit/batch-append.js';
import { verifyStore } from '../../src/audit/verify-store.js';
import { systemClock } from '../../src/util/clock.js';
import { summarize } from '../lib/percentiles.js';
import { sampleEvent } from '../lib/audit-seed.js';
import type { InProcessCase, InProcessFigures, MeasureSettings } from '../lib/types.js';

const TARGET = 20_000;

async function measure(settings: MeasureSettings, log: (line: string) => void): Promise<InProcessFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-append-'));
  const store = await openStore(`sqlite:${join(dir, 'audit.db')}`);
  const writer = new WriteBatcher<unknown>(store);
  const audit = new AuditLog(store, systemClock);
  const appender = new BatchedAuditAppender(writer, audit);
  try {
    let next = 0;
    let phaseEnd = 0;
    let measuring = false;
    const latUs: number[] = [];
    let errors = 0;
    const worker = async () => {
      while (performance.now() < phaseEnd) {
        const t = performance.now();
        try {
          await appender.append(sampleEvent(++next));
          if (measuring) latUs.push((performance.now() - t) * 1000);
        } catch {
          if (measuring) errors++;
        }
      }
    };
    const phase = async (seconds: number) => {
      phaseEnd = performance.now() + seconds * 1000;
      await Promise.all(Array.from({ length: settings.connections }, worker));
    };
    if (settings.warmupS > 0) await phase(settings.warmupS);
    const before = { ...writer.stats, events: next };
    measuring = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await phase(settings.durationS);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    measuring = false;
    const txs = writer.stats.batches - before.batches;
    await writer.close();
    log('verifying the chain written');
    const check = await verifyStore(store);
    if (!check.ok) throw new Error(`the appended chain does not verify: ${check.problem?.reason}`);
    const us = summarize(latUs);
    const count = latUs.length;
    return {
      rate: count / (wallMs / 1000),
      p50Ms: us.p50 / 1000,
      p90Ms: us.p90 / 1000,
      p99Ms: us.p99 / 1000,
      maxMs: us.max / 1000,
      count,
      durationS: wallMs / 1000,
      errors,
      cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      describe: `${settings.connections} concurrent callers, each appending one token.issued-sized event and waiting until it is committed (SQLite, WAL, synchronous=NORMAL)`,
      facts: [
        `${(count / Math.max(1, txs)).toFixed(1)} events per transaction on average (${txs.toLocaleString('en-US')} transactions)`,
        `the ${check.events.toLocaleString('en-US')} events written verify (${(check.duration_ms / 1000).toFixed(1)} s); database ${(statSync(join(dir, 'audit.db')).size / 2 ** 20).toFixed(0)} MiB`,
        'latency is from offering an event to its commit',
      ],
    };
  } finally {
    await writer.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const auditAppend: InProcessCase = {
  kind: 'in-process',
  name: 'audit_append',
  label: 'jitgate audit append (SQLite, in-process)',
  unit: 'event',
  target: { kind: 'absolute', min: TARGET },
  summary:
    'Appending to the audit hash chain on SQLite through the AuditLog and the write batcher, batched the way the server ' +
    'batches: concurrent callers (one per connection setting) each offer an event and wait for its commit; the events ' +
    'offered in one turn of the event loop go into one chain append (canonical JSON, SHA-256, one multi-row INSERT, the ' +
    `head row updated) and the batcher group-commits them. Target: at least ${TARGET.toLocaleString('en-US')} events/s.`,
  measure,
};
