/**
 * `jitgate usage`: which principal used which scope where, as the gateways
 * report it; with `--unused`, the standing and requestable scopes of the
 * policy in force that nobody used in a window — the input of an access review.
 */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { usage as usageError } from './client/failure.js';
import { formatRelative, instantMs, parseDurationFlag } from './client/duration.js';
import { json, withServer } from './client/options.js';
import { openSession } from './client/session.js';
import { renderTable } from './client/table.js';
import { printable } from './client/terminal-text.js';
import { parseInstant } from '../audit/time-window.js';
import type { UsageView } from '../usage/usage-store.js';

interface UsageFlags {
  server?: string;
  principal?: string;
  scope?: string;
  resource?: string;
  since?: string;
  unused?: string;
  json?: boolean;
}

/** A row of `GET /api/v1/usage` (the server's view type; a type-only import). */
type UsageItem = UsageView;

/** A row of `GET /api/v1/usage/unused`. */
interface UnusedItem {
  principal: string;
  scope: string;
  kind: 'baseline' | 'eligible';
  last_used_at: string | null;
  observed: boolean;
}

const USAGE_COLUMNS = [{ header: 'principal' }, { header: 'scope' }, { header: 'resource', shrink: true }, { header: 'count' }, { header: 'first used' }, { header: 'last used' }];
const UNUSED_COLUMNS = [{ header: 'principal' }, { header: 'scope' }, { header: 'kind' }, { header: 'last used' }, { header: 'notes', shrink: true }];

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(program.command('usage').description('scope usage seen by the gateways; --unused: held or eligible scopes nobody used (access reviews)'))
    .option('--principal <principal>', 'only this principal (user:alice, client:ci)')
    .option('--scope <scope>', 'only this scope')
    .option('--resource <audience>', 'only this resource (not with --unused: unused is over every resource)')
    .option('--since <when>', 'only usage at or after this: a duration ago (7d, 12h), a date or an RFC 3339 time')
    .option('--unused <window>', 'list baseline and eligible scopes with no use in this window (30d, 90d)')
    .option('--json', 'print the server’s answer ({"items": […]}) as JSON')
    .addHelpText(
      'after',
      `
Needs a login whose token carries jitgate:audit.

Examples:
  $ jitgate usage --since 7d
  PRINCIPAL   SCOPE         RESOURCE                  COUNT  FIRST USED          LAST USED
  user:alice  read:billing  https://billing.internal  42     2026-03-01 09:12Z   2026-03-02 14:10Z (5m ago)
  $ jitgate usage --unused 30d
  PRINCIPAL        SCOPE        KIND      LAST USED                 NOTES
  user:bob         read:logs    baseline  never                     -
  user:bob         deploy:prod  eligible  2026-01-03 10:00Z (58d ago)  -
  $ jitgate usage --unused 90d --json | jq '.items[] | select(.kind == "baseline")'

Usage is what the gateways forwarded: scopes used only at jitgate's own API
or at resources no gateway serves are never recorded; --unused marks them
"not observed".

Exit status: 0 listed (even when nothing matched), 1 not.`,
    )
    .action(
      action(io, async (flags: UsageFlags) => {
        if (flags.unused !== undefined) {
          if (flags.since !== undefined) throw usageError('--since and --unused do not go together: --unused names its own window');
          if (flags.resource !== undefined) throw usageError('--unused covers every resource; leave out --resource');
          parseDurationFlag(flags.unused, '--unused');
        }
        if (flags.since !== undefined) {
          try {
            parseInstant(flags.since, '--since', io.nowMs());
          } catch (err) {
            throw usageError((err as Error).message);
          }
        }
        const session = openSession(flags, io);
        const now = io.nowMs();
        if (flags.unused !== undefined) {
          const answer = await session.api.get<{ since: string; items: UnusedItem[] }>('/usage/unused', {
            for: flags.unused.trim(),
            principal: flags.principal,
            scope: flags.scope,
          });
          if (flags.json) return void io.out(json(answer));
          const items = answer?.items ?? [];
          if (items.length === 0) return void io.out(`every baseline and eligible scope was used in the last ${printable(flags.unused)}\n`);
          io.out(renderTable(UNUSED_COLUMNS, items.map((u) => [u.principal, u.scope, u.kind, u.last_used_at ? when(u.last_used_at, now) : 'never', u.observed ? '-' : 'not observed: no gateway route needs it']), { width: io.columns }));
          return;
        }
        const answer = await session.api.get<{ items: UsageItem[] }>('/usage', {
          principal: flags.principal,
          scope: flags.scope,
          resource: flags.resource,
          since: flags.since?.trim(),
        });
        if (flags.json) return void io.out(json(answer));
        const items = answer?.items ?? [];
        if (items.length === 0) return void io.out(`no usage recorded${flags.since ? ` since ${printable(flags.since)}` : ''}\n`);
        io.out(renderTable(USAGE_COLUMNS, items.map((u) => [u.principal, u.scope, u.resource, String(u.count), when(u.first_used_at, now, false), when(u.last_used_at, now)]), { width: io.columns }));
      }),
    );
}

/** `2026-03-02 14:10Z (5m ago)`. */
function when(iso: string, nowMs: number, relative = true): string {
  const ms = instantMs(iso);
  if (ms === null) return printable(iso);
  const at = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
  return relative ? `${at} (${formatRelative(ms, nowMs)})` : at;
}
