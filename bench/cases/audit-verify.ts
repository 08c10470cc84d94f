/**
 * audit_verify: `jitgate audit verify` over a long chain in SQLite:
 * reading every event by seq, recomputing its hash and link, and checking
 * the signed checkpoints (one per 1,000 events).
 */
import { performance } from 'node:perf_hooks';
import { openStore } from '../../src/store/open.js';
import { verifyStore } from '../../src/audit/verify-store.js';
import { summarize } from '../lib/percentiles.js';
import { auditBenchEvents, seededAuditDb } from '../lib/audit-seed.js';
import type { InProcessCase, InProcessFigures, MeasureSettings } from '../lib/types.js';

const TARGET = 200_000;

async function measure(settings: MeasureSettings, log: (line: string) => void): Promise<InProcessFigures> {
  const n = auditBenchEvents(settings);
  log(`seeding ${n.toLocaleString('en-US')} events`);
  const { url, seedMs } = await seededAuditDb(n);
  const store = await openStore(url, { migrate: false, checkpointer: false });
  try {
    const pass = async () => {
      const r = await verifyStore(store);
      if (!r.ok || r.events !== n) throw new Error(`verification did not pass: ${JSON.stringify(r.problem)} after ${r.events} events`);
      return r;
    };
    const warmEnd = performance.now() + settings.warmupS * 1000;
    while (performance.now() < warmEnd) await pass();
    const passesMs: number[] = [];
    let checkpoints = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    do {
      const t = performance.now();
      checkpoints = (await pass()).checkpoints.valid;
      passesMs.push(performance.now() - t);
    } while (performance.now() - t0 < settings.durationS * 1000);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const s = summarize(passesMs);
    const count = passesMs.length * n;
    return {
      rate: count / (wallMs / 1000),
      p50Ms: s.p50,
      p90Ms: s.p90,
      p99Ms: s.p99,
      maxMs: s.max,
      count,
      durationS: wallMs / 1000,
      errors: 0,
      cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      describe: `verifyStore() over ${n.toLocaleString('en-US')} events and ${checkpoints.toLocaleString('en-US')} checkpoints in SQLite, whole passes back to back`,
      facts: [
        `${passesMs.length} full passes; the latency columns are of whole passes, not single events`,
        `seeded through the real append path in ${(seedMs / 1000).toFixed(0)} s (a separate process)`,
      ],
    };
  } finally {
    await store.close();
  }
}

export const auditVerify: InProcessCase = {
  kind: 'in-process',
  name: 'audit_verify',
  label: 'jitgate audit verify (SQLite, in-process)',
  unit: 'event',
  target: { kind: 'absolute', min: TARGET },
  summary:
    'Verifying the audit chain stored in SQLite as `jitgate audit verify` does: events read in keyset pages of 5,000 by seq, ' +
    'each hash recomputed over its canonical JSON and its link to the previous one checked, and every signed checkpoint ' +
    '(ES256, one per 1,000 events) verified and matched. 1,000,000 events at full length (200,000 with --quick). ' +
    `Target: at least ${TARGET.toLocaleString('en-US')} events/s.`,
  measure,
};
