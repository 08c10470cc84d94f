import { rowVersionOf, type RowVersion } from '../store/row-version.js';

/** Entries kept per database and kind; past it the oldest go first. */
const MAX_ENTRIES = 20_000;

interface Entry<T> {
  row: T;
  version: number;
}

/**
 * Rows the token lookups read, kept while the database's {@link RowVersion}
 * says no existing row can have changed since: every status check runs on
 * them exactly as on a fresh read (expiry, keys, policy, grant window), only
 * the read is saved. A key stands for what was proved before the row was
 * kept (the exact token text, or a grant id). Rows are frozen: every caller
 * shares them. Without a row version (PostgreSQL) nothing is kept.
 */
export class VerifiedRows<T extends object> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #version: RowVersion;

  private constructor(version: RowVersion) {
    this.#version = version;
  }

  /** One cache per database and kind, or null when the database has no row version. */
  static of<T extends object>(caches: WeakMap<object, VerifiedRows<T>>, db: object): VerifiedRows<T> | null {
    let c = caches.get(db);
    if (c === undefined) {
      const version = rowVersionOf(db);
      if (version === undefined) return null;
      c = new VerifiedRows<T>(version);
      caches.set(db, c);
    }
    return c;
  }

  /** The version to tag a read with, taken before the read; null: do not keep it. */
  version(): number | null {
    return this.#version.current();
  }

  /** The row kept for `key`, if nothing may have changed it since it was read. */
  get(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.version === this.#version.current()) return e.row;
    this.#entries.delete(key);
    return undefined;
  }

  /** Keeps `row`, read at `version`; returns it frozen. */
  set(key: string, row: T, version: number | null): T {
    const frozen = Object.freeze(row);
    if (version === null) return frozen;
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { row: frozen, version });
    return frozen;
  }
}
