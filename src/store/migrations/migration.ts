import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
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

/** SQLite tables are STRICT, so a value of the wrong type is refused as PostgreSQL refuses it. */
export function strictTable<T extends string, C extends string>(
  dialect: StoreDialect,
  table: CreateTableBuilder<T, C>,
  withoutRowid = false,
): CreateTableBuilder<T, C> {
  if (dialect !== 'sqlite') return table;
  return table.modifyEnd(withoutRowid ? sql`strict, without rowid` : sql`strict`);
}

/**
 * Triggers that make the database itself refuse UPDATE and DELETE (and, on
 * PostgreSQL, TRUNCATE) of a table's rows. Names are fixed per table
 * (`<table>_no_update`, `<table>_append_only`, …): retention lifts them by name.
 */
export async function appendOnlyTriggers(
  db: Kysely<unknown>,
  dialect: StoreDialect,
  table: string,
  pgFunction: string,
  message: string,
): Promise<void> {
  const t = sql.raw(table);
  const fn = sql.raw(pgFunction);
  const msg = sql.raw(`'${message.replace(/'/g, "''")}'`);
  if (dialect === 'sqlite') {
    await sql`create trigger ${sql.raw(`${table}_no_update`)} before update on ${t}
        begin select raise(abort, ${msg}); end`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_no_delete`)} before delete on ${t}
        begin select raise(abort, ${msg}); end`.execute(db);
  } else {
    await sql`create function ${fn}() returns trigger language plpgsql as $$
        begin raise exception ${msg}; end $$`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${t}
        for each row execute function ${fn}()`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${t}
        for each statement execute function ${fn}()`.execute(db);
  }
}
