import { sql, type Selectable } from 'kysely';
import { escapeLike, type Db } from '../db/database';
import type { NewRoom, RoomRow, RoomTable } from './room.table';

/** A room row with the caller's membership (null columns when the caller is not a member). */
export interface RoomWithMembership extends Selectable<RoomTable> {
  role: 'admin' | 'member' | null;
  delivered_seq: number | null;
  read_seq: number | null;
}

/**
 * A room whose expiry has passed is gone for every request at once, not only once the sweeper
 * has deleted it: each lookup below keeps to rooms that have not expired.
 */
export const notExpired = sql<boolean>`(rooms.expires_at is null or rooms.expires_at > now())`;

export async function findRoom(db: Db, roomId: string): Promise<RoomRow | undefined> {
  return db
    .selectFrom('rooms')
    .selectAll()
    .where('id', '=', roomId)
    .where(notExpired)
    .executeTakeFirst();
}

/** Locks the room's row until the transaction ends: chain appends to one room run one by one. */
export async function lockRoom(db: Db, roomId: string): Promise<RoomRow | undefined> {
  return db
    .selectFrom('rooms')
    .selectAll()
    .where('id', '=', roomId)
    .where(notExpired)
    .forUpdate()
    .executeTakeFirst();
}

export async function findRoomFor(
  db: Db,
  roomId: string,
  userId: string,
): Promise<RoomWithMembership | undefined> {
  return db
    .selectFrom('rooms')
    .leftJoin('room_members', (join) =>
      join.onRef('room_members.room_id', '=', 'rooms.id').on('room_members.user_id', '=', userId),
    )
    .selectAll('rooms')
    .select(['room_members.role', 'room_members.delivered_seq', 'room_members.read_seq'])
    .where('rooms.id', '=', roomId)
    .where(notExpired)
    .executeTakeFirst();
}

/** Every room `userId` is a member of, the most recently active first. */
/** The ids of the rooms `userId` is a member of. */
export async function memberRoomIds(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('room_members')
    .select('room_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((row) => row.room_id);
}

export async function roomsOf(db: Db, userId: string): Promise<RoomWithMembership[]> {
  return db
    .selectFrom('rooms')
    .innerJoin('room_members', 'room_members.room_id', 'rooms.id')
    .selectAll('rooms')
    .select(['room_members.role', 'room_members.delivered_seq', 'room_members.read_seq'])
    .where('room_members.user_id', '=', userId)
    .where(notExpired)
    .orderBy('rooms.last_activity_at', 'desc')
    .orderBy('rooms.id')
    .execute();
}

export interface ChannelSearch {
  /** Words, each matched case-insensitively anywhere in the name, the topic or a tag. */
  text?: string;
  tag?: string;
  /** Keyset: (lower(name), id) of the last channel of the previous page. */
  after?: { name: string; id: string };
  limit: number;
}

export async function searchChannels(
  db: Db,
  userId: string,
  search: ChannelSearch,
): Promise<RoomWithMembership[]> {
  let query = db
    .selectFrom('rooms')
    .leftJoin('room_members', (join) =>
      join.onRef('room_members.room_id', '=', 'rooms.id').on('room_members.user_id', '=', userId),
    )
    .selectAll('rooms')
    .select(['room_members.role', 'room_members.delivered_seq', 'room_members.read_seq'])
    .where('rooms.kind', '=', 'channel')
    .where(notExpired);
  // Every word must appear somewhere in the name, the topic or a tag: "rust async" finds
  // "Async Rust" and a channel tagged rust and async. The separating spaces keep a word from
  // matching across two fields, since no word holds a space.
  const described = sql<string>`lower(coalesce(rooms.name, '') || ' ' || coalesce(rooms.topic, '') || ' ' || array_to_string(rooms.tags, ' '))`;
  for (const word of searchWords(search.text)) {
    query = query.where(described, 'like', `%${escapeLike(word)}%`);
  }
  if (search.tag !== undefined) {
    query = query.where(sql<boolean>`rooms.tags @> array[${search.tag}]::text[]`);
  }
  if (search.after !== undefined) {
    query = query.where(
      sql<boolean>`(lower(rooms.name), rooms.id) > (${search.after.name}, ${search.after.id})`,
    );
  }
  return query
    .orderBy(sql`lower(rooms.name)`)
    .orderBy('rooms.id')
    .limit(search.limit)
    .execute();
}

function searchWords(text: string | undefined): string[] {
  return [...new Set((text ?? '').toLowerCase().split(/\s+/).filter(Boolean))];
}

export async function insertRoom(db: Db, room: NewRoom): Promise<void> {
  await db.insertInto('rooms').values(room).execute();
}

export async function findDirectRoom(db: Db, pair: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('rooms')
    .select('id')
    .where('direct_pair', '=', pair)
    .executeTakeFirst();
  return row?.id;
}

/** The user's current identity key: new entries and envelopes are signed with it. */
export async function identityKeyOf(db: Db, userId: string): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom('identity_keys')
    .select('public_key')
    .where('user_id', '=', userId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.public_key;
}

export async function userExists(db: Db, userId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

export async function rolesOf(
  db: Db,
  roomId: string,
  userIds: string[],
): Promise<Map<string, 'admin' | 'member'>> {
  const rows = await db
    .selectFrom('room_members')
    .select(['user_id', 'role'])
    .where('room_id', '=', roomId)
    .where('user_id', 'in', userIds)
    .execute();
  return new Map(rows.map((row) => [row.user_id, row.role]));
}

export async function isMember(db: Db, roomId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('room_members')
    .innerJoin('rooms', 'rooms.id', 'room_members.room_id')
    .select('room_members.user_id')
    .where('room_members.room_id', '=', roomId)
    .where('room_members.user_id', '=', userId)
    .where(notExpired)
    .executeTakeFirst();
  return row !== undefined;
}

export async function isFormerMember(db: Db, roomId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('room_former_members')
    .select('user_id')
    .where('room_id', '=', roomId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function chainEntries(
  db: Db,
  roomId: string,
  afterPosition: number | undefined,
  limit: number,
): Promise<{ position: number; entry: Uint8Array; created_at: Date }[]> {
  let query = db
    .selectFrom('chain_entries')
    .select(['position', 'entry', 'created_at'])
    .where('room_id', '=', roomId);
  if (afterPosition !== undefined) query = query.where('position', '>', afterPosition);
  return query.orderBy('position').limit(limit).execute();
}

/** Ids of rooms whose expiry has passed. */
export async function expiredRooms(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('rooms')
    .select('id')
    .where('expires_at', '<=', sql<Date>`now()`)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Deletes rooms with everything in them: their messages here, the rest (members, chain,
 * envelopes, attachments) by cascade. `expiredOnly` keeps to rooms whose expiry has passed (the
 * sweeper); an admin's deletion takes the room whatever its expiry. The rooms' rows are locked
 * first, so a batch of messages committing into one of them finishes before its messages are
 * deleted, and one that comes after finds no room (messages reference their room without a
 * foreign key: see migration 20261122001000).
 */
export async function deleteRooms(
  db: Db,
  roomIds: string[],
  { expiredOnly }: { expiredOnly: boolean },
): Promise<string[]> {
  if (roomIds.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('rooms').select('id').where('id', 'in', roomIds);
    if (expiredOnly) query = query.where('expires_at', '<=', sql<Date>`now()`);
    const locked = await query.orderBy('id').forUpdate().execute();
    const ids = locked.map((row) => row.id);
    if (ids.length === 0) return [];
    await trx.deleteFrom('messages').where('room_id', 'in', ids).execute();
    await trx.deleteFrom('rooms').where('id', 'in', ids).execute();
    return ids;
  });
}
