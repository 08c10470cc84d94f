/** Whether the PostgreSQL of `--pg-url` answers, for cases that measure it whenever they can. */
import pg from 'pg';

/** null when PostgreSQL at `url` answers a query within 5 s; otherwise why not (never the URL's password). */
export async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, query_timeout: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return `PostgreSQL not reachable (${e.code ?? e.message ?? String(err)})`;
  } finally {
    await client.end().catch(() => {});
  }
}
