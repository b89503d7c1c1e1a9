/**
 * `pnpm db:migrate`: applies pending migrations to the configured database (DATABASE_URL, or the
 * embedded PGlite database in DATA_DIR) and exits non-zero on failure.
 */
import { loadConfig } from '../config';
import { openDatabase } from './database';
import { migrateToLatest } from './migrations';

const config = loadConfig();
const database = await openDatabase(config);
try {
  const { results = [] } = await migrateToLatest(database.db);
  for (const result of results) {
    console.log(`${result.status.padEnd(8)} ${result.direction} ${result.migrationName}`);
  }
  console.log(results.length === 0 ? 'Already up to date.' : `Applied ${results.length}.`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await database.close();
}
