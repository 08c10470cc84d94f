/** `jitgate audit report`: who held a scope, when, for how long, approved by whom, and why. */
import type { Command } from 'commander';
import { openStoreForReading } from './open-for-reading.js';
import { JitgateError } from '../util/errors.js';
import { scopeReport } from '../audit/scope-report.js';
import { renderReport, type ReportFormat } from '../audit/report-format.js';
import { parseInstant } from '../audit/time-window.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';
import { processAuditIo, writeText, type AuditCliIo } from './audit-io.js';

interface ReportFlags {
  db?: string;
  scope: string;
  since: string;
  until: string;
  format: string;
  json?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function register(audit: Command, io: AuditCliIo = processAuditIo): void {
  audit
    .command('report')
    .description('who held a scope in a window: when, how long, approved by whom, reason and ticket')
    .requiredOption('--scope <scope>', 'the scope, e.g. deploy:prod')
    .option('--since <when>', 'window start: 90d (ago), 2026-03-01, 2026-03-01T09:00:00Z', '90d')
    .option('--until <when>', 'window end (same forms)', 'now')
    .option('--format <table|csv|markdown>', 'output form', 'table')
    .option('--json', 'print the holdings as JSON (overrides --format)')
    .option('--db <url>', DB_OPTION_HELP)
    .addHelpText(
      'after',
      `
Covers every just-in-time grant of the scope that was live in the window;
standing access (group baselines, policy exceptions) is in the policy file.
  $ jitgate audit report --scope deploy:prod --since 90d
  $ jitgate audit report --scope admin:billing --since 2026-01-01 --until 2026-04-01 --format markdown > q1.md`,
    )
    .action(async (flags: ReportFlags) => {
      const format = flags.format as ReportFormat;
      if (!['table', 'csv', 'markdown'].includes(format)) {
        throw new JitgateError('usage', `--format must be table, csv or markdown (got "${flags.format}")`);
      }
      const nowMs = io.nowMs();
      const sinceMs = parseInstant(flags.since, '--since', nowMs);
      const untilMs = parseInstant(flags.until, '--until', nowMs);
      if (untilMs <= sinceMs) throw new JitgateError('usage', '--until must be after --since');
      const store = await openStoreForReading(resolveDbUrl(flags.db, io.env));
      try {
        const holdings = await scopeReport(store, {
          scope: flags.scope,
          sinceS: Math.floor(sinceMs / 1000),
          untilS: Math.ceil(untilMs / 1000),
          nowS: Math.floor(nowMs / 1000),
        });
        const text = flags.json
          ? `${JSON.stringify({ scope: flags.scope, since: iso(sinceMs), until: iso(untilMs), holdings }, null, 2)}\n`
          : renderReport(holdings, format, { scope: flags.scope, since: iso(sinceMs), until: iso(untilMs) });
        await writeText(io.stdout, text);
      } finally {
        await store.close();
      }
    });
}
