import { expect } from 'vitest';
import type { ParleyApp } from '../src/app';
import { TEST_JWT_SECRET } from './helpers';
import { makeJwt, readClaims } from './tokens';

/** The tables of rooms, messages and attachments, as the "nothing changed" checks read them. */
export const ROOM_TABLES = [
  'rooms',
  'room_members',
  'room_former_members',
  'chain_entries',
  'room_key_envelopes',
  'join_requests',
  'messages',
  'attachments',
] as const;

/** Every row of every room table, in a stable order, as text. */
export async function roomTablesSnapshot(app: ParleyApp): Promise<string> {
  const parts: string[] = [];
  for (const table of ROOM_TABLES) {
    const rows = await app.db.selectFrom(table).selectAll().execute();
    const lines = rows.map((row) => JSON.stringify(row, bytesAsHex)).sort();
    parts.push(`${table}:\n${lines.join('\n')}`);
  }
  return parts.join('\n');
}

/** Runs `refused` and checks that no room table changed. */
export async function expectUnchanged(app: ParleyApp, refused: () => Promise<void>): Promise<void> {
  const before = await roomTablesSnapshot(app);
  await refused();
  expect(await roomTablesSnapshot(app)).toBe(before);
}

/** An access token of `token`'s session that expired a minute ago. */
export function expiredToken(token: string): string {
  const claims = readClaims(token);
  const now = Math.floor(Date.now() / 1000);
  return makeJwt({ ...claims, iat: now - 120, exp: now - 60 }, { secret: TEST_JWT_SECRET });
}

function bytesAsHex(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}
