import { sql, type Kysely } from 'kysely';

/**
 * Rooms and everything in them. Every table of a room references `rooms` with ON DELETE CASCADE,
 * so deleting an expired room (the sweeper) deletes its messages, chain, envelopes and blobs too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rooms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('channel', 'group', 'direct')`),
    )
    .addColumn('name', 'text')
    .addColumn('topic', 'text')
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    // "<lower id>:<higher id>" of a direct conversation: one per pair of people.
    .addColumn('direct_pair', 'text', (c) => c.unique())
    .addColumn('ephemeral', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('head_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('chain_position', 'bigint', (c) => c.notNull())
    .addColumn('chain_hash', 'bytea', (c) => c.notNull())
    .addColumn('epoch', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Channel browsing pages by (lower(name), id).
  await sql`create index rooms_channels_by_name on rooms (lower(name), id) where kind = 'channel'`.execute(
    db,
  );
  await sql`create index rooms_channels_by_tag on rooms using gin (tags) where kind = 'channel'`.execute(
    db,
  );
  await sql`create index rooms_expiring on rooms (expires_at) where expires_at is not null`.execute(
    db,
  );

  await db.schema
    .createTable('room_members')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'member')`))
    .addColumn('delivered_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('read_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('joined_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_members_pk', ['room_id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('room_members_by_user')
    .on('room_members')
    .column('user_id')
    .execute();

  // People who were members once: they may still read the chain to see their own removal.
  await db.schema
    .createTable('room_former_members')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('left_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_former_members_pk', ['room_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('chain_entries')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('entry', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('chain_entries_pk', ['room_id', 'position'])
    .execute();

  await db.schema
    .createTable('room_key_envelopes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('recipient_id', 'text', (c) =>
      c.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('distributor_id', 'text', (c) => c.notNull())
    .addColumn('envelope', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('room_key_envelopes_by_recipient')
    .on('room_key_envelopes')
    .columns(['room_id', 'recipient_id', 'epoch'])
    .execute();

  // Sender ids are not foreign keys: a deleted account's messages stay, or the other members'
  // histories would show gaps.
  await db.schema
    .createTable('messages')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('envelope', 'bytea', (c) => c.notNull())
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('messages_pk', ['room_id', 'seq'])
    .addUniqueConstraint('messages_room_message_id', ['room_id', 'message_id'])
    .execute();

  await db.schema
    .createTable('join_requests')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('join_requests_pk', ['room_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('uploader_id', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('attachments_by_room').on('attachments').column('room_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'attachments',
    'join_requests',
    'messages',
    'room_key_envelopes',
    'chain_entries',
    'room_former_members',
    'room_members',
    'rooms',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
