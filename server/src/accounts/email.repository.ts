import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { MailTokenPurpose } from './email.table';

export async function findEmail(db: Db, userId: string) {
  return db
    .selectFrom('account_emails')
    .select(['address', 'verified_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** Sets the account's address, unverified; the one before (verified or not) is gone. */
export async function putEmail(db: Db, userId: string, address: string): Promise<void> {
  await db
    .insertInto('account_emails')
    .values({ user_id: userId, address, verified_at: null })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({ address, verified_at: null, updated_at: new Date() }),
    )
    .execute();
}

/**
 * Marks the address verified if it is still the account's. Throws pg's unique violation (23505)
 * when another account verified it first.
 */
export async function markVerified(db: Db, userId: string, address: string): Promise<boolean> {
  const result = await db
    .updateTable('account_emails')
    .set({ verified_at: new Date() })
    .where('user_id', '=', userId)
    .where('address', '=', address)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The account whose verified address this is, the case of its letters ignored (the unique index,
 * on lower(address), allows one at most).
 */
export async function findUserByVerifiedEmail(db: Db, address: string) {
  return db
    .selectFrom('account_emails')
    .innerJoin('users', 'users.id', 'account_emails.user_id')
    .select(['users.id', 'users.username', 'account_emails.address'])
    .where(sql<string>`lower(account_emails.address)`, '=', address.toLowerCase())
    .where('account_emails.verified_at', 'is not', null)
    .executeTakeFirst();
}

/** The account of this username with its address, only when that address is verified. */
export async function findVerifiedEmailOfUsername(db: Db, username: string) {
  return db
    .selectFrom('users')
    .innerJoin('account_emails', 'account_emails.user_id', 'users.id')
    .select(['users.id', 'users.username', 'account_emails.address'])
    .where('users.username', '=', username)
    .where('account_emails.verified_at', 'is not', null)
    .executeTakeFirst();
}

export async function insertMailToken(
  db: Db,
  token: {
    token_hash: string;
    user_id: string;
    purpose: MailTokenPurpose;
    address: string | null;
    expires_at: Date;
  },
): Promise<void> {
  await db.insertInto('mail_tokens').values(token).execute();
}

export async function findMailToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('mail_tokens')
    .innerJoin('users', 'users.id', 'mail_tokens.user_id')
    .select([
      'mail_tokens.user_id',
      'mail_tokens.purpose',
      'mail_tokens.address',
      'mail_tokens.expires_at',
      'mail_tokens.used_at',
      'users.username',
    ])
    .where('mail_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Spends the token unless it was spent already: of two uses at once exactly one wins. */
export async function spendMailToken(db: Db, tokenHash: string): Promise<boolean> {
  const result = await db
    .updateTable('mail_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Voids the account's unspent tokens of a purpose (a newer link, or a changed password). */
export async function voidMailTokens(
  db: Db,
  userId: string,
  purpose: MailTokenPurpose,
): Promise<void> {
  await db
    .updateTable('mail_tokens')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

/** Housekeeping: tokens past expiry open nothing and go. */
export async function pruneMailTokens(db: Db): Promise<void> {
  await db.deleteFrom('mail_tokens').where('expires_at', '<', new Date()).execute();
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash })
    .where('id', '=', userId)
    .execute();
}

/** Ends every live session of the account but `keep`; returns the ended sessions' ids. */
export async function revokeOtherSessions(db: Db, userId: string, keep: string): Promise<string[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('id', '!=', keep)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}
