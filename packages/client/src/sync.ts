// The room list and bringing it up to date. The server's list (GET /api/rooms) only says which
// rooms to look at and what to show of them (names, unread counts, activity); each room is kept
// once its verified chain names this account, and then gets its chain, its key and its messages.
// After every (re)connect the same happens with a subscription in place of the catch-up.
import type { Room } from '@parley/wire';
import type { RoomChains } from './chain';
import type { ClientContext } from './context';
import type { Delivery } from './delivery';
import type { Membership } from './membership';
import type { Messages } from './messages';
import type { RoomKeys } from './room-keys';
import { RoomState } from './room-state';
import { describe, hasExpired, viewOf, type RoomView } from './room-view';

export class RoomSync {
  constructor(
    private readonly ctx: ClientContext,
    private readonly chains: RoomChains,
    private readonly keys: RoomKeys,
    private readonly membership: Membership,
    private readonly messages: Messages,
    private readonly delivery: Delivery,
  ) {}

  /** Rooms this device knows, each with its verified members (none past its expiry time). */
  list(): RoomView[] {
    const { ctx } = this;
    const now = ctx.clock.now();
    return [...ctx.rooms.values()]
      .filter((room) => !hasExpired(room, now))
      .map((room) => viewOf(room, ctx.isMine(room)));
  }

  /**
   * Asks the server for every room's unread count and last activity (GET /api/rooms) and returns
   * the rooms, most recently active first. Rooms this device does not know yet are left to
   * `syncRooms()`; the counts are the server's word, shown, never trusted for anything else.
   */
  async refresh(): Promise<RoomView[]> {
    const answer = await this.ctx.api.rooms();
    for (const summary of answer.rooms) {
      const room = this.ctx.rooms.get(summary.id);
      if (room !== undefined) describe(room, summary);
    }
    await this.chains.forgetDeleted(answer.rooms);
    return this.list().sort((a, b) => (b.lastActivity ?? '').localeCompare(a.lastActivity ?? ''));
  }

  /**
   * Brings every room this account belongs to up to date: new rooms (added while away), chains,
   * keys and messages. `restore` calls it; a connected client does the same on every (re)connect.
   */
  async syncRooms(): Promise<void> {
    const { ctx } = this;
    const answer = await ctx.api.rooms();
    await this.chains.forgetDeleted(answer.rooms);
    for (const summary of answer.rooms) {
      if (ctx.leftBehind.has(summary.id)) continue;
      const room = ctx.rooms.get(summary.id) ?? new RoomState(summary.id);
      describe(room, summary);
      await ctx.serial(room.roomId, async () => {
        await this.chains.sync(room);
        // Listed by the server, kept once the verified chain says this account is in it.
        if (!ctx.rooms.has(room.roomId)) {
          if (!room.isMember(ctx.myId)) return;
          ctx.rooms.set(room.roomId, room);
          ctx.events.emit('joined', { roomId: room.roomId });
        }
        await this.keys.ensureEpochKey(room);
        await this.messages.catchUpNow(room);
      });
    }
  }

  /**
   * After every (re)connect: new rooms, chains, keys; then subscribe with resume and send the
   * outbox. Each room goes on in its own queue, so one slow room does not hold the others back.
   */
  async resync(): Promise<void> {
    const { ctx } = this;
    let summaries: Room[] | undefined;
    try {
      summaries = (await ctx.api.rooms()).rooms;
    } catch (error) {
      ctx.events.emit('error', { operation: 'listRooms', error });
    }
    const listed = new Map<string, RoomState>();
    for (const summary of summaries ?? []) {
      if (ctx.leftBehind.has(summary.id)) continue;
      const room = ctx.rooms.get(summary.id) ?? new RoomState(summary.id);
      describe(room, summary);
      if (!ctx.rooms.has(summary.id)) listed.set(summary.id, room);
    }
    if (summaries !== undefined) await this.chains.forgetDeleted(summaries);
    for (const room of [...ctx.rooms.values(), ...listed.values()]) {
      void ctx
        .serial(room.roomId, async () => {
          await this.chains.sync(room);
          if (!room.isMember(ctx.myId)) return;
          // The server's list names it; the verified chain makes it a room of this account.
          if (!ctx.rooms.has(room.roomId)) ctx.rooms.set(room.roomId, room);
          await this.keys.ensureEpochKey(room);
          ctx.subscribe(room);
          if (room.kind === 'channel') await this.membership.admitPending(room);
        })
        .catch(ctx.report('resync'));
    }
    this.delivery.flush();
  }
}
