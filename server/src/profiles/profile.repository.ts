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

/**
 * Takes `skeleton` for the user's username or display name; false when another user's name has
 * it (the primary key decides a race). The user's own display-name skeleton is replaced.
 */
export async function claimNameSkeleton(
  db: Db,
  userId: string,
  source: 'username' | 'display_name',
  skeleton: string,
): Promise<boolean> {
  const result = await db
    .insertInto('name_skeletons')
    .values({ skeleton, user_id: userId, source })
    .onConflict((oc) => oc.column('skeleton').doNothing())
    .executeTakeFirst();
  if ((result.numInsertedOrUpdatedRows ?? 0n) > 0n) return true;
  const holder = await db
    .selectFrom('name_skeletons')
    .select('user_id')
    .where('skeleton', '=', skeleton)
    .executeTakeFirst();
  return holder?.user_id === userId;
}

export async function releaseDisplayNameSkeleton(db: Db, userId: string): Promise<void> {
  await db
    .deleteFrom('name_skeletons')
    .where('user_id', '=', userId)
    .where('source', '=', 'display_name')
    .execute();
}

export async function nameSkeletonTaken(db: Db, skeleton: string): Promise<boolean> {
  const row = await db
    .selectFrom('name_skeletons')
    .select('user_id')
    .where('skeleton', '=', skeleton)
    .executeTakeFirst();
  return row !== undefined;
}
