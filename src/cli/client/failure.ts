import { JitgateError } from '../../util/errors.js';

/** Exit statuses of the requester/approver verbs (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** What was asked did not happen: refused, unreachable, bad arguments, not logged in. */
  failed: 1,
  /** The access request ended without approval: denied, expired or cancelled. */
  notApproved: 2,
  /** Interrupted (Ctrl-C) while waiting; 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;

/**
 * A verb could not do what was asked. `lines` are printed to stderr, the
 * first as `jitgate: <line>`, the rest as they are (hints, indented extras);
 * `exitCode` becomes the process's exit status.
 */
export class CliFailure extends JitgateError {
  readonly lines: string[];
  readonly exitCode: number;

  constructor(code: string, lines: string[] | string, exitCode: number = EXIT.failed) {
    const all = typeof lines === 'string' ? [lines] : lines;
    super(code, all.join('\n'));
    this.name = 'CliFailure';
    this.lines = all;
    this.exitCode = exitCode;
  }
}

/** Bad or missing arguments, found before anything was sent. */
export const usage = (message: string, ...hints: string[]) => new CliFailure('usage', [message, ...hints]);

/** The text a failure prints on stderr. */
export function renderFailure(err: unknown): string {
  if (err instanceof CliFailure) {
    const [first = 'failed', ...rest] = err.lines;
    return `jitgate: ${first}\n${rest.map((l) => `${l}\n`).join('')}`;
  }
  if (err instanceof JitgateError) return `jitgate: ${err.message} [${err.code}]\n`;
  const e = err as { message?: string };
  return `jitgate: ${e.message ?? String(err)}\n`;
}
