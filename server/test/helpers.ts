import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { build, type BuildOptions, type ParleyApp } from '../src/app';
import { openPglite, openPostgres, PGLITE_PARSERS, type DatabaseHandle } from '../src/db/database';
import { MIGRATIONS_FOLDER, migrateToLatest } from '../src/db/migrations';

/** A fixed secret for tests, so a test can also forge tokens with a different one. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** Where mail goes in tests that set no SMTP_URL (or MAIL_OUTBOX_DIR) of their own. */
const TEST_OUTBOX = join(tmpdir(), 'parley-test-outbox');

const GENEROUS_LIMITS = {
  authPerIpPerMinute: 100_000,
  loginPerAccountPer15Minutes: 100_000,
  loginFreeFailures: 100_000,
  wsMessagesPer10SecondsPerSocket: 1_000_000,
  wsMessagesPer10SecondsPerAccount: 1_000_000,
  mailPerAccountPerHour: 1_000_000,
  mailPerIpPerHour: 1_000_000,
};

export type TestAppOptions = Omit<BuildOptions, 'database'>;

/**
 * A built app on a fresh, migrated database: in-memory PGlite by default, or a uniquely named
 * database on the PostgreSQL server of DATABASE_URL, dropped when the app closes. Close the app
 * in `afterAll`/`afterEach`. Logging is silent and password hashing cheap unless overridden.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<ParleyApp> {
  const database = await createTestDatabase();
  return build({
    dangerouslyLowerPasswordHashingCostForTests: true,
    skipMigrations: true,
    // Tests never depend on whatever web/build a developer last produced; pass webRoot to serve one.
    webRoot: false,
    ...options,
    // Mail a test does not send to its own SMTP server goes to a temporary folder, never ./data.
    env: { MAIL_OUTBOX_DIR: TEST_OUTBOX, ...options.env },
    config: {
      jwtSecret: TEST_JWT_SECRET,
      logLevel: 'silent',
      nodeEnv: 'test',
      ...options.config,
      // Suites sign up many users from one address and send bursts of messages; the rate-limit
      // and quota tests set their own limits.
      limits: { ...GENEROUS_LIMITS, ...options.config?.limits },
    },
    database,
  });
}

/** A fresh migrated database (see createTestApp); the caller closes it, which drops it. */
/** Moves a spent refresh token's spend back past the grace window: a replay minutes later. */
export async function spentMinutesAgo(app: ParleyApp, refreshToken: string): Promise<void> {
  await app.db
    .updateTable('refresh_tokens')
    .set({ used_at: new Date(Date.now() - 5 * 60_000) })
    .where('token_hash', '=', createHash('sha256').update(refreshToken).digest('hex'))
    .execute();
}

export async function createTestDatabase(): Promise<DatabaseHandle> {
  const url = process.env.DATABASE_URL;
  return url !== undefined && url !== ''
    ? createPostgresTestDatabase(url)
    : createPgliteTestDatabase();
}

// Creating PGlite (initdb) and migrating it costs seconds, loading a dump of a migrated one a
// fraction of that. The dump is cached on disk, keyed by the PGlite version and the migration
// files, so test files (each in its own worker) share it and a changed migration rebuilds it.
let migratedPgliteDump: Promise<Blob> | undefined;

async function createPgliteTestDatabase(): Promise<DatabaseHandle> {
  migratedPgliteDump ??= loadOrBuildPgliteDump();
  const pglite = await PGlite.create({
    loadDataDir: await migratedPgliteDump,
    parsers: PGLITE_PARSERS,
  });
  return openPglite(pglite);
}

async function loadOrBuildPgliteDump(): Promise<Blob> {
  const file = join(tmpdir(), 'parley-test-pglite', `${await migrationsFingerprint()}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    // Not built yet: build it below.
  }
  const template = await PGlite.create({ parsers: PGLITE_PARSERS });
  const handle = openPglite(template);
  await migrateToLatest(handle.db);
  const dump = await template.dumpDataDir('none');
  await handle.close();
  // Written under a unique name and renamed, so parallel workers never read a half-written file.
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file);
  return dump;
}

async function migrationsFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  // pnpm's store path names the installed PGlite version.
  hash.update(`${createRequire(import.meta.url).resolve('@electric-sql/pglite')}\n`);
  for (const name of (await readdir(MIGRATIONS_FOLDER)).sort()) {
    hash.update(`${name}\n`).update(await readFile(join(MIGRATIONS_FOLDER, name)));
  }
  return hash.digest('hex').slice(0, 32);
}

async function createPostgresTestDatabase(adminUrl: string): Promise<DatabaseHandle> {
  const name = `parley_test_${randomBytes(8).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openPostgres(url.toString(), { maxConnections: 5 });
  try {
    await migrateToLatest(handle.db);
  } catch (error) {
    await handle.close();
    await dropDatabase(adminUrl, name);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...handle,
    close: () => (closing ??= handle.close().then(() => dropDatabase(adminUrl, name))),
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdminClient(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  );
}

async function withAdminClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
