/**
 * audit_export: `jitgate audit export` of a long chain to a JSONL file,
 * with the process's memory watched: streaming by keyset pages with
 * backpressure keeps it flat whatever the number of events.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { openStore, type Store } from '../../src/store/open.js';
import { exportAudit } from '../../src/audit/export.js';
import { verifyExportFile } from '../../src/audit/verify-file.js';
import { auditBenchEvents, seededAuditDb, SEED_T0_MS } from '../lib/audit-seed.js';
import type { InProcessCase, InProcessFigures, MeasureSettings } from '../lib/types.js';

const MIB = 2 ** 20;

interface ExportRun {
  events: number;
  ms: number;
  /** Largest RSS sampled during the export, and how far above the RSS at its start. */
  peakRssMiB: number;
  growthMiB: number;
  bytes: number;
}

async function exportOnce(store: Store, path: string, untilMs: number | null): Promise<ExportRun> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const out = createWriteStream(path);
    const t = performance.now();
    const s = await exportAudit(store, out, { format: 'jsonl', nowMs: Date.now(), untilMs });
    out.end();
    await finished(out);
    const ms = performance.now() - t;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { events: s.events, ms, peakRssMiB: peak / MIB, growthMiB: (peak - start) / MIB, bytes: statSync(path).size };
  } finally {
    clearInterval(timer);
  }
}

async function measure(settings: MeasureSettings, log: (line: string) => void): Promise<InProcessFigures> {
  const n = auditBenchEvents(settings);
  log(`seeding ${n.toLocaleString('en-US')} events`);
  const { url } = await seededAuditDb(n);
  const store = await openStore(url, { migrate: false, checkpointer: false });
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-export-'));
  try {
    // A tenth of the chain first (the seeded events are a second apart): the figure to compare the full export's memory with.
    const tenth = await exportOnce(store, join(dir, 'tenth.jsonl'), SEED_T0_MS + (n / 10) * 1000 + 500);
    log(`exported ${tenth.events.toLocaleString('en-US')} events, peak RSS ${tenth.peakRssMiB.toFixed(0)} MiB`);
    const cpu0 = process.cpuUsage();
    const full = await exportOnce(store, join(dir, 'full.jsonl'), null);
    const cpu = process.cpuUsage(cpu0);
    log(`exported ${full.events.toLocaleString('en-US')} events, peak RSS ${full.peakRssMiB.toFixed(0)} MiB`);
    const check = await verifyExportFile(join(dir, 'full.jsonl'));
    const errors = full.events === n && check.ok ? 0 : 1;
    return {
      rate: full.events / (full.ms / 1000),
      p50Ms: full.ms,
      p90Ms: full.ms,
      p99Ms: full.ms,
      maxMs: full.ms,
      count: full.events,
      durationS: full.ms / 1000,
      errors,
      cpuPct: ((cpu.user + cpu.system) / 1000 / full.ms) * 100,
      describe: `exportAudit() of ${n.toLocaleString('en-US')} events from SQLite to a JSONL file, one run`,
      facts: [
        `peak RSS ${full.peakRssMiB.toFixed(0)} MiB for ${full.events.toLocaleString('en-US')} events (${full.growthMiB.toFixed(1)} MiB above its start); ` +
          `${tenth.peakRssMiB.toFixed(0)} MiB for ${tenth.events.toLocaleString('en-US')} (${tenth.growthMiB.toFixed(1)} MiB above its start)`,
        `file ${(full.bytes / MIB).toFixed(0)} MiB with ${check.checkpoints.total.toLocaleString('en-US')} checkpoints; ` +
          `it verifies on its own: ${check.ok ? 'yes' : `no (${check.problem?.reason})`} in ${(check.duration_ms / 1000).toFixed(1)} s`,
        'the latency columns are the one whole export',
      ],
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const auditExport: InProcessCase = {
  kind: 'in-process',
  name: 'audit_export',
  label: 'jitgate audit export (SQLite, in-process)',
  unit: 'event',
  summary:
    'Exporting the audit chain as `jitgate audit export --format jsonl` does: events read in keyset pages by seq with their ' +
    'checkpoints, written in 64 KiB chunks that wait for the file stream to drain. 1,000,000 events at full length ' +
    '(200,000 with --quick), after a tenth of them as a comparison: the peak RSS of the two shows whether memory stays flat.',
  measure,
};
