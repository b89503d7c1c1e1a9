import { sql } from 'kysely';
import type { Db } from '../db/database';

/** Plain queries over contact_requests, contacts, blocks and users.direct_from. */

export interface RequestRow {
  id: string;
  from_user: string;
  to_user: string;
  created_at: Date;
}

export async function findRequest(db: Db, id: string): Promise<RequestRow | undefined> {
  return db.selectFrom('contact_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findRequestBetween(
  db: Db,
  from: string,
  to: string,
): Promise<RequestRow | undefined> {
  return db
    .selectFrom('contact_requests')
    .selectAll()
    .where('from_user', '=', from)
    .where('to_user', '=', to)
    .executeTakeFirst();
}

export async function insertRequest(db: Db, row: Omit<RequestRow, 'created_at'>): Promise<void> {
  await db.insertInto('contact_requests').values(row).execute();
}

/** Deletes the requests between two users, either way; returns how many went. */
export async function deleteRequestsBetween(db: Db, a: string, b: string): Promise<number> {
  const result = await db
    .deleteFrom('contact_requests')
    .where((eb) =>
      eb.or([
        eb.and([eb('from_user', '=', a), eb('to_user', '=', b)]),
        eb.and([eb('from_user', '=', b), eb('to_user', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteRequest(db: Db, id: string): Promise<void> {
  await db.deleteFrom('contact_requests').where('id', '=', id).execute();
}

export async function areContacts(db: Db, a: string, b: string): Promise<boolean> {
  const row = await db
    .selectFrom('contacts')
    .select('user_id')
    .where('user_id', '=', a)
    .where('contact_id', '=', b)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertContactPair(db: Db, a: string, b: string): Promise<void> {
  await db
    .insertInto('contacts')
    .values([
      { user_id: a, contact_id: b },
      { user_id: b, contact_id: a },
    ])
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Deletes both directions of a pair; returns whether they were contacts. */
export async function deleteContactPair(db: Db, a: string, b: string): Promise<boolean> {
  const result = await db
    .deleteFrom('contacts')
    .where((eb) =>
      eb.or([
        eb.and([eb('user_id', '=', a), eb('contact_id', '=', b)]),
        eb.and([eb('user_id', '=', b), eb('contact_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function contactsOf(db: Db, userId: string) {
  return db
    .selectFrom('contacts')
    .innerJoin('users', 'users.id', 'contacts.contact_id')
    .select(['users.id as userId', 'users.username', 'contacts.created_at as since'])
    .where('contacts.user_id', '=', userId)
    .orderBy('users.username')
    .execute();
}

/** Requests to `userId`, without those from people `userId` blocked (they stay hidden). */
export async function incomingOf(db: Db, userId: string) {
  return db
    .selectFrom('contact_requests')
    .innerJoin('users', 'users.id', 'contact_requests.from_user')
    .select([
      'contact_requests.id',
      'users.id as userId',
      'users.username',
      'contact_requests.created_at as createdAt',
    ])
    .where('contact_requests.to_user', '=', userId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('blocks')
            .select(sql`1`.as('one'))
            .where('blocks.blocker', '=', userId)
            .whereRef('blocks.blocked', '=', 'contact_requests.from_user'),
        ),
      ),
    )
    .orderBy('contact_requests.created_at')
    .execute();
}

export async function outgoingOf(db: Db, userId: string) {
  return db
    .selectFrom('contact_requests')
    .innerJoin('users', 'users.id', 'contact_requests.to_user')
    .select([
      'contact_requests.id',
      'users.id as userId',
      'users.username',
      'contact_requests.created_at as createdAt',
    ])
    .where('contact_requests.from_user', '=', userId)
    .orderBy('contact_requests.created_at')
    .execute();
}

export async function isBlocking(db: Db, blocker: string, blocked: string): Promise<boolean> {
  const row = await db
    .selectFrom('blocks')
    .select('blocker')
    .where('blocker', '=', blocker)
    .where('blocked', '=', blocked)
    .executeTakeFirst();
  return row !== undefined;
}

/** Returns whether the block is new. */
export async function insertBlock(db: Db, blocker: string, blocked: string): Promise<boolean> {
  const row = await db
    .insertInto('blocks')
    .values({ blocker, blocked })
    .onConflict((oc) => oc.doNothing())
    .returning('blocker')
    .executeTakeFirst();
  return row !== undefined;
}

/** Returns whether there was such a block. */
export async function deleteBlock(db: Db, blocker: string, blocked: string): Promise<boolean> {
  const result = await db
    .deleteFrom('blocks')
    .where('blocker', '=', blocker)
    .where('blocked', '=', blocked)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function blocksOf(db: Db, blocker: string) {
  return db
    .selectFrom('blocks')
    .innerJoin('users', 'users.id', 'blocks.blocked')
    .select(['users.id as userId', 'users.username', 'blocks.created_at as since'])
    .where('blocks.blocker', '=', blocker)
    .orderBy('blocks.created_at', 'desc')
    .execute();
}

/** Everyone in a block with `userId`, either way: whose presence and typing it neither sees nor shows. */
export async function blockPartnersOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('blocks')
    .select('blocked as other')
    .where('blocker', '=', userId)
    .union(db.selectFrom('blocks').select('blocker as other').where('blocked', '=', userId))
    .execute();
  return rows.map((row) => row.other);
}

export async function directFromOf(
  db: Db,
  userId: string,
): Promise<'everyone' | 'contacts' | undefined> {
  const row = await db
    .selectFrom('users')
    .select('direct_from')
    .where('id', '=', userId)
    .executeTakeFirst();
  return row?.direct_from;
}

export async function setDirectFrom(
  db: Db,
  userId: string,
  directFrom: 'everyone' | 'contacts',
): Promise<void> {
  await db.updateTable('users').set({ direct_from: directFrom }).where('id', '=', userId).execute();
}

/**
 * Why `callerId` may not open a direct conversation with `peerId`, if they may not: the caller
 * blocked the peer (USER_BLOCKED: they know, and can undo it), or the peer blocked the caller or
 * takes direct conversations from contacts only (DIRECT_REFUSED: the same answer for both, so a
 * block is not told apart from a privacy setting). One query.
 */
export async function directRefusal(
  db: Db,
  callerId: string,
  peerId: string,
): Promise<'USER_BLOCKED' | 'DIRECT_REFUSED' | undefined> {
  const row = await db
    .selectFrom('users')
    .select(({ exists, selectFrom }) => [
      'users.direct_from',
      exists(
        selectFrom('blocks')
          .select(sql`1`.as('one'))
          .where('blocker', '=', callerId)
          .where('blocked', '=', peerId),
      ).as('callerBlocks'),
      exists(
        selectFrom('blocks')
          .select(sql`1`.as('one'))
          .where('blocker', '=', peerId)
          .where('blocked', '=', callerId),
      ).as('peerBlocks'),
      exists(
        selectFrom('contacts')
          .select(sql`1`.as('one'))
          .where('user_id', '=', peerId)
          .where('contact_id', '=', callerId),
      ).as('contacts'),
    ])
    .where('users.id', '=', peerId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  if (row.callerBlocks) return 'USER_BLOCKED';
  if (row.peerBlocks) return 'DIRECT_REFUSED';
  if (row.direct_from === 'contacts' && !row.contacts) return 'DIRECT_REFUSED';
  return undefined;
}

/** The direct pair ("<lower id>:<higher id>") of each of `roomIds` that is a direct room. */
export async function directPairsOf(
  db: Db,
  roomIds: string[],
): Promise<Map<string, string | null>> {
  const rows = await db
    .selectFrom('rooms')
    .select(['id', 'direct_pair'])
    .where('id', 'in', roomIds)
    .execute();
  return new Map(rows.map((row) => [row.id, row.direct_pair]));
}

/** The blocks among the given pairs of users (either way). */
export async function blocksAmong(
  db: Db,
  pairs: readonly (readonly [string, string])[],
): Promise<{ blocker: string; blocked: string }[]> {
  if (pairs.length === 0) return [];
  return db
    .selectFrom('blocks')
    .select(['blocker', 'blocked'])
    .where((eb) =>
      eb.or(
        pairs.flatMap(([a, b]) => [
          eb.and([eb('blocker', '=', a), eb('blocked', '=', b)]),
          eb.and([eb('blocker', '=', b), eb('blocked', '=', a)]),
        ]),
      ),
    )
    .execute();
}
