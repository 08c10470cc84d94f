import { resolve } from 'node:path';

/** Default embedded database: an SQLite file under ./data/. */
export const DEFAULT_DB_URL = 'sqlite:data/jitgate.db';

/**
 * The database URL a verb works on: `--db`, else `JITGATE_DB`, else the
 * embedded SQLite default. Accepts `sqlite:PATH`, a bare `*.db` path, or a
 * `postgres://` / `postgresql://` URL.
 */
export function resolveDbUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag ?? env.JITGATE_DB ?? DEFAULT_DB_URL;
  if (/^postgres(ql)?:\/\//.test(raw)) return raw;
  if (raw.startsWith('sqlite:')) return `sqlite:${resolve(raw.slice('sqlite:'.length))}`;
  return `sqlite:${resolve(raw)}`;
}

export const DB_OPTION_HELP =
  'database: sqlite:PATH or postgres://… (env JITGATE_DB; default sqlite:data/jitgate.db)';
