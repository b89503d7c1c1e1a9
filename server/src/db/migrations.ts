/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import {
  Migrator,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely/migration';

/**
 * Migrations are the timestamp-named files in ./migrations (`20261121200600_accounts.ts`), each
 * exporting `up` and `down` over `Kysely<any>`. The same files serve PostgreSQL and PGlite.
 */
export const MIGRATIONS_FOLDER = path.join(import.meta.dirname, 'migrations');

export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new MigrationFolder(MIGRATIONS_FOLDER),
    // Features land in parallel branches; a migration merged with an older timestamp than one
    // already applied must still run rather than block the server.
    allowUnorderedMigrations: true,
  });
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly code = 'MIGRATION_FAILED';
}

/** Applies every pending migration; throws a MigrationError naming the one that failed. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const result = await createMigrator(db).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new MigrationError(
      `migrateToLatest: ${failed === undefined ? 'migrations' : `migration ${failed}`} failed: ${reason}`,
      { cause: result.error },
    );
  }
  return result;
}

const MIGRATION_FILE = /^(\d{14}_[a-z0-9_-]+)\.(ts|js|mjs)$/;

/**
 * Loads the migration files with this module's own `import()`, so they load wherever the server's
 * TypeScript runs (tsx, vitest); kysely's FileMigrationProvider imports from inside node_modules,
 * where .ts files are not transformed.
 */
class MigrationFolder implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.folder)).sort()) {
      const match = MIGRATION_FILE.exec(file);
      if (match === null) continue;
      const module = (await import(pathToFileURL(path.join(this.folder, file)).href)) as Migration;
      migrations[match[1]!] = { up: module.up, down: module.down };
    }
    return migrations;
  }
}
