import { isAbsolute, resolve } from 'node:path';
import { JitgateError } from '../util/errors.js';

/** A database URL taken apart: which engine, and where. */
export type DbTarget =
  | { dialect: 'sqlite'; /** absolute path, or ':memory:' */ path: string }
  | { dialect: 'postgres'; url: string };

/**
 * Parses `sqlite:PATH` (relative paths resolve against the working directory),
 * `sqlite::memory:`, or a `postgres://` / `postgresql://` URL.
 */
export function parseDbUrl(url: string): DbTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new JitgateError('db_url_invalid', 'sqlite: URL names no file');
    if (path === ':memory:') return { dialect: 'sqlite', path };
    return { dialect: 'sqlite', path: isAbsolute(path) ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new JitgateError('db_url_invalid', 'PostgreSQL URL cannot be parsed');
    }
    return { dialect: 'postgres', url };
  }
  throw new JitgateError(
    'db_url_invalid',
    `unsupported database URL "${redactDbUrl(url)}": use sqlite:PATH or postgres://…`,
  );
}

/**
 * The URL with any password (in the authority or a `password` query
 * parameter) replaced by `***`, for logs and messages.
 */
export function redactDbUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Unparseable: keep only the scheme rather than risk printing a secret.
    return `${url.slice(0, url.indexOf('://') + 3)}…`;
  }
  if (u.password) u.password = '***';
  if (u.searchParams.has('password')) u.searchParams.set('password', '***');
  return u.toString().replace('%2A%2A%2A', '***');
}
