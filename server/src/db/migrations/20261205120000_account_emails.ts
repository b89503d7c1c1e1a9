/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';

/**
 * account_emails: an account's email address and when it was verified; mail_tokens: the SHA-256
 * of every mailed token (email verification, password reset), single-use and expiring.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('account_emails')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('verified_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One account per verified address, whatever the case of its letters (mail servers almost all
  // ignore it); any number may have typed it unverified.
  await sql`CREATE UNIQUE INDEX account_emails_verified_address ON account_emails (lower(address))
    WHERE verified_at IS NOT NULL`.execute(db);

  await db.schema
    .createTable('mail_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose IN ('verify', 'reset')`))
    // For 'verify': the address the link confirms (a link to an address since replaced is void).
    .addColumn('address', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('mail_tokens_user').on('mail_tokens').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_tokens').ifExists().execute();
  await db.schema.dropTable('account_emails').ifExists().execute();
}
