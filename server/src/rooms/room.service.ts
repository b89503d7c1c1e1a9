import {
  CryptoError,
  decodeMembershipEntry,
  decodeRoomKeyEnvelope,
  membershipEntryHash,
  toHex,
  verifyMembershipChain,
  verifyMembershipEntrySignature,
  verifyRoomKeyEnvelopeSignature,
  type MembershipEntry,
  type RoomKeyEnvelope,
} from '@parley/crypto';
import type {
  AppendChainResponse,
  ChainPage,
  ChannelPage,
  ChannelQuery,
  CreateRoomRequest,
  BanItem,
  JoinRequestItem,
  PendingJoinItem,
  Room,
  RoomKeyItem,
  UpdateRoomRequest,
} from '@parley/wire';
import { fromBase64Url, toBase64Url } from '../codec';
import { directRefusal } from '../contacts/contact.repository';
import { isUniqueViolation, type Db } from '../db/database';
import { parleyError } from '../errors';
import type { Bus } from '../plugins/bus';
import { publishToRoom, publishToUser } from '../realtime/events';
import { effectOf, type Role } from './chain-rules';
import {
  chainEntries,
  deleteRooms,
  findDirectRoom,
  findRoom,
  findRoomFor,
  identityKeyOf,
  insertRoom,
  isFormerMember,
  isMember,
  notExpired,
  lockRoom,
  rolesOf,
  roomsOf,
  searchChannels,
  userExists,
  type RoomWithMembership,
} from './room.repository';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Rooms as the server keeps them: created from a signed genesis entry, changed only by signed
 * membership entries that follow the head, with room-key envelopes for their members. The server
 * checks signatures and the rules of PROTOCOL.md §5.2 as a first line of defence, and mirrors the
 * effect of each entry in `room_members`, which decides who may read the room's ciphertext.
 */
export function createRoomService(db: Db, bus: Bus) {
  return {
    async create(callerId: string, request: CreateRoomRequest): Promise<Room> {
      const bytes = fromBase64Url(request.genesis, 'genesis');
      const entry = decode(bytes);
      if (toHex(entry.actorId) !== callerId) throw parleyError('NOT_THE_ACTOR');
      const actorKey = await identityKeyOf(db, callerId);
      if (actorKey === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
      let state;
      try {
        [state] = verifyMembershipChain([bytes], entry.roomId, () => actorKey);
      } catch (error) {
        throw chainInvalid(error);
      }
      const { kind, members } = state!;
      checkDetails(kind, request);
      const roomId = toHex(entry.roomId);
      let directPair: string | null = null;
      if (kind === 'direct') {
        const peer = [...members.keys()].find((id) => id !== callerId)!;
        if (!(await userExists(db, peer))) throw parleyError('PEER_NOT_FOUND');
        const refusal = await directRefusal(db, callerId, peer);
        if (refusal !== undefined) throw parleyError(refusal);
        directPair = [callerId, peer].sort().join(':');
        const existing = await findDirectRoom(db, directPair);
        if (existing !== undefined) {
          throw parleyError('ROOM_EXISTS', `A direct conversation exists already: ${existing}`);
        }
      }
      if ((await findRoom(db, roomId)) !== undefined) throw parleyError('ROOM_EXISTS');

      await db
        .transaction()
        .execute(async (trx) => {
          await insertRoom(trx, {
            id: roomId,
            kind,
            name: request.name ?? null,
            topic: request.topic ?? null,
            tags: request.tags ?? [],
            direct_pair: directPair,
            ephemeral: request.ephemeral ?? false,
            expires_at:
              request.expiresInDays === undefined
                ? null
                : new Date(Date.now() + request.expiresInDays * DAY_MS),
            chain_position: 0,
            chain_hash: state!.hash,
            member_count: members.size,
          });
          await trx
            .insertInto('room_members')
            .values(
              [...members].map(([userId, role]) => ({ room_id: roomId, user_id: userId, role })),
            )
            .execute();
          await trx
            .insertInto('chain_entries')
            .values({ room_id: roomId, position: 0, entry: bytes })
            .execute();
        })
        .catch((error: unknown) => {
          // Two creations of one room id, or of one direct pair, racing: the second loses here.
          if (isUniqueViolation(error)) throw parleyError('ROOM_EXISTS');
          throw error;
        });
      return await this.get(callerId, roomId);
    },

    async listMine(callerId: string): Promise<Room[]> {
      return (await roomsOf(db, callerId)).map((row) => toRoom(row, callerId));
    },

    /** Members see their room; anyone sees a channel's description. */
    async get(callerId: string, roomId: string): Promise<Room> {
      const row = await findRoomFor(db, roomId, callerId);
      if (row === undefined) throw parleyError('ROOM_NOT_FOUND');
      if (row.role === null && row.kind !== 'channel') throw parleyError('NOT_A_MEMBER');
      return toRoom(row, callerId);
    },

    /**
     * Renames a channel or group or edits its topic (admins only) and tells its subscribers: names
     * and topics are the rooms' public description, kept by the server in the clear by design.
     */
    async update(callerId: string, roomId: string, patch: UpdateRoomRequest): Promise<Room> {
      await requireAdmin(db, roomId, callerId, 'A direct conversation has no name or topic');
      const updated = await db
        .updateTable('rooms')
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.topic === undefined ? {} : { topic: patch.topic }),
        })
        .where('id', '=', roomId)
        .where(notExpired)
        .returning(['name', 'topic'])
        .executeTakeFirst();
      if (updated === undefined) throw parleyError('ROOM_NOT_FOUND');
      publishToRoom(
        bus,
        roomId,
        { t: 'relay' },
        JSON.stringify({ type: 'room-updated', room: roomId, ...updated }),
      );
      return await this.get(callerId, roomId);
    },

    /** Deletes a room with everything in them (admins only); its subscribers are told `removed`. */
    async remove(callerId: string, roomId: string): Promise<void> {
      await requireAdmin(db, roomId, callerId, 'A direct conversation is left, not deleted');
      const deleted = await deleteRooms(db, [roomId], { expiredOnly: false });
      if (deleted.length === 0) throw parleyError('ROOM_NOT_FOUND');
      publishToRoom(bus, roomId, { t: 'deleted', reason: 'deleted' });
    },

    async browse(callerId: string, query: ChannelQuery): Promise<ChannelPage> {
      const limit = query.limit ?? 20;
      const rows = await searchChannels(db, callerId, {
        ...(query.q === undefined ? {} : { text: query.q }),
        ...(query.tag === undefined ? {} : { tag: query.tag }),
        ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        channels: page.map((row) => toRoom(row, callerId)),
        ...(rows.length > limit && last !== undefined
          ? { cursor: encodeCursor((last.name ?? '').toLowerCase(), last.id) }
          : {}),
      };
    },

    /** Members, former members (to see their own removal) and, for channels, anyone. */
    async chain(
      callerId: string,
      roomId: string,
      after: number | undefined,
      limit: number,
    ): Promise<ChainPage> {
      // The room and the caller's membership in one read.
      const room = await findRoomFor(db, roomId, callerId);
      if (room === undefined) throw parleyError('ROOM_NOT_FOUND');
      if (
        room.kind !== 'channel' &&
        room.role === null &&
        !(await isFormerMember(db, roomId, callerId))
      ) {
        throw parleyError('NOT_A_MEMBER');
      }
      const entries = await chainEntries(db, roomId, after, limit);
      return {
        entries: entries.map((row) => ({
          position: row.position,
          entry: toBase64Url(row.entry),
          appendedAt: row.created_at.toISOString(),
        })),
        head: room.chain_position,
      };
    },

    async append(
      callerId: string,
      roomId: string,
      entryText: string,
    ): Promise<AppendChainResponse> {
      const bytes = fromBase64Url(entryText, 'entry');
      const entry = decode(bytes);
      const appendedAt = new Date();
      if (toHex(entry.roomId) !== roomId) {
        throw parleyError('CHAIN_INVALID', 'The entry names another room');
      }
      if (entry.op === 'genesis') throw parleyError('CHAIN_NOT_ALLOWED', 'A room has one genesis');
      if (toHex(entry.actorId) !== callerId) throw parleyError('NOT_THE_ACTOR');
      const actorKey = await identityKeyOf(db, callerId);
      if (actorKey === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
      // Outside the transaction: the room's lock is held for database work only.
      if (!verifyMembershipEntrySignature(entry, actorKey)) {
        throw parleyError('CHAIN_INVALID', 'The signature does not verify');
      }
      const subjectId = toHex(entry.subjectId);

      const result = await db.transaction().execute(async (trx) => {
        const room = await lockRoom(trx, roomId);
        if (room === undefined) throw parleyError('ROOM_NOT_FOUND');
        if (
          entry.position !== room.chain_position + 1 ||
          !Buffer.from(entry.prevHash).equals(Buffer.from(room.chain_hash))
        ) {
          throw parleyError('CHAIN_CONFLICT');
        }
        const roles = await rolesOf(trx, roomId, [callerId, subjectId]);
        const effect = effectOf(entry, room.kind, roles as Map<string, Role>);
        if (effect === undefined) {
          throw parleyError('CHAIN_NOT_ALLOWED', `${entry.op} is not allowed to this actor here`);
        }
        let { epoch, member_count: memberCount, message_timer: messageTimer } = room;
        switch (effect.kind) {
          case 'join':
            if (!(await userExists(trx, effect.userId))) throw parleyError('USER_NOT_FOUND');
            if (await isBanned(trx, roomId, effect.userId)) throw parleyError('BANNED');
            await trx
              .insertInto('room_members')
              .values({ room_id: roomId, user_id: effect.userId, role: 'member' })
              .execute();
            await trx
              .deleteFrom('room_former_members')
              .where('room_id', '=', roomId)
              .where('user_id', '=', effect.userId)
              .execute();
            await trx
              .deleteFrom('join_requests')
              .where('room_id', '=', roomId)
              .where('user_id', '=', effect.userId)
              .execute();
            memberCount += 1;
            break;
          case 'depart':
            await trx
              .deleteFrom('room_members')
              .where('room_id', '=', roomId)
              .where('user_id', '=', effect.userId)
              .execute();
            await trx
              .insertInto('room_former_members')
              .values({ room_id: roomId, user_id: effect.userId })
              .onConflict((oc) =>
                oc.columns(['room_id', 'user_id']).doUpdateSet({ left_at: new Date() }),
              )
              .execute();
            memberCount -= 1;
            epoch += 1;
            break;
          case 'role':
            await trx
              .updateTable('room_members')
              .set({ role: effect.role })
              .where('room_id', '=', roomId)
              .where('user_id', '=', effect.userId)
              .execute();
            break;
          case 'timer':
            messageTimer = effect.seconds;
            break;
        }
        await trx
          .insertInto('chain_entries')
          .values({
            room_id: roomId,
            position: entry.position,
            entry: bytes,
            created_at: appendedAt,
          })
          .execute();
        await trx
          .updateTable('rooms')
          .set({
            chain_position: entry.position,
            chain_hash: membershipEntryHash(bytes),
            epoch,
            member_count: memberCount,
            message_timer: messageTimer,
            last_activity_at: new Date(),
          })
          .where('id', '=', roomId)
          .execute();
        return {
          position: entry.position,
          epoch,
          departed: effect.kind === 'depart' ? effect.userId : undefined,
        };
      });

      // The frame reaches every subscriber, the departing member's sockets included, before
      // those sockets stop receiving the room.
      publishToRoom(
        bus,
        roomId,
        result.departed === undefined
          ? { t: 'membership', position: result.position }
          : { t: 'membership', position: result.position, departed: result.departed },
        JSON.stringify({
          type: 'membership',
          room: roomId,
          position: result.position,
          entry: entryText,
          appendedAt: appendedAt.toISOString(),
        }),
      );
      return { position: result.position, epoch: result.epoch };
    },

    async requestJoin(
      callerId: string,
      username: string,
      roomId: string,
    ): Promise<JoinRequestItem> {
      const room = await findRoomFor(db, roomId, callerId);
      if (room === undefined) throw parleyError('ROOM_NOT_FOUND');
      if (room.kind !== 'channel')
        throw parleyError('JOIN_NOT_APPLICABLE', 'Only channels take join requests');
      if (room.role !== null) {
        throw parleyError('JOIN_NOT_APPLICABLE', 'Already a member');
      }
      if (await isBanned(db, roomId, callerId)) throw parleyError('BANNED');
      const row = await db
        .insertInto('join_requests')
        .values({ room_id: roomId, user_id: callerId })
        .onConflict((oc) =>
          oc.columns(['room_id', 'user_id']).doUpdateSet({ created_at: new Date() }),
        )
        .returning('created_at')
        .executeTakeFirstOrThrow();
      publishToRoom(
        bus,
        roomId,
        { t: 'relay', except: callerId },
        JSON.stringify({ type: 'join-request', room: roomId, user: callerId, username }),
      );
      return { userId: callerId, username, requestedAt: row.created_at.toISOString() };
    },

    /**
     * Bars a person from a channel or group (admins only): no join request, no add or admit of
     * them is accepted until an admin lifts it. Removing a member is their client's chain entry;
     * the ban is what keeps them out afterwards.
     */
    async ban(callerId: string, roomId: string, userId: string): Promise<void> {
      await requireAdmin(db, roomId, callerId, 'A direct conversation has no admins to ban anyone');
      if (userId === callerId) throw parleyError('BAN_INVALID');
      if (!(await userExists(db, userId))) throw parleyError('USER_NOT_FOUND');
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('room_bans')
          .values({ room_id: roomId, user_id: userId, banned_by: callerId })
          .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
          .execute();
        await trx
          .deleteFrom('join_requests')
          .where('room_id', '=', roomId)
          .where('user_id', '=', userId)
          .execute();
      });
    },

    async unban(callerId: string, roomId: string, userId: string): Promise<void> {
      await requireAdmin(db, roomId, callerId, 'A direct conversation has no bans');
      await db
        .deleteFrom('room_bans')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .execute();
    },

    /** Who is barred from the room, newest first (members may see it; the room's rule is public to them). */
    async bans(callerId: string, roomId: string): Promise<BanItem[]> {
      await requireMember(db, roomId, callerId);
      const rows = await db
        .selectFrom('room_bans')
        .innerJoin('users', 'users.id', 'room_bans.user_id')
        .select(['room_bans.user_id', 'users.username', 'room_bans.created_at'])
        .where('room_bans.room_id', '=', roomId)
        .orderBy('room_bans.created_at', 'desc')
        .limit(1000)
        .execute();
      return rows.map((row) => ({
        userId: row.user_id,
        username: row.username,
        bannedAt: row.created_at.toISOString(),
      }));
    },

    /** Withdraws the caller's own request (nothing to withdraw is not an error: the outcome is the same). */
    async cancelJoin(callerId: string, roomId: string): Promise<void> {
      await db
        .deleteFrom('join_requests')
        .where('room_id', '=', roomId)
        .where('user_id', '=', callerId)
        .execute();
    },

    /** The caller's own requests still waiting for a member to admit them, oldest first. */
    async myJoinRequests(callerId: string): Promise<PendingJoinItem[]> {
      const rows = await db
        .selectFrom('join_requests')
        .innerJoin('rooms', 'rooms.id', 'join_requests.room_id')
        .select(['join_requests.room_id', 'rooms.name', 'join_requests.created_at'])
        .where('join_requests.user_id', '=', callerId)
        .orderBy('join_requests.created_at')
        .limit(1000)
        .execute();
      return rows.map((row) => ({
        roomId: row.room_id,
        name: row.name ?? '',
        requestedAt: row.created_at.toISOString(),
      }));
    },

    async joinRequests(callerId: string, roomId: string): Promise<JoinRequestItem[]> {
      await requireMember(db, roomId, callerId);
      const rows = await db
        .selectFrom('join_requests')
        .innerJoin('users', 'users.id', 'join_requests.user_id')
        .select(['join_requests.user_id', 'users.username', 'join_requests.created_at'])
        .where('join_requests.room_id', '=', roomId)
        .orderBy('join_requests.created_at')
        .limit(1000)
        .execute();
      return rows.map((row) => ({
        userId: row.user_id,
        username: row.username,
        requestedAt: row.created_at.toISOString(),
      }));
    },

    /**
     * Stores room-key envelopes from their distributor (the caller) to current members, each
     * signature checked against the caller's identity key, and pushes each to its recipient.
     */
    async postKeys(callerId: string, roomId: string, texts: string[]): Promise<number> {
      const actorKey = await identityKeyOf(db, callerId);
      if (actorKey === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
      const envelopes = texts.map((text, index) => {
        const bytes = fromBase64Url(text, `envelopes[${index}]`);
        let envelope: RoomKeyEnvelope;
        try {
          envelope = decodeRoomKeyEnvelope(bytes);
        } catch (error) {
          throw parleyError('ENVELOPE_INVALID', `envelopes[${index}]: does not decode`, error);
        }
        if (toHex(envelope.roomId) !== roomId) {
          throw parleyError('ENVELOPE_INVALID', `envelopes[${index}]: names another room`);
        }
        if (toHex(envelope.distributorId) !== callerId) {
          throw parleyError('NOT_THE_ACTOR', `envelopes[${index}]: names another distributor`);
        }
        if (!verifyRoomKeyEnvelopeSignature(envelope, actorKey)) {
          throw parleyError(
            'ENVELOPE_INVALID',
            `envelopes[${index}]: the signature does not verify`,
          );
        }
        return { bytes, text, epoch: envelope.epoch, recipient: toHex(envelope.recipientId) };
      });

      await db.transaction().execute(async (trx) => {
        // Shared with chain appends' exclusive lock: no removal slips between check and insert.
        const room = await trx
          .selectFrom('rooms')
          .select(['epoch'])
          .where('id', '=', roomId)
          .where(notExpired)
          .forShare()
          .executeTakeFirst();
        if (room === undefined) throw parleyError('ROOM_NOT_FOUND');
        const recipients = [...new Set([callerId, ...envelopes.map((e) => e.recipient)])];
        const members = await rolesOf(trx, roomId, recipients);
        if (!members.has(callerId)) throw parleyError('NOT_A_MEMBER');
        envelopes.forEach((envelope, index) => {
          if (!members.has(envelope.recipient)) {
            throw parleyError(
              'ENVELOPE_INVALID',
              `envelopes[${index}]: the recipient is not a member`,
            );
          }
          if (envelope.epoch > room.epoch) {
            throw parleyError('ENVELOPE_INVALID', `envelopes[${index}]: the epoch has not started`);
          }
        });
        await trx
          .insertInto('room_key_envelopes')
          .values(
            envelopes.map((envelope) => ({
              room_id: roomId,
              epoch: envelope.epoch,
              recipient_id: envelope.recipient,
              distributor_id: callerId,
              envelope: envelope.bytes,
            })),
          )
          .execute();
      });
      for (const envelope of envelopes) {
        publishToUser(
          bus,
          envelope.recipient,
          JSON.stringify({
            type: 'key',
            room: roomId,
            epoch: envelope.epoch,
            distributor: callerId,
            envelope: envelope.text,
          }),
        );
      }
      return envelopes.length;
    },

    /** The caller's own envelopes, every epoch unless one is asked for. */
    async myKeys(
      callerId: string,
      roomId: string,
      epoch: number | undefined,
    ): Promise<RoomKeyItem[]> {
      await requireMember(db, roomId, callerId);
      let query = db
        .selectFrom('room_key_envelopes')
        .select(['epoch', 'distributor_id', 'envelope', 'created_at'])
        .where('room_id', '=', roomId)
        .where('recipient_id', '=', callerId);
      if (epoch !== undefined) query = query.where('epoch', '=', epoch);
      const rows = await query.orderBy('id').limit(10_000).execute();
      return rows.map((row) => ({
        epoch: row.epoch,
        distributor: row.distributor_id,
        envelope: toBase64Url(row.envelope),
        createdAt: row.created_at.toISOString(),
      }));
    },
  };
}

export type RoomService = ReturnType<typeof createRoomService>;

/** ROOM_NOT_FOUND or NOT_A_MEMBER unless `userId` is a member of the room. */
export async function requireMember(db: Db, roomId: string, userId: string): Promise<void> {
  if (await isMember(db, roomId, userId)) return;
  if ((await findRoom(db, roomId)) === undefined) throw parleyError('ROOM_NOT_FOUND');
  throw parleyError('NOT_A_MEMBER');
}

/**
 * Refuses unless the room exists, is a channel or group (direct conversations have no admins:
 * `directRefusal` says why) and `userId` is an admin of it.
 */
async function isBanned(db: Db, roomId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('room_bans')
    .select('user_id')
    .where('room_id', '=', roomId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

async function requireAdmin(
  db: Db,
  roomId: string,
  userId: string,
  directRefusal: string,
): Promise<void> {
  const room = await findRoomFor(db, roomId, userId);
  if (room === undefined) throw parleyError('ROOM_NOT_FOUND');
  if (room.role === null) throw parleyError('NOT_A_MEMBER');
  if (room.kind === 'direct') throw parleyError('ROOM_DETAILS_INVALID', directRefusal);
  if (room.role !== 'admin') throw parleyError('NOT_AN_ADMIN');
}

function decode(bytes: Uint8Array): MembershipEntry {
  try {
    return decodeMembershipEntry(bytes);
  } catch (error) {
    throw chainInvalid(error);
  }
}

function chainInvalid(error: unknown): Error {
  const detail = error instanceof CryptoError ? ` (${error.code})` : '';
  return parleyError('CHAIN_INVALID', `The entry does not verify${detail}`, error);
}

function checkDetails(kind: Room['kind'], request: CreateRoomRequest): void {
  const ok =
    kind === 'channel'
      ? request.name !== undefined && request.topic !== undefined
      : kind === 'group'
        ? request.name !== undefined && request.tags === undefined
        : request.name === undefined && request.topic === undefined && request.tags === undefined;
  if (!ok) throw parleyError('ROOM_DETAILS_INVALID');
}

function toRoom(row: RoomWithMembership, callerId: string): Room {
  const peer =
    row.direct_pair === null
      ? null
      : (row.direct_pair.split(':').find((id) => id !== callerId) ?? null);
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    topic: row.topic,
    tags: row.tags,
    peer,
    ephemeral: row.ephemeral,
    expiresAt: row.expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    headSeq: row.head_seq,
    chainHead: row.chain_position,
    epoch: row.epoch,
    memberCount: row.member_count,
    lastActivityAt: row.last_activity_at.toISOString(),
    membership:
      row.role === null
        ? null
        : {
            role: row.role,
            deliveredSeq: row.delivered_seq ?? 0,
            readSeq: row.read_seq ?? 0,
            unread: Math.max(0, row.head_seq - (row.read_seq ?? 0)),
          },
  };
}

function encodeCursor(name: string, id: string): string {
  return Buffer.from(JSON.stringify([name, id])).toString('base64url');
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const ROOM_ID = /^[0-9a-f]{32}$/;

function decodeCursor(cursor: string): { name: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what encodeCursor can make: a name without control characters (PostgreSQL text
    // cannot hold U+0000, so anything else would fail in the query) and a room id.
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      !CONTROL_CHARACTER.test(value[0]) &&
      ROOM_ID.test(value[1])
    ) {
      return { name: value[0], id: value[1] };
    }
  } catch {
    // Reported below.
  }
  throw parleyError('VALIDATION_FAILED', 'cursor: not a cursor this server issued');
}
