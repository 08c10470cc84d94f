/** `jitgate token`: prints a short-lived token carrying elevated scopes a live grant covers. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { elevatedToken } from './client/elevate.js';
import { json, splitScopes, withServer } from './client/options.js';
import { openSession } from './client/session.js';

interface TokenFlags {
  server?: string;
  scope?: string[];
  resource?: string;
  json?: boolean;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('token').description('print an access token carrying elevated scopes (needs a live grant)'))
    .option('--scope <scopes...>', 'scopes the token must carry')
    .option('--resource <uri>', 'the API (audience URI) the token is for; without it the token is for jitgate’s own API')
    .option('--json', 'print the token endpoint’s whole answer (access_token, expires_in, scope) as JSON')
    .addHelpText(
      'after',
      `
Only the token is printed, so it can be captured:
  $ curl -H "Authorization: Bearer $(jitgate token --scope deploy:prod --resource https://deploy.internal)" …
  $ jitgate token --scope read:billing --resource https://billing.internal --json | jq .expires_in

The token never outlives its grant. Without a live grant for the scopes the
server's explanation is printed, with the request that would be needed.
jitgate exec -- CMD does the same for one command and releases the grant after.

Exit status: 0 printed, 1 not (no covering grant, login expired, server unreachable).`,
    )
    .action(
      action(io, async (flags: TokenFlags) => {
        const scopes = splitScopes(flags.scope);
        const session = openSession(flags, io);
        const issued = await elevatedToken(io, session, scopes, flags.resource);
        io.out(flags.json ? json(issued) : `${issued.access_token}\n`);
      }),
    );
}
