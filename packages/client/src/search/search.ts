// Search in this device's history: every message the device verifies and decrypts (live, caught
// up, or paged back through history) goes into the index, edits and deletes that take effect
// change it, and what must no longer be shown leaves it: messages past the room's timer, and every
// message of a room left, removed from, expired or deleted. Nothing of it is ever sent: queries
// run on the device, over the sealed index `store.ts` keeps.
import { fromHex, toHex } from '@parley/crypto';
import type { ClientContext } from '../context';
import { disappearsAt } from '../disappearing';
import type { ReceivedMessage } from '../events';
import { SearchIndex, type SearchHit } from './index';
import { SealedIndexStore } from './store';

export type { SearchHit, SnippetPart } from './index';

/** How often messages past a room's timer are taken out while the client runs. */
const SWEEP_MS = 60_000;

export class MessageSearch {
  private index: SearchIndex | undefined;
  private store: SealedIndexStore | undefined;
  private loading: Promise<SearchIndex> | undefined;
  private sweepTimer: unknown;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly ctx: ClientContext,
    private readonly saveDelayMs: number,
  ) {
    const { events } = ctx;
    this.offs.push(
      events.on('message', (message) => this.take([message])),
      events.on('removed', ({ roomId }) => void this.forgetRoom(roomId)),
      events.on('expired', ({ roomId }) => void this.forgetRoom(roomId)),
      events.on('deleted', ({ roomId }) => void this.forgetRoom(roomId)),
      events.on('room-updated', ({ roomId }) => {
        void this.run((index) => {
          index.renameRoom(roomId, this.roomName(roomId));
          return true;
        });
      }),
      // A timer set or changed: what is now past it leaves at once; so does a room left.
      events.on('membership', ({ roomId }) => {
        const room = ctx.rooms.get(roomId);
        if (room !== undefined && ctx.secrets !== undefined && !ctx.isMine(room)) {
          this.forgetRoom(roomId);
        } else void this.run((index) => this.sweep(index) > 0);
      }),
    );
  }

  /**
   * Messages of this device's history that match every word of `query` (the last as a prefix),
   * best first: across rooms, or in `roomId` only.
   */
  async search(
    query: string,
    options: { roomId?: string; limit?: number } = {},
  ): Promise<SearchHit[]> {
    const index = await this.ready('search');
    if (this.sweep(index) > 0) this.changed(index);
    const now = this.ctx.clock.now();
    return index.search(query, {
      ...options,
      keep: (roomId, at) => this.isMember(roomId) && !this.isPast(roomId, at, now),
    });
  }

  /** Indexes messages read from history (which emits no `message` event); returns them. */
  taken(messages: ReceivedMessage[]): ReceivedMessage[] {
    this.take(messages);
    return messages;
  }

  /** How many messages the index holds, and how many bytes it took sealed at its last write. */
  async stats(): Promise<{ messages: number; sealedBytes: number }> {
    const index = await this.ready('searchStats');
    return { messages: index.size, sealedBytes: this.store?.lastSealedBytes ?? 0 };
  }

  /** Writes what is pending (before the key store closes). */
  async flush(): Promise<void> {
    if (this.sweepTimer !== undefined) this.ctx.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.index !== undefined && this.store !== undefined) {
      await this.store.flush(this.index, () => this.sweep(this.index!));
    }
  }

  /** The key store was erased (log out with `forget`): the index in memory goes too. */
  reset(): void {
    this.store?.cancel();
    if (this.sweepTimer !== undefined) this.ctx.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.index = undefined;
    this.store = undefined;
    this.loading = undefined;
  }

  stop(): void {
    for (const off of this.offs) off();
  }

  private take(messages: readonly ReceivedMessage[]): void {
    if (messages.length === 0 || this.ctx.secrets === undefined) return;
    void this.run((index) => {
      let changed = false;
      for (const message of messages) changed = this.apply(index, message) || changed;
      return changed;
    });
  }

  private apply(index: SearchIndex, message: ReceivedMessage): boolean {
    const { payload } = message;
    if (payload.kind === 'text') {
      if (payload.text.trim() === '' && payload.attachments.length === 0) return false;
      const names = payload.attachments.map((file) => file.name).join(' ');
      return index.add({
        id: message.messageId,
        roomId: message.roomId,
        roomName: this.roomName(message.roomId),
        seq: message.seq,
        senderId: message.senderId,
        senderName: message.senderName ?? '',
        text: names === '' ? payload.text : `${payload.text}\n${names}`.trim(),
        at: sentTime(message),
      });
    }
    if (payload.target.length === 0) return false;
    const target = toHex(payload.target);
    if (payload.kind === 'edit') {
      return index.edit(target, {
        text: payload.text,
        seq: message.seq,
        senderId: message.senderId,
      });
    }
    if (payload.kind === 'delete') {
      const room = this.ctx.rooms.get(message.roomId);
      const moderator =
        room !== undefined && room.kind !== 'direct' && room.roleOf(message.senderId) === 'admin';
      return index.delete(target, message.senderId, moderator);
    }
    return false;
  }

  /** Forgets a room's messages (this account left it, or it is gone). */
  forgetRoom(roomId: string): Promise<void> {
    return this.run((index) => index.forgetRoom(roomId) > 0);
  }

  /** Runs a change on the loaded index and schedules the sealed write when it changed anything. */
  private async run(change: (index: SearchIndex) => boolean): Promise<void> {
    try {
      const index = await this.ready('search');
      if (change(index)) this.changed(index);
    } catch (error) {
      this.ctx.report('search index')(error);
    }
  }

  private changed(index: SearchIndex): void {
    this.store?.schedule(index, () => this.sweep(index));
    this.scheduleSweep(index);
  }

  private ready(operation: string): Promise<SearchIndex> {
    if (this.index !== undefined) return Promise.resolve(this.index);
    const secrets = this.ctx.requireSecrets(operation);
    this.loading ??= (async () => {
      const store = new SealedIndexStore(
        this.ctx.store,
        fromHex(secrets.record.userId),
        this.ctx.clock,
        this.ctx.logger,
        this.saveDelayMs,
      );
      const index = await store.load();
      this.store = store;
      this.index = index;
      // Rooms forgotten while the index was not loaded (another run) leave it now.
      for (const roomId of index.roomsIndexed()) {
        if (!this.isMember(roomId)) index.forgetRoom(roomId);
      }
      return index;
    })();
    return this.loading;
  }

  private isMember(roomId: string): boolean {
    const room = this.ctx.rooms.get(roomId);
    return room !== undefined && this.ctx.isMine(room);
  }

  /** Takes out messages past their room's timer; returns how many. */
  private sweep(index: SearchIndex): number {
    const now = this.ctx.clock.now();
    return index.removeWhere((message) => this.isPast(message.roomId, message.at, now));
  }

  /** While some indexed room has a timer, a sweep every minute keeps the index within it. */
  private scheduleSweep(index: SearchIndex): void {
    if (this.sweepTimer !== undefined) return;
    const timed = index
      .roomsIndexed()
      .some((roomId) => (this.ctx.rooms.get(roomId)?.timer ?? 0) > 0);
    if (!timed) return;
    this.sweepTimer = this.ctx.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      if (this.sweep(index) > 0) this.changed(index);
      else this.scheduleSweep(index);
    }, SWEEP_MS);
    if (
      typeof this.sweepTimer === 'object' &&
      this.sweepTimer !== null &&
      'unref' in this.sweepTimer
    ) {
      (this.sweepTimer as { unref(): void }).unref();
    }
  }

  private isPast(roomId: string, at: number, now: number): boolean {
    const timer = this.ctx.rooms.get(roomId)?.timer ?? 0;
    return timer > 0 && at + timer * 1000 <= now;
  }

  /** The name a person knows the room by: its name, or for a direct conversation the other person. */
  private roomName(roomId: string): string {
    const room = this.ctx.rooms.get(roomId);
    if (room === undefined) return '';
    if (room.info.name !== undefined && room.info.name !== '') return room.info.name;
    const me = this.ctx.secrets?.record.userId;
    const peer = [...room.members().keys()].find((id) => id !== me);
    return (peer === undefined ? undefined : this.ctx.trust.get(peer)?.username) ?? '';
  }
}

/** The earlier of the sender's and the server's clocks, as the timer counts (disappearing.ts). */
function sentTime(message: ReceivedMessage): number {
  return (disappearsAt(message, 1) as number) - 1000;
}
