// Every row of every table, in a form two snapshots can be compared by: refused input must leave
// stored data exactly as it was.
import { sql } from 'kysely';
import type { ParleyApp } from '../../src/app';

export type Snapshot = Record<string, string[]>;

/** Each table of the public schema (migration bookkeeping included) as sorted row texts. */
export async function snapshotTables(app: ParleyApp): Promise<Snapshot> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
    order by table_name`.execute(app.db);
  const snapshot: Snapshot = {};
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
      app.db,
    );
    snapshot[table] = rows.rows.map((row) => JSON.stringify(row, encodeCell)).sort();
  }
  return snapshot;
}

/** The tables whose rows differ, with the rows added and removed, for a failure message. */
export function snapshotDifferences(before: Snapshot, after: Snapshot): string[] {
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = new Set(before[table] ?? []);
    const now = new Set(after[table] ?? []);
    const added = [...now].filter((row) => !old.has(row));
    const removed = [...old].filter((row) => !now.has(row));
    if (added.length > 0 || removed.length > 0) {
      differences.push(
        `${table}: +${added.length} -${removed.length}` +
          `${added.length > 0 ? ` added ${added.slice(0, 3).join(' ')}` : ''}` +
          `${removed.length > 0 ? ` removed ${removed.slice(0, 3).join(' ')}` : ''}`,
      );
    }
  }
  return differences;
}

function encodeCell(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (typeof value === 'bigint') return `bigint:${value}`;
  return value;
}
