import { Command } from 'commander';
import { registerVerbs } from './verbs.js';

const program = new Command();
program
  .name('jitgate')
  .description('Just-in-time access broker for OAuth scopes: no standing privileges.')
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false });

registerVerbs(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`jitgate: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
  process.exitCode = process.exitCode || 1;
}
