/** `jitgate request`: asks for elevated scopes, and with --wait follows the request until it is decided. */
import type { Command } from 'commander';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { checkTimestampFlag, parseDurationFlag } from './client/duration.js';
import { CliFailure, EXIT, usage } from './client/failure.js';
import { collect, json, splitScopes, withServer } from './client/options.js';
import { describeRequest, outcomeLine, waitStatus } from './client/request-text.js';
import { openSession, type Session } from './client/session.js';
import { StatusLine } from './client/spinner.js';
import { list, printable } from './client/terminal-text.js';
import type { AccessRequestView } from './client/types.js';

/** How often --wait asks the server. */
export const POLL_INTERVAL_MS = 1000;
/** How long --wait keeps trying through a server that cannot be reached before it gives up. */
export const UNREACHABLE_PATIENCE_MS = 60_000;

export interface RequestFlags {
  server?: string;
  bundle?: string;
  resource?: string;
  for?: string;
  reason?: string;
  ticket?: string;
  startsAt?: string;
  context?: string[];
  wait?: boolean;
  json?: boolean;
}

/** The body of `POST /api/v1/requests` the flags stand for; refuses what the server would refuse for sure. */
export function buildRequestBody(scopeArgs: readonly string[], flags: RequestFlags): Record<string, unknown> {
  const scopes = splitScopes(scopeArgs);
  if (scopes.length > 0 && flags.bundle) throw usage('ask for scopes or for a --bundle, not both');
  if (scopes.length === 0 && !flags.bundle) {
    throw usage('name the scopes to request (jitgate request deploy:prod …) or a --bundle', '  jitgate me lists what you may request');
  }
  if (flags.for === undefined) throw usage('--for DURATION is required: how long you need the access (30m, 1h, 1h30m)');
  const duration = parseDurationFlag(flags.for, '--for');
  const reason = flags.reason?.trim();
  if (!reason) throw usage('--reason "…" is required: say in a sentence why you need the access');
  const context: Record<string, string> = {};
  for (const kv of flags.context ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw usage(`--context "${kv}" must be key=value`);
    const key = kv.slice(0, eq);
    if (key in context) throw usage(`--context ${key} is given twice`);
    context[key] = kv.slice(eq + 1);
  }
  return {
    scopes: scopes.length > 0 ? scopes : undefined,
    bundle: flags.bundle,
    resource: flags.resource,
    duration,
    reason,
    ticket: flags.ticket?.trim() || undefined,
    starts_at: flags.startsAt === undefined ? undefined : checkTimestampFlag(flags.startsAt, '--starts-at'),
    context: Object.keys(context).length > 0 ? context : undefined,
  };
}

/** 0 when the request stands (pending or approved), 2 when it ended without approval. */
export function requestExitCode(req: AccessRequestView): number {
  return req.status === 'pending' || req.status === 'approved' ? EXIT.ok : EXIT.notApproved;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(
    program
      .command('request')
      .description('ask for elevated scopes for a while, with a reason; --wait follows it until it is decided')
      .argument('[scopes...]', 'scopes to request (or use --bundle)'),
  )
    .option('--bundle <name>', 'request every scope of a bundle')
    .option('--resource <uri>', 'the API (audience URI) the access is for; may be left out when only one accepts the scopes')
    .option('--for <duration>', 'how long the access lasts once it begins: 30m, 1h, 1h30m, or seconds')
    .option('--reason <text>', 'why you need it, in a sentence (approvers and the audit log see it)')
    .option('--ticket <id>', 'change or incident ticket, where a scope requires one (OPS-1234)')
    .option('--starts-at <time>', 'scheduled access: begin no earlier than this RFC 3339 time (2026-03-02T09:00:00Z)')
    .option('--context <key=value>', 'a fact for the policy’s conditions (repeatable)', collect)
    .option('--wait', 'wait until the request is approved, denied or expires')
    .option('--json', 'print the access request as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ jitgate request deploy:prod --for 30m --reason "roll back the 14:02 release" --ticket OPS-1234 --wait
  ⠋ waiting for approval: stage 1/2 (sre-leads) · 0:42
  approved: grant 01J… (active) for deploy:prod from 2026-03-02T14:10:00Z (now) until 2026-03-02T14:40:00Z (in 30m)
  $ jitgate request --bundle incident-response --for 1h --reason "INC-88: checkout is down" --ticket INC-88
  $ jitgate request read:billing --resource https://billing.internal --for 2h --reason "reconcile March invoices"
  $ jitgate request deploy:prod --for 15m --reason "nightly deploy job" --context branch=main --json | jq -r .id

Approvers see the request with: jitgate requests --to-approve. Once approved,
use the access with: jitgate exec --scope SCOPE -- CMD, or jitgate token --scope SCOPE.

Ctrl-C while waiting stops waiting; the request stays pending (cancel it with
jitgate cancel ID).

Exit status: 0 the request is pending (without --wait) or approved; 2 it was
denied, expired or cancelled; 1 it could not be filed; 130 interrupted while waiting.`,
    )
    .action(
      action(io, async (scopeArgs: string[], flags: RequestFlags) => {
        const body = buildRequestBody(scopeArgs, flags);
        const session = openSession(flags, io);
        const created = await session.api.post<AccessRequestView>('/requests', body);
        if (!flags.wait || created.status !== 'pending') {
          io.out(flags.json ? json(created) : describeRequest(created, io.nowMs()));
          if (!flags.json) io.err(nextStep(created, io.nowMs()));
          return requestExitCode(created);
        }
        if (!flags.json) io.out(describeRequest(created, io.nowMs()));
        const final = await waitForDecision(session, created, io);
        if (final === null) return EXIT.interrupted;
        if (flags.json) io.out(json(final));
        else {
          io.out(`${outcomeLine(final, io.nowMs())}\n`);
          if (final.status === 'approved') io.err(nextStep(final, io.nowMs()));
        }
        return requestExitCode(final);
      }),
    );
}

/** What to do next, on stderr so that stdout stays the request itself. */
function nextStep(req: AccessRequestView, nowMs: number): string {
  switch (req.status) {
    case 'pending':
      return `waiting for approval; follow it with: jitgate requests --mine (cancel: jitgate cancel ${printable(req.id)})\n`;
    case 'approved': {
      const resource = req.resource ? ` --resource ${printable(req.resource)}` : '';
      return `use it: jitgate exec --scope ${list(req.scopes).replace(/, /g, ' ')}${resource} -- CMD…\n`;
    }
    default:
      return `${outcomeLine(req, nowMs)}\n`;
  }
}

/**
 * Polls the request until it leaves `pending`. Returns null when interrupted
 * (Ctrl-C): the request stays pending, and the person is told how to cancel.
 */
async function waitForDecision(session: Session, created: AccessRequestView, io: CliIo): Promise<AccessRequestView | null> {
  const abort = new AbortController();
  const stopListening = io.onSignal('SIGINT', () => abort.abort());
  const status = new StatusLine(io);
  const stillPending = [
    `  the request ${printable(created.id)} is still pending`,
    `  see it: jitgate requests --mine    cancel it: jitgate cancel ${printable(created.id)}`,
  ];
  let current = created;
  let unreachableSince: number | null = null;
  try {
    while (current.status === 'pending') {
      status.set(unreachableSince === null ? waitStatus(current) : `${waitStatus(current)} (server unreachable, retrying)`);
      await io.sleep(POLL_INTERVAL_MS, abort.signal);
      // Each poll renews the access token with the refresh token when it runs
      // out; a login that cannot be renewed fails below as login_expired.
      try {
        current = await session.api.get<AccessRequestView>(`/requests/${encodeURIComponent(created.id)}`, {}, abort.signal);
        unreachableSince = null;
      } catch (err) {
        if (abort.signal.aborted) throw err;
        if (err instanceof CliFailure && err.code === 'server_unreachable') {
          unreachableSince ??= io.nowMs();
          if (io.nowMs() - unreachableSince < UNREACHABLE_PATIENCE_MS) continue;
        }
        if (err instanceof CliFailure) throw new CliFailure(err.code, [...err.lines, ...stillPending], err.exitCode);
        throw err;
      }
    }
    return current;
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    status.stop();
    io.err(`stopped waiting\n${stillPending.join('\n')}\n`);
    return null;
  } finally {
    status.stop();
    stopListening();
  }
}
