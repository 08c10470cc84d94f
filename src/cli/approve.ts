/** `jitgate approve`, `jitgate deny`, `jitgate cancel`: decide or withdraw a pending access request. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage } from './client/failure.js';
import { json, withServer } from './client/options.js';
import { describeRequest } from './client/request-text.js';
import { openSession } from './client/session.js';
import type { AccessRequestView } from './client/types.js';

interface DecideFlags {
  server?: string;
  comment?: string;
  reason?: string;
  json?: boolean;
}

const EXIT_HELP = '\nExit status: 0 done (the request as it now stands is printed), 1 refused or failed.';

export function register(program: Command, io: CliIo = processIo()): void {
  /** The verb's action: `bodyOf` builds the JSON body from the flags, refusing bad ones before anything is sent. */
  const transition = (verb: 'approve' | 'deny' | 'cancel', bodyOf: (flags: DecideFlags) => Record<string, unknown>) =>
    action(io, async (id: string, flags: DecideFlags) => {
      const body = bodyOf(flags);
      const session = openSession(flags, io);
      const req = await session.api.post<AccessRequestView>(`/requests/${encodeURIComponent(id)}/${verb}`, body);
      io.out(flags.json ? json(req) : describeRequest(req, io.nowMs()));
    });

  withServer(program.command('approve').description('approve a pending access request (its current stage)').argument('<id>', 'request id'))
    .option('--comment <text>', 'a note for the requester and the audit log')
    .option('--json', 'print the request as JSON')
    .addHelpText(
      'after',
      `
Only members of the current stage's approver groups (or, after its timeout,
its escalation groups) may approve; nobody approves their own request, and
each stage of a chain needs a different person. Scopes that need MFA may ask
you for a fresh MFA login first.

Examples:
  $ jitgate requests --to-approve
  $ jitgate approve 01J… --comment "matches OPS-1234"${EXIT_HELP}`,
    )
    .action(transition('approve', (flags) => ({ comment: flags.comment?.trim() || undefined })));

  withServer(program.command('deny').description('deny a pending access request, with a reason the requester sees').argument('<id>', 'request id'))
    .option('--reason <text>', 'why (required)')
    .option('--json', 'print the request as JSON')
    .addHelpText(
      'after',
      `
One denial denies the whole request. Requesters cannot deny their own
request: they cancel it.

Example:
  $ jitgate deny 01J… --reason "use the staging cluster for this"${EXIT_HELP}`,
    )
    .action(
      transition('deny', (flags) => {
        const reason = flags.reason?.trim();
        if (!reason) throw usage('--reason "…" is required: the requester is told why');
        return { reason };
      }),
    );

  withServer(program.command('cancel').description('withdraw your own pending access request').argument('<id>', 'request id'))
    .option('--json', 'print the request as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ jitgate cancel 01J…${EXIT_HELP}`,
    )
    .action(transition('cancel', () => ({})));
}
