import { sql } from 'kysely';
import { escapeLike, type Db } from '../db/database';

/** The columns of a public profile; the avatar bytes stay in the database. */
function profileQuery(db: Db) {
  return db
    .selectFrom('users')
    .innerJoin('profiles', 'profiles.user_id', 'users.id')
    .select([
      'users.id',
      'users.username',
      'users.created_at',
      'profiles.display_name',
      'profiles.status_message',
      sql<boolean>`profiles.avatar is not null`.as('has_avatar'),
    ]);
}

export type ProfileRow = NonNullable<Awaited<ReturnType<typeof findProfileById>>>;

export async function findProfileById(db: Db, userId: string) {
  return profileQuery(db).where('users.id', '=', userId).executeTakeFirst();
}

export async function findProfileByUsername(db: Db, username: string) {
  return profileQuery(db).where('users.username', '=', username).executeTakeFirst();
}

export async function updateProfile(
  db: Db,
  userId: string,
  changes: { display_name?: string | null; status_message?: string | null },
): Promise<void> {
  await db
    .updateTable('profiles')
    .set({ ...changes, updated_at: new Date() })
    .where('user_id', '=', userId)
    .execute();
}

export async function setAvatar(
  db: Db,
  userId: string,
  avatar: { bytes: Uint8Array; type: string } | null,
): Promise<void> {
  await db
    .updateTable('profiles')
    .set({
      avatar: avatar?.bytes ?? null,
      avatar_type: avatar?.type ?? null,
      updated_at: new Date(),
    })
    .where('user_id', '=', userId)
    .execute();
}

export async function findAvatar(db: Db, userId: string) {
  return db
    .selectFrom('profiles')
    .select(['avatar', 'avatar_type', 'updated_at'])
    .where('user_id', '=', userId)
    .where('avatar', 'is not', null)
    .executeTakeFirst();
}

/**
 * People whose username or display name starts with `prefix` (lower case), ordered by username,
 * after `afterUsername` (keyset pagination).
 */
export async function searchProfiles(
  db: Db,
  prefix: string,
  afterUsername: string | undefined,
  limit: number,
): Promise<ProfileRow[]> {
  const pattern = `${escapeLike(prefix)}%`;
  let query = profileQuery(db).where((eb) =>
    eb.or([
      eb('users.username', 'like', pattern),
      eb(eb.fn('lower', ['profiles.display_name']), 'like', pattern),
    ]),
  );
  if (afterUsername !== undefined) query = query.where('users.username', '>', afterUsername);
  return query.orderBy('users.username').limit(limit).execute();
}
