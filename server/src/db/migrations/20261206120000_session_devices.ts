/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/**
 * sessions.device_name: what the signed-in device calls itself (or what its User-Agent says), and
 * sessions.last_seen_at: when it last refreshed or opened a socket, so a person can tell their
 * devices apart in the list of sessions and end one they do not recognise.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('device_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('last_seen_at').execute();
  await db.schema.alterTable('sessions').dropColumn('device_name').execute();
}
