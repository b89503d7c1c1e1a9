/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/**
 * contact_requests: one per asker and asked, until answered or withdrawn; contacts: both
 * directions of every accepted pair, so either side lists theirs with one index; blocks: who
 * blocked whom; users.direct_from: who may open a direct conversation with the account.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('contact_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('from_user', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('to_user', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('contact_requests_pair', ['from_user', 'to_user'])
    .addCheckConstraint('contact_requests_not_self', sql`from_user <> to_user`)
    .execute();
  await db.schema
    .createIndex('contact_requests_to')
    .on('contact_requests')
    .column('to_user')
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('contacts_pk', ['user_id', 'contact_id'])
    .addCheckConstraint('contacts_not_self', sql`user_id <> contact_id`)
    .execute();

  await db.schema
    .createTable('blocks')
    .addColumn('blocker', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('blocked', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('blocks_pk', ['blocker', 'blocked'])
    .addCheckConstraint('blocks_not_self', sql`blocker <> blocked`)
    .execute();
  // Whoever blocked a user, read when that user's socket starts (whose presence to withhold).
  await db.schema.createIndex('blocks_blocked').on('blocks').column('blocked').execute();

  await db.schema
    .alterTable('users')
    .addColumn('direct_from', 'text', (c) =>
      c
        .notNull()
        .defaultTo('everyone')
        .check(sql`direct_from IN ('everyone', 'contacts')`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('direct_from').execute();
  await db.schema.dropTable('blocks').ifExists().execute();
  await db.schema.dropTable('contacts').ifExists().execute();
  await db.schema.dropTable('contact_requests').ifExists().execute();
}
