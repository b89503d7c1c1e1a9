/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/**
 * identity_keys becomes append-only with a version: an identity reset (a user who lost every
 * device and the backup passphrase) adds version n+1 instead of overwriting the key, so the
 * directory keeps every identity key it ever served, and no key can be published twice.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('identity_keys')
    .addColumn('version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`version >= 1`),
    )
    .execute();
  await sql`ALTER TABLE identity_keys DROP CONSTRAINT identity_keys_pkey`.execute(db);
  await db.schema
    .alterTable('identity_keys')
    .addPrimaryKeyConstraint('identity_keys_pk', ['user_id', 'version'])
    .execute();
  await db.schema
    .createIndex('identity_keys_once')
    .unique()
    .on('identity_keys')
    .columns(['user_id', 'public_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('identity_keys_once').ifExists().execute();
  await sql`DELETE FROM identity_keys k WHERE version < (
    SELECT max(version) FROM identity_keys l WHERE l.user_id = k.user_id)`.execute(db);
  await sql`ALTER TABLE identity_keys DROP CONSTRAINT identity_keys_pk`.execute(db);
  await db.schema
    .alterTable('identity_keys')
    .addPrimaryKeyConstraint('identity_keys_pkey', ['user_id'])
    .execute();
  await db.schema.alterTable('identity_keys').dropColumn('version').execute();
}
