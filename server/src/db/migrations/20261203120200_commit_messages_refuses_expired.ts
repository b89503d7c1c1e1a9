/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/**
 * `commit_messages` (migration 20261122000000) treats a room past its expiry as missing, like
 * every other lookup (rooms/room.repository.ts `notExpired`): a message to it is refused at once
 * with ROOM_NOT_FOUND, not stored until the sweeper comes by. The function is rewritten in place
 * from its own definition, so that its body has one source.
 */
const LOCKED = 'where id = any(p_rooms) order by id for update';
const LOCKED_UNEXPIRED =
  'where id = any(p_rooms) and (expires_at is null or expires_at > now()) order by id for update';

export async function up(db: Kysely<any>): Promise<void> {
  await rewrite(db, LOCKED, LOCKED_UNEXPIRED);
}

export async function down(db: Kysely<any>): Promise<void> {
  await rewrite(db, LOCKED_UNEXPIRED, LOCKED);
}

async function rewrite(db: Kysely<any>, from: string, to: string): Promise<void> {
  const { rows } = await sql<{ definition: string }>`
    select pg_get_functiondef(
      'commit_messages(text[], text[], text[], bytea[], bigint[])'::regprocedure) as definition`.execute(
    db,
  );
  const definition = rows[0]?.definition ?? '';
  if (!definition.includes(from)) {
    throw new Error('commit_messages: the room lock to rewrite is not in the function');
  }
  await sql.raw(definition.replace(from, to)).execute(db);
}
