/**
 * A throw-away PostgreSQL schema per measured load, so the PostgreSQL variant
 * starts from an empty database like the SQLite one and leaves nothing behind
 * in a database other work shares.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface BenchSchema {
  /** The URL with `search_path` set to the schema, for `jitgate serve --db`. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Adds `-c search_path=SCHEMA` to a PostgreSQL URL's startup options. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  const previous = u.searchParams.get('options');
  const own = `-c search_path=${schema}`;
  u.searchParams.set('options', previous ? `${previous} ${own}` : own);
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createBenchSchema(url: string): Promise<BenchSchema> {
  // Only [a-z0-9_]: the name is spliced into DDL, which takes no parameters.
  const name = `jitgate_bench_${randomBytes(6).toString('hex')}`;
  await withClient(url, (c) => c.query(`CREATE SCHEMA ${name}`));
  return {
    url: withSearchPath(url, name),
    name,
    drop: () => withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined),
  };
}
