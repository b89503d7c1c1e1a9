/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/** room_bans: people an admin barred from a room; they cannot ask to join or be let in again. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('room_bans')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('banned_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_bans_pk', ['room_id', 'user_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('room_bans').ifExists().execute();
}
