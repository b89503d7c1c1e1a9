// Changing who is in a room: creating one (its genesis entry), adding, removing, promoting,
// demoting, leaving, and a channel's join requests and admissions. Every change is an entry this
// device signs and checks against the chain's rules before the server sees it; a conflict with
// another member's change re-reads the chain and tries again on the new head. Room keys follow:
// an added member gets the current key, a removal starts an epoch the removed member never sees.
import {
  CryptoError,
  createGenesis,
  fromHex,
  generateId,
  toBase64Url,
  toHex,
  type RoomKind,
} from '@parley/crypto';
import type { BanItem, PendingJoinItem } from '@parley/wire';
import type { RoomSummary } from './room-state';
import type { RoomChains } from './chain';
import type { ClientContext } from './context';
import { ClientError, fromCryptoError, isClientError } from './errors';
import type { RoomKeys } from './room-keys';
import { RoomState } from './room-state';
import {
  channelListingOf,
  describe,
  summaryOf,
  viewOf,
  type ChannelListing,
  type RoomLifetime,
  type RoomView,
} from './room-view';

export type MembershipOp = 'add' | 'remove' | 'promote' | 'demote' | 'leave' | 'set-timer';

export interface MembershipHooks {
  /** Brings every room of this account up to date (a direct conversation that exists already). */
  syncRooms(): Promise<void>;
}

export class Membership {
  constructor(
    private readonly ctx: ClientContext,
    private readonly chains: RoomChains,
    private readonly keys: RoomKeys,
    private readonly hooks: MembershipHooks,
  ) {}

  view(roomId: string, operation = 'room'): RoomView {
    const room = this.ctx.requireRoom(roomId, operation);
    return viewOf(room, this.ctx.isMine(room));
  }

  /**
   * Creates a room: its genesis entry signed here, then the first epoch's key sealed to its
   * members. A direct conversation with a peer who has one with us already is that one.
   */
  async create(
    kind: RoomKind,
    info: { name?: string; topic?: string; tags?: string[] },
    peerId?: string,
    lifetime: RoomLifetime = {},
  ): Promise<RoomView> {
    const { ctx } = this;
    const secrets = ctx.requireSecrets('createRoom');
    const roomIdBytes = generateId();
    const genesis = createGenesis({
      roomId: roomIdBytes,
      kind,
      ...(peerId === undefined ? {} : { peerId: fromHex(peerId) }),
      actorId: fromHex(secrets.record.userId),
      actor: secrets.identity,
    });
    const roomId = toHex(roomIdBytes);
    let summary: RoomSummary;
    try {
      const created = await ctx.api.createRoom({
        genesis: toBase64Url(genesis),
        ...info,
        // Undefined fields are left out of the JSON.
        ...lifetime,
      });
      summary = summaryOf(created);
    } catch (error) {
      // A direct conversation with this peer exists already: use that one. Neither the server's
      // word that it exists nor its room list says which room that is: the one used is the room
      // whose verified genesis entry makes this account and the peer its two parties.
      if (kind !== 'direct' || !isClientError(error, 'ROOM_EXISTS')) throw error;
      await this.hooks.syncRooms();
      const me = secrets.record.userId;
      const existing = [...ctx.rooms.values()].find(
        (room) => room.kind === 'direct' && room.isMember(me) && room.peerOf(me) === peerId,
      );
      if (existing === undefined) {
        throw new ClientError(
          'DIRECT_ROOM_UNVERIFIED',
          'createDirect',
          'The server says a conversation with this person exists, but no verified room is one',
        );
      }
      return this.view(existing.roomId);
    }
    const room = new RoomState(roomId);
    room.info = info;
    room.summary = summary;
    ctx.rooms.set(roomId, room);
    await ctx.serial(roomId, async () => {
      room.applyChain([genesis], ctx.people.identityKeyOf);
      room.dateUndated(ctx.clock);
      await this.keys.distributeNewKey(room);
      await ctx.saveRoom(room);
    });
    ctx.subscribe(room);
    return viewOf(room, ctx.isMine(room));
  }

  createChannel(
    input: { name: string; topic: string; tags?: string[] } & RoomLifetime,
  ): Promise<RoomView> {
    const { expiresInDays, ephemeral, ...info } = input;
    return this.create('channel', info, undefined, { expiresInDays, ephemeral });
  }

  /** A private group; `members` (usernames) are added one after the other by this admin. */
  async createGroup(input: { name: string; members?: string[] } & RoomLifetime): Promise<RoomView> {
    const { people } = this.ctx;
    const members = await Promise.all((input.members ?? []).map((name) => people.lookUp(name)));
    const view = await this.create('group', { name: input.name }, undefined, {
      expiresInDays: input.expiresInDays,
      ephemeral: input.ephemeral,
    });
    for (const member of members) await this.change(view.roomId, 'add', member.userId);
    return this.view(view.roomId);
  }

  /** A direct conversation with one person; the existing one when there is one already. */
  async createDirect(username: string): Promise<RoomView> {
    const peer = await this.ctx.people.lookUp(username);
    return this.create('direct', {}, peer.userId);
  }

  async browseChannels(
    query: { q?: string; tag?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ channels: ChannelListing[]; cursor?: string }> {
    const answer = await this.ctx.api.channels(query);
    return {
      channels: answer.channels.map(channelListingOf),
      ...(answer.cursor === undefined ? {} : { cursor: answer.cursor }),
    };
  }

  /**
   * Asks to join a channel. The request waits on the server until a member's client lets this
   * account in (any member's, as soon as one is online); then `joined` fires for the room.
   */
  async requestJoin(roomId: string): Promise<void> {
    this.ctx.requireSecrets('requestJoin');
    await this.ctx.api.requestJoin(roomId);
  }

  /** Withdraws a join request (nothing happens when there is none). */
  async cancelJoin(roomId: string): Promise<void> {
    await this.ctx.api.cancelJoin(roomId);
  }

  /** This account's join requests that no member has answered yet, oldest first. */
  async pendingJoins(): Promise<PendingJoinItem[]> {
    return (await this.ctx.api.myJoinRequests()).requests;
  }

  /**
   * Asks to join a channel and waits until an online member's client has admitted this account
   * and sealed the room key to it (TIMEOUT after `timeoutMs`; the request stays pending then).
   */
  async join(roomId: string, options: { timeoutMs?: number } = {}): Promise<RoomView> {
    const { ctx } = this;
    const operation = 'join';
    ctx.requireSecrets(operation);
    const deadline = ctx.clock.now() + (options.timeoutMs ?? 30_000);
    await ctx.api.requestJoin(roomId);
    const room = ctx.rooms.get(roomId) ?? new RoomState(roomId);
    ctx.rooms.set(roomId, room);
    for (;;) {
      const keyArrived = ctx.events.next('room-key', (event) => event.roomId === roomId);
      await ctx.serial(roomId, async () => {
        await this.chains.sync(room).catch((error: unknown) => {
          if (!isClientError(error, 'FORBIDDEN') && !isClientError(error, 'NOT_FOUND')) throw error;
        });
        if (room.isMember(ctx.myId)) await this.keys.fetchKeys(room);
      });
      if (room.isMember(ctx.myId) && room.currentKey() !== undefined) break;
      if (ctx.clock.now() >= deadline) {
        throw new ClientError('TIMEOUT', operation, 'no member admitted this account in time');
      }
      await Promise.race([keyArrived, ctx.sleep(500)]);
    }
    describe(room, await ctx.api.room(roomId));
    await ctx.saveRoom(room);
    ctx.subscribe(room);
    ctx.events.emit('joined', { roomId });
    return viewOf(room, ctx.isMine(room));
  }

  /**
   * Appends one membership entry signed by this account; keys follow the change. `timer` is the
   * seconds a `set-timer` entry sets.
   */
  async change(roomId: string, op: MembershipOp, subjectId: string, timer?: number): Promise<void> {
    const { ctx } = this;
    const operation =
      op === 'add'
        ? 'addMember'
        : op === 'remove'
          ? 'removeMember'
          : op === 'set-timer'
            ? 'setMessageTimer'
            : op;
    const secrets = ctx.requireSecrets(operation);
    const room = ctx.requireRoom(roomId, operation);
    await ctx.serial(roomId, async () => {
      if (op === 'add') {
        await ctx.people.ensurePinned([subjectId]);
        // Refuse before the chain changes: a member added with no key sealed to them is no use,
        // and a changed key (KEY_CHANGE_PENDING) gets nothing until the user accepts it.
        ctx.trust.encryptionKeyFor(subjectId);
      }
      for (let attempt = 0; ; attempt++) {
        await this.chains.sync(room);
        let entry: Uint8Array;
        try {
          entry = room.nextEntry(secrets.record.userId, secrets.identity, op, subjectId, timer);
        } catch (error) {
          throw fromCryptoError(error, operation);
        }
        // Check locally first: the chain's rules decide, and a refusal needs no round trip.
        const candidate = [...room.chain, entry];
        try {
          room.checkChain(candidate, ctx.people.identityKeyOf);
        } catch (error) {
          if (error instanceof CryptoError && error.code === 'CHAIN_ACTOR_NOT_ALLOWED') {
            throw new ClientError(
              'NOT_ALLOWED',
              operation,
              `${op} is not allowed to this account here`,
            );
          }
          throw fromCryptoError(error, operation);
        }
        try {
          await ctx.api.appendChain(roomId, toBase64Url(entry));
        } catch (error) {
          // Someone else appended first: re-read the chain and try again on the new head.
          if (isClientError(error, 'CHAIN_CONFLICT') && attempt < 3) continue;
          throw error;
        }
        room.applyChain(candidate, ctx.people.identityKeyOf);
        room.dateUndated(ctx.clock);
        break;
      }
      if (op === 'add') await this.keys.sealCurrentKeyTo(room, [subjectId]);
      if (op === 'remove') await this.keys.distributeNewKey(room);
      room.forgetDisappeared(ctx.clock.now());
      await ctx.saveRoom(room);
    });
  }

  /** Renames a channel or group or edits its topic (admins); members hear `room-updated`. */
  async updateRoom(roomId: string, details: { name?: string; topic?: string }): Promise<RoomView> {
    const { ctx } = this;
    const room = ctx.requireRoom(roomId, 'updateRoom');
    const answer = await ctx.api.updateRoom(roomId, details);
    await ctx.serial(roomId, () => this.described(room, answer.name, answer.topic));
    return viewOf(room, ctx.isMine(room));
  }

  /**
   * Bars a person from the room (admins): a member is removed first (a new epoch they cannot
   * read), then the server refuses their join requests and anyone adding or admitting them.
   */
  async ban(roomId: string, userId: string): Promise<void> {
    const room = this.ctx.requireRoom(roomId, 'ban');
    if (room.isMember(userId)) await this.change(roomId, 'remove', userId);
    await this.ctx.api.ban(roomId, userId);
  }

  async unban(roomId: string, userId: string): Promise<void> {
    await this.ctx.api.unban(roomId, userId);
  }

  async bans(roomId: string): Promise<BanItem[]> {
    return (await this.ctx.api.bans(roomId)).bans;
  }

  /** Deletes a channel or group with everything in it (admins); forgotten here at once. */
  async deleteRoom(roomId: string): Promise<void> {
    const { ctx } = this;
    const room = ctx.requireRoom(roomId, 'deleteRoom');
    await ctx.api.deleteRoom(roomId);
    await ctx.serial(roomId, () => this.chains.forget(room, 'deleted'));
  }

  /** Takes the room's new name and topic, as the server says them. */
  async described(room: RoomState, name: string | null, topic: string | null): Promise<void> {
    const { ctx } = this;
    room.info = { ...room.info, name: name ?? undefined, topic: topic ?? undefined };
    await ctx.saveRoom(room);
    ctx.events.emit('room-updated', {
      roomId: room.roomId,
      name: room.info.name,
      topic: room.info.topic,
    });
  }

  /** Admits pending join requests of a channel (an online member's duty, no person needed). */
  async admitPending(room: RoomState): Promise<void> {
    const answer = await this.ctx.api.joinRequests(room.roomId).catch(() => ({ requests: [] }));
    for (const request of answer.requests) await this.admit(room, request.userId);
  }

  /** Admits one person to a channel and seals them its key (any member may, once). */
  async admit(room: RoomState, userId: string): Promise<void> {
    const { ctx } = this;
    const secrets = ctx.secrets;
    if (secrets === undefined || room.kind !== 'channel' || !room.isMember(secrets.record.userId))
      return;
    if (room.isMember(userId)) return;
    await ctx.people.ensurePinned([userId]);
    const contact = ctx.trust.get(userId);
    if (contact === undefined || contact.pendingChange !== undefined) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = room.nextEntry(secrets.record.userId, secrets.identity, 'admit', userId);
      try {
        await ctx.api.appendChain(room.roomId, toBase64Url(entry));
      } catch (error) {
        // Another member admitted them (or changed the chain) first.
        if (!isClientError(error, 'CHAIN_CONFLICT')) throw error;
        await this.chains.sync(room);
        if (room.isMember(userId)) return;
        continue;
      }
      await this.chains.apply(room, [...room.chain, entry]);
      await this.keys.sealCurrentKeyTo(room, [userId]);
      ctx.events.emit('admitted', { roomId: room.roomId, userId });
      return;
    }
  }
}
