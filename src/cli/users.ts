/** `jitgate users add|passwd|mfa enroll|list|remove`: local users, worked on in the database. */
import type { Command } from 'commander';
import { JitgateError } from '../util/errors.js';
import { DB_OPTION_HELP, resolveDbUrl } from './db-option.js';
import type { LocalUsers, LocalUserView } from '../identity/local-users.js';
import type { Store } from '../store/open.js';

interface DbFlags {
  db?: string;
}

interface PasswordFlags extends DbFlags {
  passwordStdin?: boolean;
}

interface EnrollFlags extends DbFlags {
  issuerLabel: string;
  qr: boolean;
  invertQr?: boolean;
  json?: boolean;
}

interface ListFlags extends DbFlags {
  json?: boolean;
}

const PASSWORD_HELP = `
The password is asked for twice at a prompt (not echoed); with
--password-stdin the first line of standard input is the password, for
scripts. At least 12 characters, at most 1024.`;

export function register(program: Command): void {
  const users = program
    .command('users')
    .description("jitgate's own users: password and TOTP, stored in the database (docs/users.md)")
    .addHelpText(
      'after',
      `
Examples:
  $ jitgate users add alice
  $ printf '%s\\n' "$ALICE_PASSWORD" | jitgate users add alice --password-stdin --db postgres://jitgate@db/jitgate
  $ jitgate users mfa enroll alice --issuer-label "jitgate (prod)"
  $ jitgate users passwd alice
  $ jitgate users list
  $ jitgate users remove alice`,
    );

  users
    .command('add')
    .argument('<name>', 'username: lower-case letters, digits, ".", "_", "-" (1–64); the principal is user:NAME')
    .description('create a user with a password')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--password-stdin', 'read the password from the first line of standard input instead of prompting')
    .addHelpText('after', `${PASSWORD_HELP}

Example:
  $ jitgate users add alice
  password for alice:
  again:
  added user alice (principal user:alice); enroll TOTP with \`jitgate users mfa enroll alice\``)
    .action(async (name: string, flags: PasswordFlags) => {
      const { checkUsername } = await import('../identity/local-users.js');
      const { checkPasswordStrength } = await import('../identity/password-hash.js');
      checkUsername(name);
      await withUsers(flags, false, async (svc) => {
        // Refuse before the prompt rather than after it.
        if (await svc.get(name)) throw new JitgateError('user_exists', `user ${name} exists already`);
        const password = await readNewPassword(name, flags);
        checkPasswordStrength(password);
        await svc.add(name, password);
        process.stdout.write(`added user ${name} (principal user:${name}); enroll TOTP with \`jitgate users mfa enroll ${name}\`\n`);
      });
    });

  users
    .command('passwd')
    .argument('<name>', 'an existing user')
    .description("set a user's password (also lifts a lockout)")
    .option('--db <url>', DB_OPTION_HELP)
    .option('--password-stdin', 'read the password from the first line of standard input instead of prompting')
    .addHelpText('after', PASSWORD_HELP)
    .action(async (name: string, flags: PasswordFlags) => {
      const { checkUsername } = await import('../identity/local-users.js');
      const { checkPasswordStrength } = await import('../identity/password-hash.js');
      checkUsername(name);
      await withUsers(flags, false, async (svc) => {
        if (!(await svc.get(name))) throw new JitgateError('user_unknown', `there is no user ${name}`);
        const password = await readNewPassword(name, flags);
        checkPasswordStrength(password);
        await svc.setPassword(name, password);
        process.stdout.write(`password of ${name} changed\n`);
      });
    });

  const mfa = users.command('mfa').description("a user's second factor (TOTP authenticator app)");
  mfa
    .command('enroll')
    .argument('<name>', 'an existing user')
    .description('give the user a new TOTP secret (replacing any earlier one); prints the otpauth:// URI and a QR code')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--issuer-label <label>', 'what the authenticator app shows above the account', 'jitgate')
    .option('--no-qr', 'print the URI and the secret without the QR code')
    .option('--invert-qr', 'draw the QR code for dark text on a light background (the default suits light text on dark)')
    .option('--json', 'print {"username", "secret", "uri"} as JSON')
    .addHelpText(
      'after',
      `
Needs the key-encryption key that \`jitgate serve\` uses (JITGATE_KEK or
JITGATE_KEK_FILE; for SQLite the generated "kek" file beside the database):
the secret is sealed with it in the database. The secret is shown this once:
scan the QR code (or type the secret) into the user's authenticator app and
hand it over privately. From now on the user's logins need a code.

Example:
  $ jitgate users mfa enroll alice --issuer-label "jitgate (prod)"`,
    )
    .action(async (name: string, flags: EnrollFlags) => {
      const { checkUsername } = await import('../identity/local-users.js');
      checkUsername(name);
      await withUsers(flags, true, async (svc) => {
        const { secret, uri } = await svc.enrollTotp(name, flags.issuerLabel);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ username: name, secret, uri })}\n`);
          return;
        }
        let text = `TOTP enrolled for ${name}; scan this into an authenticator app (shown once):\n\n`;
        if (flags.qr) {
          const { renderUnicodeCompact } = await import('uqr');
          text += `${renderUnicodeCompact(uri, { ecc: 'M', border: 2, invert: flags.invertQr ?? false })}\n\n`;
        }
        text += `${uri}\n\nsecret (to type in instead): ${secret}\n`;
        process.stdout.write(text);
      });
    });

  users
    .command('list')
    .description('list the users, whether they have TOTP, and any lockout')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--json', 'print the users as JSON')
    .action(async (flags: ListFlags) => {
      await withUsers(flags, false, async (svc, store) => {
        const listed = await svc.list();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ database: store.display, users: listed.map(jsonUser) }, null, 2)}\n`);
          return;
        }
        if (listed.length === 0) {
          process.stdout.write(`no users yet in ${store.display}: add one with \`jitgate users add NAME\`\n`);
          return;
        }
        const now = Math.floor(Date.now() / 1000);
        process.stdout.write(
          table(
            ['USER', 'MFA', 'FAILED', 'LOCKED UNTIL', 'CREATED'],
            listed.map((u) => [
              u.username,
              u.mfa ? 'totp' : '-',
              String(u.failedAttempts),
              u.lockedUntil !== null && u.lockedUntil > now ? iso(u.lockedUntil) : '-',
              iso(u.createdAt),
            ]),
          ),
        );
      });
    });

  users
    .command('remove')
    .argument('<name>', 'an existing user')
    .description("delete a user and revoke at once everything it holds: tokens, grants, refresh tokens, login sessions")
    .option('--db <url>', DB_OPTION_HELP)
    .action(async (name: string, flags: DbFlags) => {
      const { checkUsername } = await import('../identity/local-users.js');
      checkUsername(name);
      await withUsers(flags, false, async (svc) => {
        const { revokedCounts } = await import('./client/revocation-text.js');
        process.stdout.write(`removed user ${name}; revoked ${revokedCounts(await svc.remove(name))}\n`);
      });
    });
}

/** Opens the database (and the KEK where TOTP secrets are touched) for one verb. */
async function withUsers(
  flags: DbFlags,
  needKek: boolean,
  fn: (svc: LocalUsers, store: Store) => Promise<void>,
): Promise<void> {
  const dbUrl = resolveDbUrl(flags.db);
  const [{ resolveKek }, { openStore }, { LocalUsers }, { AuditLog }, { systemClock }] = await Promise.all([
    import('../tokens/kek.js'),
    import('../store/open.js'),
    import('../identity/local-users.js'),
    import('../audit/log.js'),
    import('../util/clock.js'),
  ]);
  const kek = needKek ? await resolveKek({ env: process.env, dbUrl }) : null;
  const store = await openStore(dbUrl, { checkpointer: false });
  try {
    await fn(new LocalUsers({ store, clock: systemClock, kek, audit: new AuditLog(store, systemClock) }), store);
  } finally {
    await store.close();
  }
}

/** The new password: one line of stdin, or asked twice at the terminal. */
async function readNewPassword(name: string, flags: PasswordFlags): Promise<string> {
  if (flags.passwordStdin) return readStdinLine();
  if (!process.stdin.isTTY) {
    throw new JitgateError('usage', 'no terminal to ask for the password on: pass it on standard input with --password-stdin');
  }
  const first = await promptHidden(`password for ${name}: `);
  const second = await promptHidden('again: ');
  if (first !== second) throw new JitgateError('password_mismatch', 'the two passwords differ; nothing was changed');
  return first;
}

/** The first line of standard input, without its line ending. */
async function readStdinLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString('utf8');
    if (text.includes('\n')) break;
    if (text.length > 8192) break;
  }
  process.stdin.destroy();
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  if (line === '') throw new JitgateError('usage', '--password-stdin read no password (an empty first line)');
  return line;
}

/** Reads a line at the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          reject(new JitgateError('cancelled', 'cancelled; nothing was changed'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

function jsonUser(u: LocalUserView) {
  return {
    username: u.username,
    principal: u.principal,
    mfa: u.mfa,
    failed_attempts: u.failedAttempts,
    locked_until: u.lockedUntil === null ? null : iso(u.lockedUntil),
    created_at: iso(u.createdAt),
    updated_at: iso(u.updatedAt),
  };
}

function iso(epochS: number): string {
  return new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
