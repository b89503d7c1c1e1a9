import { createHash } from 'node:crypto';
import type { Db } from '../db/database';
import { parleyError } from '../errors';
import * as repo from './email.repository';
import type { MailTokenPurpose } from './email.table';

/**
 * Tokens mailed in links: 32 random bytes (base64url), of which the database keeps only the
 * SHA-256. 256 random bits leave nothing to brute-force, so a fast hash is enough (as for
 * refresh tokens), and a leaked database opens no link.
 */
export function hashMailToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function issueMailToken(
  db: Db,
  userId: string,
  purpose: MailTokenPurpose,
  address: string | null,
  ttlMs: number,
): Promise<string> {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  await repo.insertMailToken(db, {
    token_hash: hashMailToken(token),
    user_id: userId,
    purpose,
    address,
    expires_at: new Date(Date.now() + ttlMs),
  });
  return token;
}

/**
 * The token's row if it is one of `purpose` that still works; else throws MAIL_TOKEN_INVALID
 * (unknown, or of another purpose), MAIL_TOKEN_USED or MAIL_TOKEN_EXPIRED.
 */
export async function checkMailToken(db: Db, token: string, purpose: MailTokenPurpose) {
  const row = await repo.findMailToken(db, hashMailToken(token));
  if (row === undefined || row.purpose !== purpose) throw parleyError('MAIL_TOKEN_INVALID');
  if (row.used_at !== null) throw parleyError('MAIL_TOKEN_USED');
  if (row.expires_at.getTime() <= Date.now()) throw parleyError('MAIL_TOKEN_EXPIRED');
  return row;
}

/**
 * Checks and spends a token inside the caller's transaction, so what it authorises and its
 * spending commit together (or neither does).
 */
export async function spendMailToken(trx: Db, token: string, purpose: MailTokenPurpose) {
  const row = await checkMailToken(trx, token, purpose);
  // Spent by a concurrent use that committed just now.
  if (!(await repo.spendMailToken(trx, hashMailToken(token)))) {
    throw parleyError('MAIL_TOKEN_USED');
  }
  return row;
}
