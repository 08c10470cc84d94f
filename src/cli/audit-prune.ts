/** `jitgate audit prune`: retention; exports, then removes, the oldest events up to a signed checkpoint. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openStore } from '../store/open.js';
import { JitgateError } from '../util/errors.js';
import { pruneAudit } from '../audit/prune.js';
import { publicKeysFromJwksText } from '../audit/public-keys.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';
import { count, processAuditIo, writeText, type AuditCliIo } from './audit-io.js';

interface PruneFlags {
  db?: string;
  before: string;
  export: string;
  keys?: string;
  json?: boolean;
}

export function register(audit: Command, io: AuditCliIo = processAuditIo): void {
  audit
    .command('prune')
    .description('export, then remove, the events before a seq, cut at the signed checkpoint before it')
    .requiredOption('--before <seq>', 'remove events before this seq (down to the last signed checkpoint below it)')
    .requiredOption('--export <file>', 'JSONL file the removed events are written to first (must not exist)')
    .option('--keys <jwks.json>', 'trust only these public keys when checking the checkpoints')
    .option('--json', 'print {"through_seq", "events", "export_file", "export_sha256"} as JSON')
    .option('--db <url>', DB_OPTION_HELP)
    .addHelpText(
      'after',
      `
The whole chain is verified first; nothing is removed when it does not verify.
The removal and an audit.pruned event recording it (with the export's SHA-256)
commit together, and the remaining chain verifies from the checkpoint:
  $ jitgate audit prune --before 1000000 --export audit-until-1000000.jsonl
  $ jitgate audit verify --file audit-until-1000000.jsonl
  $ jitgate audit verify`,
    )
    .action(async (flags: PruneFlags) => {
      if (!/^\d+$/.test(flags.before)) throw new JitgateError('usage', `--before must be a seq (a whole number), got "${flags.before}"`);
      const keys = flags.keys ? publicKeysFromJwksText(await readFile(flags.keys, 'utf8'), flags.keys) : undefined;
      const store = await openStore(resolveDbUrl(flags.db, io.env), { checkpointer: false });
      try {
        const result = await pruneAudit(store, {
          beforeSeq: Number(flags.before),
          exportPath: flags.export,
          nowMs: io.nowMs(),
          keys,
          onProgress: (line) => io.err(`${line}\n`),
        });
        await writeText(
          io.stdout,
          flags.json
            ? `${JSON.stringify(result)}\n`
            : `removed ${count(result.events)} events through seq ${count(result.through_seq)}; exported to ${result.export_file} (sha256 ${result.export_sha256})\n`,
        );
      } finally {
        await store.close();
      }
    });
}
