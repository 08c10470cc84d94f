import type { Command } from 'commander';

export const SERVER_HELP = 'jitgate server URL (env JITGATE_SERVER; default: the server logged in to last)';

/** Adds `--server URL` to a verb that talks to a server. */
export function withServer(cmd: Command): Command {
  return cmd.option('--server <url>', SERVER_HELP);
}

/** Commander collector for a repeatable option (`--context a=1 --context b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Scopes from `--scope a b`, `--scope a,b` or `--scope "a b"`: split, blanks dropped, duplicates dropped, order kept. */
export function splitScopes(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) for (const s of v.split(/[\s,]+/)) if (s && !out.includes(s)) out.push(s);
  return out;
}

/** Pretty JSON with a final newline, for `--json`. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
