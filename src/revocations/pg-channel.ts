/**
 * Cross-node wake-ups on PostgreSQL: a node that commits a revocation
 * NOTIFYs one channel, and every node LISTENs on it, so a feed served by
 * node B reads the revocation committed through node A at once instead of
 * at its next poll. The payload is only the schema name (several jitgate
 * installations may share a database); the entries themselves are always
 * read from the audit chain, so a lost or duplicated notice costs nothing
 * but latency.
 */
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';

export const REVOCATION_CHANNEL = 'jitgate_revocations';

/** The schema the store's connections use: what tells installations on one database apart. */
export async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? 'public';
}

/** Tells every listening node that revocations were committed under `schema`. */
export async function notifyRevocations(db: Kysely<Database>, schema: string): Promise<void> {
  await sql`select pg_notify(${REVOCATION_CHANNEL}, ${schema})`.execute(db);
}

export interface ListenerOptions {
  url: string;
  schema: string;
  /** A notice for our schema arrived. */
  onNotice: () => void;
  /** (Re)connected: notices sent while disconnected are lost, so the caller reads what it missed. */
  onConnect: () => void;
  log: Logger;
  /** Longest wait between reconnection attempts, ms. Default 5000. */
  maxBackoffMs?: number;
}

/**
 * A dedicated connection LISTENing on the channel (a pooled connection
 * cannot hold a LISTEN), reconnecting with backoff when it drops.
 */
export class RevocationListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs = 100;

  constructor(private readonly opts: ListenerOptions) {}

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.opts.url, application_name: 'jitgate-revocations', connectionTimeoutMillis: 10_000 });
    this.client = client;
    let failed = false;
    const fail = (err?: Error) => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.stopped) return;
      if (err) this.opts.log.warn({ err: { message: err.message } }, 'revocation listener lost its connection; reconnecting');
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 5000);
      this.retry = setTimeout(() => void this.connect(), delay);
      this.retry.unref();
    };
    client.on('error', fail);
    client.on('end', () => fail());
    client.on('notification', (msg) => {
      if (msg.channel === REVOCATION_CHANNEL && msg.payload === this.opts.schema) this.opts.onNotice();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.backoffMs = 100;
    this.opts.onConnect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
