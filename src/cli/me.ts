/** `jitgate me`: who the server thinks you are, what you hold and what you may request. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { formatInstant } from './client/duration.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import { list, printable } from './client/terminal-text.js';
import type { MeView } from './client/types.js';

/** `me` for people: one `label  value` line each, then the live grants. */
export function describeMe(me: MeView, server: string, nowMs: number): string {
  const grants = me.grants ?? [];
  const rows: [string, string][] = [
    ['server', server],
    ['principal', printable(me.principal)],
    ['groups', list(me.groups, 'none')],
    ['baseline', list(me.baseline, 'none')],
    ['may request', list(me.eligible?.scopes, 'nothing')],
    ['bundles', list(me.eligible?.bundles, 'none')],
    ['grants', grants.length === 0 ? 'none' : ''],
  ];
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = rows.map(([l, v]) => `${l.padEnd(width)}  ${v}`.trimEnd());
  for (const g of grants) {
    lines.push(
      `  ${printable(g.id)}  ${list(g.scopes)} on ${printable(g.resource ?? '-')}  ${printable(g.status)} until ${formatInstant(g.ends_at, nowMs)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('me').description('show who you are to the server: groups, baseline scopes, what you may request, your grants'))
    .option('--json', 'print the server’s answer as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ jitgate me
  server       https://jit.example.com
  principal    user:alice
  groups       engineers
  baseline     read:logs
  may request  deploy:prod
  bundles      incident-response
  grants       none

Exit status: 0 shown, 1 not.`,
    )
    .action(
      action(io, async (flags: { server?: string; json?: boolean }) => {
        const session = openSession(flags, io);
        const me = await session.api.get<MeView>('/me');
        io.out(flags.json ? json(me) : describeMe(me, session.server, io.nowMs()));
      }),
    );
}
