/** `jitgate exec`: runs one command with an elevated token, then gives the grant back. */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { elevatedToken } from './client/elevate.js';
import { CliFailure, renderFailure, usage } from './client/failure.js';
import { readClaims } from './client/jwt-claims.js';
import { splitScopes, withServer } from './client/options.js';
import { openSession, type Session } from './client/session.js';

interface ExecFlags {
  server?: string;
  scope?: string[];
  resource?: string;
  release: boolean;
}

/** Signals passed on to the command, so `kill` and terminal signals reach it while jitgate waits. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** How a command ended, as a shell reports it: its exit code, or 128 + the signal that killed it. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return code ?? 1;
}

export function register(program: Command, io: CliIo = processIo()): void {
  withServer(
    program
      .command('exec')
      .description('run a command with an elevated token in JITGATE_TOKEN, then release the grant')
      .argument('[command...]', 'the command and its arguments, after --'),
  )
    .option('--scope <scopes...>', 'scopes the token must carry')
    .option('--resource <uri>', 'the API (audience URI) the token is for')
    .option('--no-release', 'keep the grant when the command ends (it still ends at its window’s end)')
    .addHelpText(
      'after',
      `
The command runs with standard input, output and error inherited and
JITGATE_TOKEN set; signals sent to jitgate (Ctrl-C, kill) are passed on to it.
When it ends, the grant behind the token is released, so the scopes stop
working at once, and jitgate exits with the command's exit status (128 + the
signal number when a signal killed it).

Examples:
  $ jitgate exec --scope deploy:prod --resource https://deploy.internal -- ./deploy.sh v1.4.2
  $ jitgate exec --scope read:billing --resource https://billing.internal -- \\
      sh -c 'curl -H "Authorization: Bearer $JITGATE_TOKEN" https://billing.internal/invoices/42'

Exit status: the command's; 1 when no token could be had (nothing ran);
126/127 when the command could not be run.`,
    )
    .action(
      action(io, async (command: string[], flags: ExecFlags) => {
        const [file, ...args] = command;
        if (!file) throw usage('name the command to run after --: jitgate exec --scope SCOPE -- CMD ARGS…');
        const scopes = splitScopes(flags.scope);
        const session = openSession(flags, io);
        const issued = await elevatedToken(io, session, scopes, flags.resource);
        const grants = readClaims(issued.access_token).grants;
        try {
          return await run(io, file, args, issued.access_token);
        } finally {
          // Also when the command could not even start: the grant was taken for it either way.
          if (flags.release) await releaseAll(io, session, grants);
        }
      }),
    );
}

/** Runs the command to its end, forwarding signals; resolves with its exit status. */
async function run(io: CliIo, file: string, args: string[], token: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...io.env, JITGATE_TOKEN: token };
  // The identity provider's token is for logging in to jitgate, not for the command.
  delete env.JITGATE_ID_TOKEN;
  const child = spawn(file, args, { stdio: 'inherit', env });
  const stops = FORWARDED.map((sig) =>
    io.onSignal(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    }),
  );
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        const notFound = err.code === 'ENOENT';
        reject(
          new CliFailure(
            notFound ? 'command_not_found' : 'command_failed',
            `cannot run ${file}: ${notFound ? 'command not found' : err.message}`,
            notFound ? 127 : 126,
          ),
        );
      });
      child.once('exit', (code, signal) => resolve(exitStatusOf(code, signal)));
    });
  } finally {
    for (const stop of stops) stop();
  }
}

/** Releases the grants behind the token; a failure is reported but does not change the command's exit status. */
async function releaseAll(io: CliIo, session: Session, grants: string[]): Promise<void> {
  for (const id of grants) {
    try {
      await session.api.post(`/grants/${encodeURIComponent(id)}/release`);
    } catch (err) {
      if (err instanceof CliFailure && err.code === 'grant_not_live') continue; // it ended on its own already
      io.err(renderFailure(err));
      io.err(`jitgate: grant ${id} was not released; it stays live until its end (release it: jitgate release ${id})\n`);
    }
  }
}
