/** `jitgate grants`: lists grants, the time windows that put elevated scopes into tokens. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage } from './client/failure.js';
import { GRANT_COLUMNS, grantRow } from './client/grant-text.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import { renderTable } from './client/table.js';
import { GRANT_STATUSES, type GrantStatus, type GrantView, type ListView } from './client/types.js';

interface GrantsFlags {
  server?: string;
  status?: string;
  principal?: string;
  json?: boolean;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('grants').description('list grants: who holds which elevated scopes, and until when'))
    .option('--status <status>', `only grants in this status: ${GRANT_STATUSES.join(', ')}`)
    .option('--principal <principal>', 'only grants of this principal (user:alice, client:ci)')
    .option('--json', 'print the server’s answer ({"items": […]}) as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ jitgate grants --status active
  ID    PRINCIPAL   SCOPES       RESOURCE                 STATUS  STARTS                      ENDS                        NOTES
  01J…  user:alice  deploy:prod  https://deploy.internal  active  2026-03-02 14:10Z (5m ago)  2026-03-02 14:40Z (in 25m)  -
  $ jitgate grants --principal user:alice --json | jq '.items[] | {id, status}'

End a grant early with jitgate release ID (your own) or jitgate revoke ID --reason "…".

Exit status: 0 listed (even when nothing matched), 1 not.`,
    )
    .action(
      action(io, async (flags: GrantsFlags) => {
        if (flags.status !== undefined && !GRANT_STATUSES.includes(flags.status as GrantStatus)) {
          throw usage(`--status must be one of ${GRANT_STATUSES.join(', ')} (got "${flags.status}")`);
        }
        const session = openSession(flags, io);
        const answer = await session.api.get<ListView<GrantView>>('/grants', { status: flags.status, principal: flags.principal });
        if (flags.json) {
          io.out(json(answer));
          return;
        }
        const items = answer?.items ?? [];
        if (items.length === 0) {
          io.out(`no ${flags.status ? `${flags.status} ` : ''}grants${flags.principal ? ` of ${flags.principal}` : ''}\n`);
          return;
        }
        const now = io.nowMs();
        io.out(renderTable(GRANT_COLUMNS, items.map((g) => grantRow(g, now)), { width: io.columns }));
      }),
    );
}
