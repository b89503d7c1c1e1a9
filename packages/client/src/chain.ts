// Each room's membership chain (PROTOCOL.md §5): read from the server page by page, verified whole
// on this device, and the only source of who is in a room. A room becomes one of this account's
// only when its verified chain names the account, whatever the server's lists or key frames say,
// and is forgotten here when the server deleted it at its expiry.
import { CryptoError, fromBase64Url } from '@parley/crypto';
import type { Room } from '@parley/wire';
import { ROOM_PREFIX, type ClientContext } from './context';
import { ClientError, fromCryptoError, isClientError } from './errors';
import { membershipLines } from './membership-log';
import type { RoomKeys } from './room-keys';
import { RoomState } from './room-state';
import { describe } from './room-view';

/** Chain pages per sync: a chain that never ends is a server's attack, not a long room. */
const CHAIN_PAGES = 1000;

export class RoomChains {
  /** Rooms named by a key frame whose chain is being verified (not listed until it shows us). */
  private readonly adopting = new Map<string, RoomState>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly keys: RoomKeys,
  ) {}

  /** The rooms the key store holds (their chains were verified when they were saved). */
  async load(): Promise<void> {
    const { store, rooms, people } = this.ctx;
    for (const key of await store.keys(ROOM_PREFIX)) {
      const record = await store.get(key);
      if (record === undefined) continue;
      const room = RoomState.fromRecord(record, people.identityKeyOf);
      rooms.set(room.roomId, room);
    }
  }

  /** A room of this account, or one being adopted (its frames queue behind the adoption). */
  known(roomId: string): RoomState | undefined {
    return this.ctx.rooms.get(roomId) ?? this.adopting.get(roomId);
  }

  /**
   * Fetches the chain entries after the verified head and verifies the whole chain again (§5.3).
   * A failure is reported as a verification failure and thrown; the old chain stays.
   */
  async sync(room: RoomState): Promise<void> {
    const head = room.head;
    const fresh: Uint8Array[] = [];
    let after = head?.position;
    for (let pages = 0; ; pages++) {
      if (pages === CHAIN_PAGES) {
        throw new ClientError('BAD_RESPONSE', 'syncChain', 'the chain does not end');
      }
      const page = await this.ctx.api.chain(room.roomId, after);
      const entries = page.entries
        .filter((item) => after === undefined || item.position > after)
        .sort((a, b) => a.position - b.position);
      fresh.push(...entries.map((item) => fromBase64Url(item.entry)));
      for (const item of entries) {
        if (item.appendedAt !== undefined) room.chainTimes.set(item.position, item.appendedAt);
      }
      const last = entries.at(-1)?.position;
      if (last === undefined || last >= page.head) break;
      after = last;
    }
    if (fresh.length === 0 && head !== undefined) return;
    await this.apply(room, [...room.chain, ...fresh]);
  }

  /** Verifies `entries` as the room's whole chain and takes it; a new epoch gets its key. */
  async apply(room: RoomState, entries: Uint8Array[]): Promise<void> {
    const { ctx } = this;
    const wasMember = ctx.isMine(room);
    const epochBefore = room.epoch;
    const known = room.chain.length;
    await ctx.people.ensurePinned(RoomState.actorsOf(entries));
    try {
      room.applyChain(entries, ctx.people.identityKeyOf);
    } catch (error) {
      if (error instanceof CryptoError) {
        ctx.people.fail({
          code: error.code,
          severity: 'critical',
          roomId: room.roomId,
          detail: error.message,
        });
      }
      throw fromCryptoError(error, 'syncChain');
    }
    const isMember = room.isMember(ctx.myId);
    room.dateUndated(ctx.clock);
    const changes = membershipLines(room.roomId, room.chain, room.chainTimes, known);
    ctx.events.emit('membership', {
      roomId: room.roomId,
      epoch: room.epoch,
      members: new Map(room.members()),
      changes,
    });
    if (wasMember && !isMember) {
      const removal = changes.findLast((line) => line.subjectId === ctx.myId);
      ctx.events.emit('removed', { roomId: room.roomId, by: removal?.actorId });
    }
    if (isMember && room.epoch !== epochBefore) await this.keys.ensureEpochKey(room);
    await ctx.saveRoom(room);
  }

  /** A room this device learns of from a key sealed to it (it was just added or admitted). */
  async adopt(roomId: string): Promise<void> {
    if (this.ctx.rooms.has(roomId) || this.adopting.has(roomId)) return;
    if (this.ctx.leftBehind.has(roomId)) return;
    // A key frame names a room, but only the room's verified chain makes it one of this
    // account's: until then the room waits here, out of the room list (its frames still queue).
    const room = new RoomState(roomId);
    this.adopting.set(roomId, room);
    try {
      await this.ctx.serial(roomId, () => this.adoptVerified(room));
    } finally {
      this.adopting.delete(roomId);
    }
  }

  /**
   * Rooms the server no longer lists, and says no longer exist, were deleted (at their expiry, or
   * by an admin while this device was away): forgotten here too. (A room the account was removed
   * from is NOT_A_MEMBER.)
   */
  async forgetDeleted(listed: Room[]): Promise<void> {
    const { ctx } = this;
    const ids = new Set(listed.map((summary) => summary.id));
    for (const room of [...ctx.rooms.values()]) {
      if (ids.has(room.roomId)) continue;
      // Not listed because this account left or was removed: the server would only say so.
      if (!room.isMember(ctx.myId)) continue;
      const gone = await ctx.api.room(room.roomId).then(
        () => false,
        (error: unknown) => isClientError(error, 'ROOM_NOT_FOUND'),
      );
      const why = room.summary?.expiresAt == null ? 'deleted' : 'expired';
      if (gone) await ctx.serial(room.roomId, () => this.forget(room, why));
    }
  }

  /**
   * Erases a deleted room from this device: its chain, epoch keys and counters. `why` names the
   * event that says so: `expired` at the end of its lifetime, `deleted` by an admin.
   */
  async forget(room: RoomState, why: 'expired' | 'deleted' = 'expired'): Promise<void> {
    const { ctx } = this;
    if (ctx.rooms.get(room.roomId) !== room) return;
    ctx.rooms.delete(room.roomId);
    await ctx.store.delete(ROOM_PREFIX + room.roomId);
    ctx.events.emit(why, { roomId: room.roomId });
  }

  private async adoptVerified(room: RoomState): Promise<void> {
    const { ctx } = this;
    const roomId = room.roomId;
    // Subscribed (and described) before the chain and the key are read, so the room shows as
    // writable only once it is also heard: an ephemeral room replays nothing. Frames that
    // arrive meanwhile wait in this room's queue until the key is in. The server refuses the
    // subscription of a non-member, and the chain below decides.
    ctx.subscribe(room);
    const described = await ctx.api.room(roomId).catch((error: unknown) => {
      if (isClientError(error, 'NOT_A_MEMBER') || isClientError(error, 'ROOM_NOT_FOUND')) {
        return undefined;
      }
      throw error;
    });
    if (described !== undefined) describe(room, described);
    await this.sync(room);
    if (!room.isMember(ctx.myId)) {
      ctx.send({ type: 'unsubscribe', room: roomId });
      await ctx.store.delete(ROOM_PREFIX + roomId);
      return;
    }
    ctx.rooms.set(roomId, room);
    await this.keys.fetchKeys(room);
    await ctx.saveRoom(room);
    ctx.events.emit('joined', { roomId });
  }
}
