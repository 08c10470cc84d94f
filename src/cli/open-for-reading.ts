import { existsSync } from 'node:fs';
import { openStore, type Store } from '../store/open.js';
import { parseDbUrl } from '../store/db-url.js';
import { assertSchemaCurrent } from '../store/migrate.js';
import { JitgateError } from '../util/errors.js';

/**
 * Opens a database for a verb that only reads it (audit verify, export,
 * report): never creates an SQLite file that is not there, never migrates,
 * and refuses a schema older than this version with the command that fixes
 * it rather than a missing-table error halfway through.
 */
export async function openStoreForReading(url: string): Promise<Store> {
  const target = parseDbUrl(url);
  if (target.dialect === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    throw new JitgateError('db_not_found', `no database at ${target.path}: give --db (or JITGATE_DB) the path the server uses`);
  }
  const store = await openStore(url, { migrate: false, checkpointer: false });
  try {
    await assertSchemaCurrent(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
