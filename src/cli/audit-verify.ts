/** `jitgate audit verify`: recomputes the audit chain and checks its signed checkpoints. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openStoreForReading } from './open-for-reading.js';
import { JitgateError } from '../util/errors.js';
import { publicKeysFromJwksText } from '../audit/public-keys.js';
import { verifyStore, type VerifyProgress, type VerifyRun } from '../audit/verify-store.js';
import { verifyExportFile } from '../audit/verify-file.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';
import { count, processAuditIo, writeText, type AuditCliIo } from './audit-io.js';

interface VerifyFlags {
  db?: string;
  file?: string;
  keys?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The report for people: one verdict line, then what backs it. */
export function describeRun(run: VerifyRun): string {
  const lines: string[] = [];
  const range = run.first_seq === null ? 'no events' : `${count(run.events)} events, seq ${count(run.first_seq)}..${count(run.last_seq ?? run.first_seq)}`;
  if (run.ok) {
    lines.push(`audit chain OK: ${range}`);
  } else {
    const p = run.problem!;
    lines.push(`audit chain BROKEN at seq ${count(p.seq)}${p.through !== null && p.through !== p.seq ? `..${count(p.through)}` : ''} (${p.kind}): ${p.reason}`);
    lines.push(`  read before stopping: ${range}`);
  }
  const cp = run.checkpoints;
  lines.push(
    `  checkpoints: ${count(cp.valid)} of ${count(cp.total)} valid` +
      (cp.last_valid_seq !== null ? `, last valid at seq ${count(cp.last_valid_seq)}` : '') +
      (cp.kids.length ? `, signed by ${cp.kids.join(', ')}` : ''),
  );
  if (run.anchor) lines.push(`  starts from the signed checkpoint at seq ${count(run.anchor.seq)} (earlier events were pruned or are not in this export)`);
  if (run.unsigned_tail) {
    lines.push(`  events ${count(run.unsigned_tail.from)}..${count(run.unsigned_tail.to)} are consistent but not yet covered by a signed checkpoint`);
  }
  lines.push(`  keys: ${run.keys.kids.length} trusted from ${run.keys.source}`);
  for (const r of run.keys.rejected) lines.push(`  key ${r.kid} ignored: ${r.reason}`);
  lines.push(`  ${run.source}, ${(run.duration_ms / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

export function register(audit: Command, io: AuditCliIo = processAuditIo): void {
  audit
    .command('verify')
    .description('recompute the audit hash chain and check its signed checkpoints (public keys only, no KEK)')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--file <export.jsonl>', 'verify a JSONL export instead of the database')
    .option('--keys <jwks.json>', 'trust only these public keys (a copy of the server JWKS kept apart from the database)')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress lines on stderr')
    .addHelpText(
      'after',
      `
Exits 0 when the chain verifies and 1 when it does not (the first bad seq and
why are printed) or when it cannot be read. Examples:
  $ jitgate audit verify --db postgres://auditor@db/jitgate
  $ jitgate audit verify --file audit-2026-q1.jsonl --keys jwks-pinned.json --json`,
    )
    .action(async (flags: VerifyFlags) => {
      if (flags.db !== undefined && flags.file !== undefined) {
        throw new JitgateError('usage', 'give --db or --file, not both');
      }
      const keys = flags.keys ? publicKeysFromJwksText(await readKeys(flags.keys), flags.keys) : undefined;
      const onProgress = flags.quiet
        ? undefined
        : (p: VerifyProgress) => {
            const rate = p.events / (p.elapsedMs / 1000);
            io.err(`verifying: ${count(p.events)} events, at seq ${count(p.lastSeq)}${p.headSeq > p.lastSeq ? ` of ${count(p.headSeq)}` : ''} (${count(Math.round(rate))}/s)\n`);
          };
      let run: VerifyRun;
      if (flags.file !== undefined) {
        run = await verifyExportFile(flags.file, { keys, onProgress });
      } else {
        const store = await openStoreForReading(resolveDbUrl(flags.db, io.env));
        try {
          run = await verifyStore(store, { keys, onProgress });
        } finally {
          await store.close();
        }
      }
      await writeText(io.stdout, flags.json ? `${JSON.stringify(run, null, 2)}\n` : describeRun(run));
      if (!run.ok) process.exitCode = 1;
    });
}

async function readKeys(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new JitgateError('audit_keys_invalid', `cannot read ${path}: ${(err as Error).message}`);
  }
}
