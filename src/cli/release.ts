/** `jitgate release`: gives up your own grant before it ends. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { describeGrant } from './client/grant-text.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import type { GrantView } from './client/types.js';

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('release').description('give up your own grant early, when the work is done').argument('<grant-id>', 'grant id'))
    .option('--json', 'print the grant as JSON')
    .addHelpText(
      'after',
      `
Tokens that carry the grant's scopes stop working at once. jitgate exec
releases its grant by itself when the command ends.

Example:
  $ jitgate grants --principal user:alice --status active
  $ jitgate release 01J…

Exit status: 0 released, 1 not (not yours, already over, not found).`,
    )
    .action(
      action(io, async (id: string, flags: { server?: string; json?: boolean }) => {
        const session = openSession(flags, io);
        const grant = await session.api.post<GrantView>(`/grants/${encodeURIComponent(id)}/release`);
        io.out(flags.json ? json(grant) : describeGrant(grant, io.nowMs()));
      }),
    );
}
