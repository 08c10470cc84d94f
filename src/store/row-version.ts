/**
 * A number that changes whenever a row already in the `tokens` or `grants`
 * table of an SQLite database may have changed: this process ran an UPDATE,
 * DELETE, upsert or schema change naming one of them, or another process (a
 * CLI verb) committed anything. Plain INSERTs leave it alone, since they
 * change no row that was read before, and so do writes to other tables (no
 * trigger or cascade reaches these two from another table). Hot-path readers
 * (token and grant lookups) keep what they read tagged with the version of
 * the moment before the read, and use it only while the version is the
 * same: a revocation, a released grant or a write by another process ends
 * every such copy at once.
 *
 * Only SQLite has one: there all of this process's statements go through one
 * connection, so every change it makes is seen here, and `PRAGMA
 * data_version` tells exactly when another connection committed. A
 * PostgreSQL database is shared with other nodes that no counter here
 * would see, so nothing is kept there.
 */
export class RowVersion {
  #local = 0;
  #external: unknown = undefined;
  readonly #dataVersion: () => unknown;

  /** `dataVersion` reads `PRAGMA data_version` of the process's connection. */
  constructor(dataVersion: () => unknown) {
    this.#dataVersion = dataVersion;
  }

  /** A statement that may change existing rows is about to run. */
  bump(): void {
    this.#local++;
  }

  /** The version now, or null when it cannot be read (the connection is busy streaming): then nothing may be trusted. */
  current(): number | null {
    let external: unknown;
    try {
      external = this.#dataVersion();
    } catch {
      return null;
    }
    if (external !== this.#external) {
      this.#external = external;
      this.#local++;
    }
    return this.#local;
  }
}

const BUMPS_NOT = /^\s*(?:select\b|with\b(?![\s\S]*\b(?:update|delete|insert)\b)|begin\b|commit\b|rollback\b|savepoint\b|release\b|pragma\s+data_version\b)/i;
const PLAIN_INSERT = /^\s*insert\s+into\b/i;
const INSERT_THAT_UPDATES = /\bon\s+conflict\b[\s\S]*\bdo\s+update\b/i;
/** The audit chain head moves with every append; no hot-path reader reads it. */
const CHAIN_HEAD_UPDATE = /^\s*update\s+"audit_head"\s/i;

/** The tables whose rows hot-path readers keep; any mention counts, wherever in the statement. */
const KEPT_TABLES = /\b(?:tokens|grants)\b/i;

/**
 * Whether running `sql` may change a row of `tokens` or `grants` that exists
 * already (conservative: a statement naming either table that is not a read
 * or a plain insert may).
 */
export function mayChangeRows(sql: string): boolean {
  if (BUMPS_NOT.test(sql) || CHAIN_HEAD_UPDATE.test(sql) || !KEPT_TABLES.test(sql)) return false;
  if (PLAIN_INSERT.test(sql)) return INSERT_THAT_UPDATES.test(sql);
  return true;
}

const versions = new WeakMap<object, RowVersion>();

/** The row version of the database `db` (a Kysely instance) when it has one: SQLite only. */
export function rowVersionOf(db: object): RowVersion | undefined {
  return versions.get(db);
}

/** Ties `version` to `db`; called once by whoever opened it. */
export function registerRowVersion(db: object, version: RowVersion): void {
  versions.set(db, version);
}
