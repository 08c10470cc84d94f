import pg from 'pg';
import { Kysely, sql } from 'kysely';
import { JitgateError } from '../util/errors.js';
import { CurrentSchemaPostgresDialect } from './postgres-dialect.js';
import type { Database } from './schema.js';

const PG_INT8_OID = 20;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options for a PostgreSQL store. */
export interface PostgresOptions {
  /** Keep jitgate's tables in this schema (created if missing) instead of the search_path default. */
  pgSchema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Errors of idle pooled connections (a server restart); the pool replaces them. */
  onError?: (err: Error) => void;
}

/**
 * Opens a pool on a PostgreSQL database and checks it answers. int8 columns
 * come back as JS numbers: instants are epoch seconds, far inside 2^53. With
 * `pgSchema`, every pooled connection starts with `search_path` set to it
 * (a startup parameter, so no query can run before it applies).
 */
export async function openPostgresDb(
  url: string,
  display: string,
  opts: PostgresOptions = {},
): Promise<Kysely<Database>> {
  const schema = opts.pgSchema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new JitgateError('pg_schema_invalid', `PostgreSQL schema name "${schema}" must match ${SCHEMA_NAME}`);
  }
  const types = new pg.TypeOverrides();
  // Scoped to this pool: setting it on pg.types would change every pg user in the process.
  types.setTypeParser(PG_INT8_OID, 'text', (value: string) => Number.parseInt(value, 10));
  const pool = new pg.Pool({
    connectionString: schema === undefined ? url : withSearchPath(url, schema),
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    application_name: 'jitgate',
    types,
  });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  // Introspection (kysely's migrator uses it) reads only our schema, so other
  // schemas of the database being dropped meanwhile cannot fail our migration.
  const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await createSchema(db, schema);
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    if (err instanceof JitgateError) throw err;
    const e = err as { code?: string; message?: string };
    throw new JitgateError(
      'db_unreachable',
      `cannot use PostgreSQL at ${display}: ${e.code ?? ''}${e.code && e.message ? ' ' : ''}${e.message ?? ''}`,
      { cause: err },
    );
  }
  return db;
}

/** Adds `-c search_path=…` to the URL's `options`, keeping any options already there. */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  const previous = u.searchParams.get('options');
  const own = `-c search_path=${schema}`;
  u.searchParams.set('options', previous ? `${previous} ${own}` : own);
  return u.toString();
}

async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (err) {
    // Two processes creating it at once: `if not exists` can still raise a
    // unique violation on pg_namespace for the loser. It exists either way.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}
