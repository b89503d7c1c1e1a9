import fp from 'fastify-plugin';
import type { DatabaseHandle, Db } from '../db/database';
import { migrateToLatest } from '../db/migrations';

declare module 'fastify' {
  interface FastifyInstance {
    /** The kysely handle: `app.db.selectFrom(...)`, `app.db.transaction().execute(...)`. */
    db: Db;
    /** Which engine serves `db`, for the few places (tests, metrics) that care. */
    dbEngine: DatabaseHandle['engine'];
  }
}

export interface DbPluginOptions {
  database: DatabaseHandle;
  /** Apply pending migrations before the app is ready (default true). */
  migrate?: boolean;
}

/**
 * Decorates the app with the database, migrates it at start, and closes it when the app closes:
 * after the server stopped accepting requests and the in-flight ones finished.
 */
export const dbPlugin = fp<DbPluginOptions>(
  async (app, options) => {
    if (options.database === undefined)
      throw new TypeError('dbPlugin: options.database is required');
    const { database } = options;
    app.decorate('db', database.db);
    app.decorate('dbEngine', database.engine);
    app.addHook('onClose', async () => {
      await database.close();
    });
    if (options.migrate !== false) {
      const { results = [] } = await migrateToLatest(database.db);
      for (const result of results) {
        app.log.info({ migration: result.migrationName, status: result.status }, 'migration');
      }
    }
  },
  { name: 'parley-db', fastify: '5.x' },
);
