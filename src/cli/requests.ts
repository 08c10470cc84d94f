/** `jitgate requests`: lists access requests: yours, or those waiting for your approval. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage } from './client/failure.js';
import { json, withServer } from './client/options.js';
import { REQUEST_COLUMNS, requestRow } from './client/request-text.js';
import { openSession } from './client/session.js';
import { renderTable } from './client/table.js';
import { REQUEST_STATUSES, type AccessRequestView, type ListView, type RequestStatus } from './client/types.js';

interface RequestsFlags {
  server?: string;
  status?: string;
  mine?: boolean;
  toApprove?: boolean;
  json?: boolean;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('requests').description('list access requests: yours, or those waiting for your approval'))
    .option('--status <status>', `only requests in this status: ${REQUEST_STATUSES.join(', ')}`)
    .option('--mine', 'only requests you made')
    .option('--to-approve', 'only requests you may approve or deny now')
    .option('--json', 'print the server’s answer ({"items": […]}) as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ jitgate requests --to-approve
  ID        REQUESTER   SCOPES       RESOURCE                 STATUS   AGE  WAITING ON
  01J…      user:alice  deploy:prod  https://deploy.internal  pending  2m   stage 1/2: sre-leads (0/1)
  $ jitgate requests --mine --status pending
  $ jitgate requests --to-approve --json | jq -r '.items[].id'

Exit status: 0 listed (even when nothing matched), 1 not.`,
    )
    .action(
      action(io, async (flags: RequestsFlags) => {
        if (flags.status !== undefined && !REQUEST_STATUSES.includes(flags.status as RequestStatus)) {
          throw usage(`--status must be one of ${REQUEST_STATUSES.join(', ')} (got "${flags.status}")`);
        }
        const session = openSession(flags, io);
        const answer = await session.api.get<ListView<AccessRequestView>>('/requests', {
          status: flags.status,
          mine: flags.mine ? 'true' : undefined,
          to_approve: flags.toApprove ? 'true' : undefined,
        });
        if (flags.json) {
          io.out(json(answer));
          return;
        }
        const items = answer?.items ?? [];
        if (items.length === 0) {
          io.out(`no ${flags.status ?? ''}${flags.status ? ' ' : ''}requests${flags.toApprove ? ' waiting for you' : ''}${flags.mine ? ' of yours' : ''}\n`);
          return;
        }
        const now = io.nowMs();
        io.out(renderTable(REQUEST_COLUMNS, items.map((r) => requestRow(r, now)), { width: io.columns }));
      }),
    );
}
