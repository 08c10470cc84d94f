/**
 * A lock beside the credentials file, held while a refresh token is spent.
 * Refresh tokens are single use and a second use revokes the whole login,
 * so two jitgate commands started together must not both refresh: the
 * second waits, then finds the first one's new token in the file.
 */
import { closeSync, constants, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliIo } from './cli-io.js';
import { CliFailure } from './failure.js';

/** A holder that died leaves its lock behind; no refresh takes this long. */
const STALE_MS = 60_000;
const WAIT_MS = 20_000;
const RETRY_MS = 100;

export async function withCredentialsLock<T>(path: string, io: CliIo, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  const started = io.nowMs();
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockAgeMs(lock) > STALE_MS) {
        rmSync(lock, { force: true });
        continue;
      }
      if (io.nowMs() - started > WAIT_MS) {
        throw new CliFailure('credentials_locked', [
          `another jitgate command has been renewing the login for ${WAIT_MS / 1000}s (${lock})`,
          `  if none is running, remove ${lock}`,
        ]);
      }
      await io.sleep(RETRY_MS);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      return await fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

function lockAgeMs(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}
