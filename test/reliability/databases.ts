// Where a reliability run keeps its data: a fresh PostgreSQL database (created for the run and
// dropped after it) or a fresh PGlite data directory (removed after it). Nothing is shared with
// another run or with the developer's own data.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RunStorage {
  /** The server's DATABASE_URL; undefined for PGlite. */
  databaseUrl: string | undefined;
  /** The server's DATA_DIR (PGlite lives in DATA_DIR/pglite). */
  dataDir: string;
  /** Drops the database and removes the data directory. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Storage for one run. PostgreSQL: a database named `parley_reliability_<random>` on the server
 * of `adminUrl` (DATABASE_URL, else the local server), which the server process migrates at start.
 */
export async function createRunStorage(
  engine: 'postgres' | 'pglite',
  adminUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
): Promise<RunStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-reliability-'));
  if (engine === 'pglite') {
    let removing: Promise<void> | undefined;
    return {
      databaseUrl: undefined,
      dataDir,
      remove: () => (removing ??= rm(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `parley_reliability_${randomBytes(8).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let removing: Promise<void> | undefined;
  return {
    databaseUrl: url.toString(),
    dataDir,
    remove: () =>
      (removing ??= (async () => {
        // FORCE: a SIGKILLed server's connections may linger until PostgreSQL notices them.
        await withAdmin(adminUrl, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        );
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

async function withAdmin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
