// Runs `jitgate migrate` with the given arguments in this process, the way
// src/cli/main.ts runs verbs, so tests can spawn it without the full CLI.
import { Command } from 'commander';
import { register } from '../../src/cli/migrate.js';

const program = new Command('jitgate');
register(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`jitgate: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
  process.exitCode = 1;
}
