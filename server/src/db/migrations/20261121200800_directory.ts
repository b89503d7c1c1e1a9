import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('identity_keys')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('public_key', 'bytea', (c) => c.notNull().check(sql`length(public_key) = 32`))
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('encryption_keys')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('version', 'bigint', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('public_key', 'bytea', (c) => c.notNull().check(sql`length(public_key) = 32`))
    .addColumn('signature', 'bytea', (c) => c.notNull().check(sql`length(signature) = 64`))
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('encryption_keys_pk', ['user_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('encryption_keys').execute();
  await db.schema.dropTable('identity_keys').execute();
}
