/** `jitgate revoke`: ends someone's grant at once, with a reason. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage } from './client/failure.js';
import { describeGrant } from './client/grant-text.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import type { GrantView } from './client/types.js';

interface RevokeFlags {
  server?: string;
  reason?: string;
  json?: boolean;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('revoke').description('end a grant at once: every token it put scopes into stops working').argument('<grant-id>', 'grant id'))
    .option('--reason <text>', 'why (required; recorded in the audit log)')
    .option('--json', 'print the grant as JSON')
    .addHelpText(
      'after',
      `
Revocation takes effect immediately at introspection and at every gateway.
To give up your own grant early, use jitgate release instead.

Example:
  $ jitgate revoke 01J… --reason "incident closed; access no longer needed"

Exit status: 0 revoked, 1 not (already over, not allowed, not found).`,
    )
    .action(
      action(io, async (id: string, flags: RevokeFlags) => {
        const reason = flags.reason?.trim();
        if (!reason) throw usage('--reason "…" is required: revocations are audited with their reason');
        const session = openSession(flags, io);
        const grant = await session.api.post<GrantView>(`/grants/${encodeURIComponent(id)}/revoke`, { reason });
        io.out(flags.json ? json(grant) : describeGrant(grant, io.nowMs()));
      }),
    );
}
