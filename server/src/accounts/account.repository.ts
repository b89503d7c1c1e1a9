import type { Db } from '../db/database';
import type { NewUser } from './account.table';

export async function findUserByUsername(db: Db, username: string) {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findUserById(db: Db, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts the user and an empty profile. Throws pg's unique violation (23505) on a taken name. */
export async function insertUser(db: Db, user: NewUser): Promise<void> {
  await db.insertInto('users').values(user).execute();
  await db.insertInto('profiles').values({ user_id: user.id }).execute();
}

/** Deletes the user; every row that references it goes with it (ON DELETE CASCADE). */
export async function deleteUser(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function insertSession(
  db: Db,
  session: { id: string; user_id: string; device_name: string },
): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function insertRefreshToken(
  db: Db,
  token: { token_hash: string; session_id: string; expires_at: Date },
): Promise<void> {
  await db.insertInto('refresh_tokens').values(token).execute();
}

/** A refresh token with its session's state and owner. */
export async function findRefreshToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'refresh_tokens.session_id',
      'refresh_tokens.expires_at',
      'refresh_tokens.used_at',
      'sessions.revoked_at',
      'sessions.user_id',
      'users.username',
    ])
    .where('refresh_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/**
 * Marks a token spent, only if it was not spent already: of two concurrent refreshes with the same
 * token exactly one wins, and the other is treated as reuse.
 */
export async function spendRefreshToken(db: Db, tokenHash: string): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A refresh: the session is seen now, and renamed when the client gave a name. */
export async function touchSession(db: Db, sessionId: string, deviceName?: string): Promise<void> {
  const now = new Date();
  await db
    .updateTable('sessions')
    .set({
      refreshed_at: now,
      last_seen_at: now,
      ...(deviceName === undefined ? {} : { device_name: deviceName }),
    })
    .where('id', '=', sessionId)
    .execute();
}

export async function revokeSession(db: Db, sessionId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeAllSessions(db: Db, userId: string): Promise<number> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Deletes what can no longer authenticate anyone: refresh tokens past expiry, sessions revoked
 * over an hour ago (their access tokens have expired), and sessions idle longer than a refresh
 * token lives. Returns how many sessions went.
 */
export async function pruneSessions(db: Db, refreshTokenTtlSeconds: number): Promise<number> {
  const now = Date.now();
  await db.deleteFrom('refresh_tokens').where('expires_at', '<', new Date(now)).execute();
  const result = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('revoked_at', '<', new Date(now - 3600_000)),
        eb('refreshed_at', '<', new Date(now - refreshTokenTtlSeconds * 1000)),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function upsertBackup(db: Db, userId: string, blob: Uint8Array): Promise<Date> {
  const row = await db
    .insertInto('key_backups')
    .values({ user_id: userId, blob })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ blob, updated_at: new Date() }))
    .returning('updated_at')
    .executeTakeFirstOrThrow();
  return row.updated_at;
}

export async function findBackup(db: Db, userId: string) {
  return db
    .selectFrom('key_backups')
    .select(['blob', 'updated_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
}
