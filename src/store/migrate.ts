import { Migrator, sql, type Migration } from 'kysely';
import { JitgateError } from '../util/errors.js';
import { migrations as shipped } from './migrations/index.js';
import type { MigrationSet } from './migrations/migration.js';
import type { Store } from './open.js';

/** `migration_failed`, naming the migration that failed (null when none had started). */
export class MigrationError extends JitgateError {
  readonly migration: string | null;
  constructor(migration: string | null, message: string, cause: unknown) {
    super('migration_failed', message, { cause });
    this.name = 'MigrationError';
    this.migration = migration;
  }
}

/**
 * Applies every pending migration, in name order, in one transaction: either
 * all of them apply or none does. Safe when several processes start at once:
 * on PostgreSQL kysely's migrator holds a session advisory lock
 * (`pg_advisory_lock`) around reading the applied list and migrating; on
 * SQLite the migration transaction starts with `BEGIN IMMEDIATE`, which takes
 * the database's write lock. The second process waits, then finds nothing to do.
 * Throws {@link MigrationError} (`migration_failed`).
 */
export async function migrateToLatest(
  store: Store,
  set: MigrationSet = shipped,
): Promise<{ applied: string[] }> {
  const migrator = await migratorFor(store, set);
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? null;
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      failed,
      failed === null
        ? `migrations could not run on ${store.display}: ${reason}`
        : `migration ${failed} failed on ${store.display}: ${reason}`,
      error,
    );
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/**
 * For verbs that only read (audit verify, export, report): refuses, with
 * `schema_outdated` and the command that fixes it, a database whose schema
 * lacks migrations this version needs, instead of failing later on a
 * missing table. Reads the migration list only; changes nothing.
 */
export async function assertSchemaCurrent(store: Store, set: MigrationSet = shipped): Promise<void> {
  const migrator = await migratorFor(store, set);
  const all = await migrator.getMigrations();
  const pending = all.filter((m) => m.executedAt === undefined).map((m) => m.name);
  if (pending.length > 0 && pending.length === all.length) {
    throw new JitgateError('schema_outdated', `${store.display} holds no jitgate schema: run \`jitgate migrate --db URL\` first`);
  }
  if (pending.length > 0) {
    throw new JitgateError(
      'schema_outdated',
      `${store.display} lacks migration${pending.length === 1 ? '' : 's'} ${pending.join(', ')}: run \`jitgate migrate --db URL\` (or start the server once) first`,
    );
  }
}

async function migratorFor(store: Store, set: MigrationSet): Promise<Migrator> {
  const bound: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(set)) bound[name] = { up: (db) => m.up(db, store.dialect) };

  let migrationTableSchema: string | undefined;
  if (store.dialect === 'postgres') {
    // Without a schema, kysely looks for its bookkeeping tables in every
    // schema of the database and would take another schema's as ours.
    const { rows } = await sql<{ s: string | null }>`select current_schema() as s`.execute(store.db);
    const schema = rows[0]?.s;
    if (!schema) {
      throw new MigrationError(null, `no schema to migrate on ${store.display}: search_path names no existing schema`, null);
    }
    migrationTableSchema = schema;
  }
  return new Migrator({
    db: store.db,
    provider: { getMigrations: () => Promise.resolve(bound) },
    migrationTableSchema,
  });
}
