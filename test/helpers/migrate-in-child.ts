// Child process for the concurrent-migration test: opens a store without
// migrating, prints "ready", waits for a line on stdin so every child
// migrates at the same moment, migrates, and prints what it applied as JSON.
// argv: URL, PG schema ('' for none).
import { once } from 'node:events';
import { openStore } from '../../src/store/open.js';
import { migrateToLatest } from '../../src/store/migrate.js';

const [url, schema] = process.argv.slice(2);
if (!url) throw new Error('usage: migrate-in-child URL [SCHEMA]');
const store = await openStore(url, { migrate: false, pgSchema: schema || undefined, poolSize: 2 });
try {
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const { applied } = await migrateToLatest(store);
  process.stdout.write(`${JSON.stringify({ applied })}\n`);
} finally {
  await store.close();
  process.stdin.destroy();
}
