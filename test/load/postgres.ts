// A fresh PostgreSQL database for one bench run, created beside the one DATABASE_URL names and
// dropped afterwards, so runs never see each other's rows.
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `parley_bench_${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16)}`;
  await admin(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop: () => (dropped ??= admin(serverUrl, `drop database if exists ${name} with (force)`)),
  };
}

/** Whether a PostgreSQL server answers at `url`. */
export async function reachable(url: string): Promise<boolean> {
  try {
    await admin(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
