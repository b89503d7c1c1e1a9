import { sql } from 'kysely';
import type { Db } from '../db/database';

/** last_seen_at moves at most this often: a socket sign-in per reconnect must not be a write each. */
export const LAST_SEEN_RESOLUTION_SECONDS = 60;

/** The live (not revoked) session `sessionId` of user `userId`, with the user's name. */
export async function findActiveSession(db: Db, sessionId: string, userId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id', 'sessions.user_id', 'users.username'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.user_id', '=', userId)
    .where('sessions.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** The user's live sessions, the most recently seen first. */
export async function listActiveSessions(db: Db, userId: string) {
  return db
    .selectFrom('sessions')
    .select(['id', 'device_name', 'created_at', 'last_seen_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('last_seen_at', 'desc')
    .orderBy('id')
    .execute();
}

/**
 * Ends the live session `sessionId` if it is `userId`'s; false when it is unknown, ended already
 * or another user's (the caller cannot tell these apart, so no session id leaks).
 */
export async function revokeSessionOf(db: Db, userId: string, sessionId: string) {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Marks the session seen now, unless it was within the last LAST_SEEN_RESOLUTION_SECONDS. */
export async function markSessionSeen(db: Db, sessionId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .where(
      'last_seen_at',
      '<',
      sql<Date>`now() - make_interval(secs => ${LAST_SEEN_RESOLUTION_SECONDS})`,
    )
    .execute();
}
