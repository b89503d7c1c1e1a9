import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** PostgreSQL's type id of bigint. */
const INT8_OID = 20;

/** An open database: the kysely handle, which engine is behind it, and how to close it. */
export interface DatabaseHandle {
  readonly db: Db;
  readonly engine: 'postgres' | 'pglite';
  /** Closes the pool or the embedded database. Idempotent. */
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Upper bound on pooled connections. */
  maxConnections?: number;
}

/**
 * Opens PostgreSQL when `databaseUrl` is set, else the embedded PGlite database kept in
 * `<dataDir>/pglite`, so a fresh machine needs no database server.
 */
export async function openDatabase(config: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) return openPostgres(config.databaseUrl);
  const dir = join(config.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  return openPglite(await PGlite.create(dir, { parsers: PGLITE_PARSERS }));
}

export function openPostgres(
  connectionString: string,
  options: PostgresOptions = {},
): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 20,
    types: { getTypeParser: postgresTypeParser },
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool
  // discards it and the next query opens a fresh one.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return handle(db, 'postgres');
}

/**
 * Wraps a PGlite instance. PGlite has one connection: kysely's PGlite adapter reports that, and
 * kysely then holds a mutex from acquiring the connection to releasing it, so a transaction runs
 * alone and no other query slips into it. Keep slow work (password hashing, network) out of
 * transactions: every other query waits for them.
 */
export function openPglite(pglite: PGlite): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return handle(db, 'pglite');
}

/** The parsers every PGlite instance must be created with, so both engines return the same types. */
export const PGLITE_PARSERS = { [INT8_OID]: (value: string) => Number(value) };

/** Whether `error` is PostgreSQL's unique violation (SQLSTATE 23505), from pg or PGlite alike. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** `text` with LIKE's wildcards and escape character escaped, to match as itself in a pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function handle(db: Db, engine: DatabaseHandle['engine']): DatabaseHandle {
  let closing: Promise<void> | undefined;
  return {
    db,
    engine,
    close: () => (closing ??= db.destroy()),
  };
}

// bigint columns (sequence numbers, counts) come back as numbers: every value Parley stores stays
// below 2^53 (PROTOCOL.md §2.1). pg would return strings, PGlite numbers; both return numbers here.
function postgresTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format as 'text');
}
