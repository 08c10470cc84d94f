/** `jitgate revoke`: ends someone's grant, or everything a principal holds, at once, with a reason. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage } from './client/failure.js';
import { describeGrant } from './client/grant-text.js';
import { revokedCounts } from './client/revocation-text.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import type { GrantView } from './client/types.js';

interface RevokeFlags {
  server?: string;
  reason?: string;
  principal?: string;
  json?: boolean;
}

/** What POST /principals/{principal}/revoke answers. */
interface PrincipalRevocationView {
  principal: string;
  at: string;
  tokens: number;
  grants: number;
  refresh_families: number;
  sessions: number;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(
    program
      .command('revoke')
      .description('end a grant at once (every token it put scopes into stops working), or with --principal everything a principal holds')
      .argument('[grant-id]', 'grant id'),
  )
    .option('--principal <principal>', 'instead of one grant: every token, grant, refresh token and login session of user:<id> or client:<id> (needs jitgate:admin)')
    .option('--reason <text>', 'why (required; recorded in the audit log)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Revocation takes effect immediately at introspection and at every gateway.
To give up your own grant early, use jitgate release instead. Revoking a
principal ends what it holds now; a principal still in the policy can log in
and ask again afterwards (remove it from the policy, or remove the local
user, to keep it out).

Examples:
  $ jitgate revoke 01J… --reason "incident closed; access no longer needed"
  $ jitgate revoke --principal user:mallory --reason "laptop reported stolen"

Exit status: 0 revoked, 1 not (already over, not allowed, not found).`,
    )
    .action(
      action(io, async (id: string | undefined, flags: RevokeFlags) => {
        const reason = flags.reason?.trim();
        if (!reason) throw usage('--reason "…" is required: revocations are audited with their reason');
        if ((id === undefined) === (flags.principal === undefined)) throw usage('name a grant id or --principal, not both and not neither');
        const session = openSession(flags, io);
        if (flags.principal !== undefined) {
          const done = await session.api.post<PrincipalRevocationView>(`/principals/${encodeURIComponent(flags.principal)}/revoke`, { reason });
          io.out(
            flags.json
              ? json(done)
              : `revoked ${done.principal} at ${done.at}: ${revokedCounts(done)}`,
          );
          return;
        }
        const grant = await session.api.post<GrantView>(`/grants/${encodeURIComponent(id!)}/revoke`, { reason });
        io.out(flags.json ? json(grant) : describeGrant(grant, io.nowMs()));
      }),
    );
}
