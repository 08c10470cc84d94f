import type { Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';

/**
 * One schema change. `up` gets the dialect because column types differ
 * (instants are `bigint` on PostgreSQL, `integer` on SQLite). Migrations are
 * forward-only: a release never needs to undo one, and a down path that is
 * never run is a path that does not work.
 */
export interface JitgateMigration {
  up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void>;
}

/** Migrations by name; names sort in the order they apply (`0001_…`, `0002_…`). */
export type MigrationSet = Readonly<Record<string, JitgateMigration>>;
