/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import type { Kysely } from 'kysely';

/**
 * rooms.message_timer: the server's reading of the newest `set-timer` chain entry (PROTOCOL.md
 * §6.6), in seconds, 0 for none; the sweeper deletes messages older than that.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('rooms')
    .addColumn('message_timer', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rooms').dropColumn('message_timer').execute();
}
