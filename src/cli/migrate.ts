import type { Command } from 'commander';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';

interface MigrateFlags {
  db?: string;
  json?: boolean;
}

/** `jitgate migrate [--db URL] [--json]`: applies pending database migrations. */
export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (serve also does this at start)')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--json', 'print {"database", "applied"} as JSON')
    .addHelpText(
      'after',
      `
Safe to run while servers are running or starting: concurrent runs wait for
each other and the migrations apply once.`,
    )
    .action(async (flags: MigrateFlags) => {
      const [{ migrateToLatest }, { openStore }] = await Promise.all([import('../store/migrate.js'), import('../store/open.js')]);
      const store = await openStore(resolveDbUrl(flags.db), { migrate: false, checkpointer: false });
      try {
        const { applied } = await migrateToLatest(store);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ database: store.display, applied })}\n`);
        } else if (applied.length === 0) {
          process.stdout.write(`database is up to date (${store.display})\n`);
        } else {
          for (const name of applied) process.stdout.write(`applied ${name}\n`);
          process.stdout.write(`${store.display} is up to date\n`);
        }
      } finally {
        await store.close();
      }
    });
}
