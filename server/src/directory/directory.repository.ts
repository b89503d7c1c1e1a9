import type { Db } from '../db/database';

/** The current (highest-version) identity key of the user. */
export async function findIdentityKey(db: Db, userId: string) {
  return db
    .selectFrom('identity_keys')
    .select(['public_key', 'version', 'published_at'])
    .where('user_id', '=', userId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Whether the user ever published this identity key, as any version. */
export async function identityKeyEverUsed(
  db: Db,
  userId: string,
  publicKey: Uint8Array,
): Promise<boolean> {
  const row = await db
    .selectFrom('identity_keys')
    .select('version')
    .where('user_id', '=', userId)
    .where('public_key', '=', publicKey)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertIdentityKey(
  db: Db,
  userId: string,
  publicKey: Uint8Array,
  version = 1,
): Promise<void> {
  await db
    .insertInto('identity_keys')
    .values({ user_id: userId, public_key: publicKey, version })
    .execute();
}

export async function findCurrentEncryptionKey(db: Db, userId: string) {
  return db
    .selectFrom('encryption_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function listEncryptionKeys(db: Db, userId: string) {
  return db
    .selectFrom('encryption_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('version', 'asc')
    .execute();
}

export async function insertEncryptionKey(
  db: Db,
  key: { user_id: string; version: number; public_key: Uint8Array; signature: Uint8Array },
): Promise<void> {
  await db.insertInto('encryption_keys').values(key).execute();
}

/** Serialises publications for one user: a second concurrent one waits for the first to commit. */
export async function lockUserForKeyUpdate(db: Db, userId: string): Promise<void> {
  await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

export async function findUser(db: Db, by: { id: string } | { username: string }) {
  const query = db.selectFrom('users').select(['id', 'username']);
  return 'id' in by
    ? query.where('id', '=', by.id).executeTakeFirst()
    : query.where('username', '=', by.username.toLowerCase()).executeTakeFirst();
}
