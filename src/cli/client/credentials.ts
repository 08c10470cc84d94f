/**
 * The saved logins: `$XDG_CONFIG_HOME/jitgate/credentials.json` (else
 * `~/.config/jitgate/credentials.json`), keyed by server URL so logins to
 * several servers live side by side. The file holds bearer tokens, so it is
 * kept private: directory 0700, file 0600, replaced atomically (a reader never
 * sees half a file), and a copy others can read is refused rather than used.
 */
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CliFailure } from './failure.js';

/** One login to one server. */
export interface SavedLogin {
  server: string;
  access_token: string;
  /** Epoch seconds after which the token is no longer accepted. */
  expires_at: number;
  /** The token's `sub`: `user:alice`, `client:ci`. */
  principal: string;
  /** Space-separated scopes the token carries. */
  scope: string;
  /** The OAuth client the token was issued to; revocation must come from it. */
  client_id: string;
  /** Browser and device logins: gets a new access token when this one expires (rotated on every use). */
  refresh_token?: string;
}

export interface CredentialsFile {
  version: 1;
  /** The server logged in to last: used when neither --server nor JITGATE_SERVER names one. */
  current: string | null;
  logins: Record<string, SavedLogin>;
}

export const EMPTY_CREDENTIALS: CredentialsFile = Object.freeze({ version: 1, current: null, logins: {} }) as CredentialsFile;

/** The directory jitgate keeps its login in. */
export function configDir(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  // The XDG base directory spec says a relative value is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, 'jitgate');
}

export function credentialsPath(env: NodeJS.ProcessEnv, home?: string): string {
  return join(configDir(env, home), 'credentials.json');
}

const checksModes = process.platform !== 'win32';

/**
 * The saved logins, or an empty set when there is no file yet. Refuses a
 * file that others may read (or that another user owns): the tokens in it
 * may already have leaked, and using it would hide that.
 */
export function readCredentials(path: string): CredentialsFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return structuredClone(EMPTY_CREDENTIALS);
    if (code === 'ELOOP') {
      throw new CliFailure('credentials_insecure', [
        `${path} is a symbolic link; jitgate keeps its login only in a regular file`,
        `  fix: rm ${path} and run jitgate login again`,
      ]);
    }
    throw new CliFailure('credentials_unreadable', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    // Checked on the open descriptor, so the file cannot be swapped between the check and the read.
    const st = fstatSync(fd);
    if (checksModes) {
      if ((st.mode & 0o077) !== 0) {
        throw new CliFailure('credentials_insecure', [
          `${path} is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}) and holds access tokens; refusing to use it`,
          `  fix: chmod 600 ${path}`,
          '  if others may have read it, then run jitgate logout (it revokes the token) and log in again',
        ]);
      }
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        throw new CliFailure('credentials_insecure', [
          `${path} belongs to another user (uid ${st.uid}); refusing to use it`,
          `  fix: remove it and log in again`,
        ]);
      }
    }
    return parseCredentials(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

function parseCredentials(text: string, path: string): CredentialsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CliFailure('credentials_corrupt', [`${path} is not valid JSON`, `  fix: rm ${path} and run jitgate login again`]);
  }
  const d = data as Partial<CredentialsFile>;
  if (!d || typeof d !== 'object' || d.version !== 1 || typeof d.logins !== 'object' || d.logins === null) {
    throw new CliFailure('credentials_corrupt', [
      `${path} is not a jitgate credentials file (version 1)`,
      `  fix: rm ${path} and run jitgate login again`,
    ]);
  }
  return { version: 1, current: typeof d.current === 'string' ? d.current : null, logins: d.logins };
}

/**
 * Replaces the file atomically: the new content goes to a private temp file
 * in the same directory, reaches the disk, and is renamed over the old one.
 * A crash leaves either the old file or the new one, never a torn one, and
 * the content is never readable by others, not even for a moment.
 */
export function writeCredentials(path: string, file: CredentialsFile): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (checksModes && (statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  const tmp = join(dir, `.credentials.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    try {
      writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDirectory(dir);
}

/** Makes the rename itself durable; not every platform can open a directory. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Best effort: the rename is already atomic, only its durability across a power cut is at stake.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** A copy with `login` saved under its server, which becomes the current one. */
export function withLogin(file: CredentialsFile, login: SavedLogin): CredentialsFile {
  return { version: 1, current: login.server, logins: { ...file.logins, [login.server]: login } };
}

/** A copy with `login` replacing the one saved for its server; the current server stays as it was. */
export function withRenewedLogin(file: CredentialsFile, login: SavedLogin): CredentialsFile {
  return { version: 1, current: file.current, logins: { ...file.logins, [login.server]: login } };
}

/** A copy without the login to `server`; it stops being the current server. */
export function withoutLogin(file: CredentialsFile, server: string): CredentialsFile {
  const logins = { ...file.logins };
  delete logins[server];
  return { version: 1, current: file.current === server ? null : file.current, logins };
}
