/** `jitgate keys rotate|list`: the server's token-signing keys, worked on in the database. */
import type { Command } from 'commander';
import { byNewest, keyState, type SigningKeyState } from '../tokens/key-state.js';
import {
  DEFAULT_MAX_TOKEN_LIFETIME_S,
  DEFAULT_PUBLISH_DELAY_S,
  JWKS_MAX_AGE_S,
  KEYRING_REFRESH_INTERVAL_S,
} from '../tokens/key-timing.js';
import { rowTimes } from '../tokens/signing-key-material.js';
import { JitgateError } from '../util/errors.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';

/** Where the verbs write and what time it is; the process's own unless a caller (a test) says otherwise. */
export interface KeysCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Epoch seconds. */
  now: () => number;
}

const processIo: KeysCliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  now: () => Math.floor(Date.now() / 1000),
};

interface RotateFlags {
  db?: string;
  publishDelay: string;
  maxTokenLifetime: string;
  json?: boolean;
}

interface ListFlags {
  db?: string;
  json?: boolean;
}

export function register(program: Command, io: KeysCliIo = processIo): void {
  const keys =
    program.commands.find((c) => c.name() === 'keys') ??
    program.command('keys').description("the server's token-signing keys (stored in the database, sealed with the KEK)");

  keys
    .command('rotate')
    .description('add a new signing key: published at once, signing after the publish delay')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--publish-delay <duration>', 'how long the new key is in the JWKS before it signs', formatDuration(DEFAULT_PUBLISH_DELAY_S))
    .option(
      '--max-token-lifetime <duration>',
      'the longest access-token lifetime the server issues: how long the old key stays in the JWKS after it stops signing',
      formatDuration(DEFAULT_MAX_TOKEN_LIFETIME_S),
    )
    .option('--json', 'print {"kid", "signs_from", "previous"} as JSON')
    .addHelpText(
      'after',
      `
Needs the key-encryption key (JITGATE_KEK or JITGATE_KEK_FILE; for SQLite the
generated "kek" file beside the database). Running servers pick the new key up
within ${formatDuration(KEYRING_REFRESH_INTERVAL_S)} and JWKS caches expire within ${formatDuration(JWKS_MAX_AGE_S)}: keep --publish-delay
above the sum. Durations: 300, 90s, 5m, 1h, 1h30m, 1d.

Example:
  $ jitgate keys rotate --db postgres://jitgate@db/jitgate
  new signing key   3pRr…Q0   in the JWKS now, signs from 2026-03-02T10:05:00Z (in 5m)
  previous key      Xq7w…aA   signs until 2026-03-02T10:05:00Z, leaves the JWKS at 2026-03-02T11:05:00Z (in 1h5m)`,
    )
    .action(async (flags: RotateFlags) => {
      const publishDelayS = parseDuration(flags.publishDelay, '--publish-delay', { allowZero: true });
      const maxTokenLifetimeS = parseDuration(flags.maxTokenLifetime, '--max-token-lifetime', { allowZero: false });
      const dbUrl = resolveDbUrl(flags.db, io.env);
      const [{ resolveKek }, { openStore }, { rotateSigningKey }] = await Promise.all([
        import('../tokens/kek.js'),
        import('../store/open.js'),
        import('../tokens/rotate.js'),
      ]);
      const kek = await resolveKek({ env: io.env, dbUrl });
      const store = await openStore(dbUrl, { checkpointer: false });
      try {
        const now = io.now();
        const result = await rotateSigningKey(store, kek, { now, publishDelayS, maxTokenLifetimeS });
        if (flags.json) {
          io.out(
            `${JSON.stringify({
              database: store.display,
              kid: result.kid,
              signs_from: iso(result.signsFrom),
              previous: result.previous && { kid: result.previous.kid, publish_until: iso(result.previous.publishUntil) },
            })}\n`,
          );
        } else {
          io.out(
            `new signing key   ${result.kid}   in the JWKS now, signs from ${iso(result.signsFrom)}${inFuture(result.signsFrom, now)}\n`,
          );
          if (result.previous) {
            io.out(
              `previous key      ${result.previous.kid}   signs until ${iso(result.signsFrom)}, ` +
                `leaves the JWKS at ${iso(result.previous.publishUntil)}${inFuture(result.previous.publishUntil, now)}\n`,
            );
          }
        }
        if (result.previous && publishDelayS < KEYRING_REFRESH_INTERVAL_S + JWKS_MAX_AGE_S) {
          io.err(
            `jitgate: warning: a publish delay under ${formatDuration(KEYRING_REFRESH_INTERVAL_S + JWKS_MAX_AGE_S)} ` +
              'lets the new key sign before every server and JWKS cache has it; resource servers may refuse its first tokens\n',
          );
        }
      } finally {
        await store.close();
      }
    });

  keys
    .command('list')
    .description('list the signing keys and what each is doing now (no KEK needed)')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--json', 'print the keys as JSON')
    .addHelpText(
      'after',
      `
States: pending (in the JWKS, not signing yet), signing, retiring (in the JWKS
for tokens it signed, not signing), retired (out of the JWKS), standby (in the
JWKS and able to sign but not chosen; the next rotation retires it).`,
    )
    .action(async (flags: ListFlags) => {
      const { openStore } = await import('../store/open.js');
      const store = await openStore(resolveDbUrl(flags.db, io.env), { checkpointer: false });
      try {
        const now = io.now();
        const rows = await store.db.selectFrom('signing_keys').selectAll().execute();
        const times = rows.map(rowTimes);
        const listed = byNewest(times).map((k) => ({
          kid: k.kid,
          created_at: iso(k.createdAt),
          signs_from: iso(k.signsFrom),
          superseded_at: k.supersededAt === null ? null : iso(k.supersededAt),
          publish_until: k.publishUntil === null ? null : iso(k.publishUntil),
          state: keyState(times, k, now) satisfies SigningKeyState,
        }));
        if (flags.json) {
          io.out(`${JSON.stringify({ database: store.display, keys: listed }, null, 2)}\n`);
          return;
        }
        if (listed.length === 0) {
          io.out(`no signing keys yet in ${store.display}: the server creates one when it first starts\n`);
          return;
        }
        io.out(
          table(
            ['KID', 'CREATED', 'SIGNS FROM', 'SUPERSEDED', 'PUBLISH UNTIL', 'STATE'],
            listed.map((k) => [k.kid, k.created_at, k.signs_from, k.superseded_at ?? '-', k.publish_until ?? '-', k.state]),
          ),
        );
      } finally {
        await store.close();
      }
    });
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Whole seconds from `300`, `90s`, `5m`, `1h`, `1h30m`, `1d`. */
export function parseDuration(text: string, flag: string, opts: { allowZero: boolean }): number {
  const trimmed = text.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else if (/^(\d+[smhd])+$/.test(trimmed)) {
    seconds = 0;
    for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * (UNITS[unit!] ?? 0);
  } else {
    throw new JitgateError('usage', `${flag} must be a duration such as 300, 90s, 5m, 1h or 1h30m (got "${text}")`);
  }
  if (!Number.isSafeInteger(seconds) || (!opts.allowZero && seconds === 0)) {
    throw new JitgateError('usage', `${flag} must be ${opts.allowZero ? '0 or more' : 'more than 0'} seconds`);
  }
  return seconds;
}

function formatDuration(totalS: number): string {
  if (totalS === 0) return '0s';
  const parts: string[] = [];
  let rest = totalS;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

function iso(epochS: number): string {
  return new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');
}

function inFuture(at: number, now: number): string {
  return at > now ? ` (in ${formatDuration(at - now)})` : ' (now)';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
