import { sql, type Kysely } from 'kysely';

/**
 * Messages no longer reference their room by a foreign key. The key checked every stored message
 * against `rooms` one row at a time (a trigger per row locking the room's row again), which was
 * most of a batch's commit: 11 of 15 ms for a batch of 256 on PostgreSQL. The rule it kept holds
 * without it: `commit_messages` stores only into a room whose row it has locked and read, and
 * `deleteRooms` locks a room's row before deleting its messages and then the room, so no message
 * can be stored for a room being deleted, and none outlives its room.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop constraint messages_room_id_fkey`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from messages where room_id not in (select id from rooms)`.execute(db);
  await sql`alter table messages add constraint messages_room_id_fkey
    foreign key (room_id) references rooms (id) on delete cascade`.execute(db);
}
