/** `jitgate audit export`: the audit log as JSONL (verifiable on its own) or CSV, streamed. */
import { open, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { openStoreForReading } from './open-for-reading.js';
import { JitgateError } from '../util/errors.js';
import { exportAudit, type ExportSummary } from '../audit/export.js';
import type { ExportFormat } from '../audit/export-format.js';
import { parseInstant } from '../audit/time-window.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';
import { count, processAuditIo, type AuditCliIo } from './audit-io.js';

interface ExportFlags {
  db?: string;
  since?: string;
  until?: string;
  format: string;
  out?: string;
  quiet?: boolean;
}

export function register(audit: Command, io: AuditCliIo = processAuditIo): void {
  audit
    .command('export')
    .description('write the audit log as JSONL or CSV, streaming (constant memory)')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--since <when>', 'from the first event at or after: 90d (ago), 2026-03-01, 2026-03-01T09:00:00Z')
    .option('--until <when>', 'to the last event before this instant (same forms)')
    .option('--format <jsonl|csv>', 'jsonl carries the checkpoints and public keys and verifies on its own', 'jsonl')
    .option('--out <file>', 'write here (created; never overwritten) instead of standard output')
    .option('--quiet', 'no progress lines on stderr')
    .addHelpText(
      'after',
      `
The export is a contiguous stretch of the chain, so it verifies on its own:
  $ jitgate audit export --since 90d --out audit.jsonl
  $ jitgate audit verify --file audit.jsonl
  $ jitgate audit export --since 2026-01-01 --until 2026-04-01 --format csv > q1.csv`,
    )
    .action(async (flags: ExportFlags) => {
      const format = flags.format as ExportFormat;
      if (format !== 'jsonl' && format !== 'csv') throw new JitgateError('usage', `--format must be jsonl or csv (got "${flags.format}")`);
      const nowMs = io.nowMs();
      const sinceMs = flags.since !== undefined ? parseInstant(flags.since, '--since', nowMs) : null;
      const untilMs = flags.until !== undefined ? parseInstant(flags.until, '--until', nowMs) : null;
      const store = await openStoreForReading(resolveDbUrl(flags.db, io.env));
      let file: Writable | null = null;
      try {
        if (flags.out !== undefined) {
          // Exclusive create: an earlier export is never overwritten.
          const handle = await open(flags.out, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
            if (err.code === 'EEXIST') throw new JitgateError('audit_export_exists', `${flags.out} exists already; the export never overwrites a file`);
            throw err;
          });
          file = handle.createWriteStream();
        }
        const out = file ?? io.stdout;
        let lastReport = Date.now();
        const summary: ExportSummary = await exportAudit(store, out, {
          format,
          sinceMs,
          untilMs,
          nowMs,
          onProgress: (events, seq) => {
            if (flags.quiet || Date.now() - lastReport < 1000) return;
            lastReport = Date.now();
            io.err(`exporting: ${count(events)} events, at seq ${count(seq)}\n`);
          },
        });
        if (file) {
          file.end();
          await finished(file);
        }
        const range = summary.first_seq === null ? '' : ` (seq ${count(summary.first_seq)}..${count(summary.last_seq ?? summary.first_seq)})`;
        if (!flags.quiet || file) {
          io.err(`exported ${count(summary.events)} events${range}${format === 'jsonl' ? ` and ${count(summary.checkpoints)} checkpoints` : ''}${flags.out ? ` to ${flags.out}` : ''}\n`);
        }
      } catch (err) {
        if (file) {
          // Ours (created above): a half-written export must not pass for a whole one.
          file.destroy();
          await rm(flags.out!, { force: true });
        }
        throw err;
      } finally {
        await store.close();
      }
    });
}
