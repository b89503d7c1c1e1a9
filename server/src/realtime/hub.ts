import type { FastifyBaseLogger } from 'fastify';
import type { RemovedReason } from '@parley/wire';
import { toBase64Url } from '../codec';
import type { Db } from '../db/database';
import { parleyError } from '../errors';
import { messageFrame } from '../messages/message.service';
import { messagesAfter } from '../messages/message.repository';
import { notExpired } from '../rooms/room.repository';
import type { Bus } from '../plugins/bus';
import {
  decodeEvent,
  roomChannel,
  userChannel,
  type RoomEvent,
  type SessionEndReason,
  type UserEvent,
} from './events';

/** The hub's view of one authenticated socket. */
export interface Peer {
  readonly userId: string;
  /** The session the socket authenticated with. */
  readonly sessionId: string;
  /**
   * Queues a text frame (a string, or its UTF-8 bytes when one frame goes to many sockets);
   * false when the socket is gone (closed, or closed as a slow consumer).
   */
  send(frame: string | Buffer): boolean;
  /** Whether the socket's send buffer is half full: a replay should wait for `drained`. */
  backlogged(): boolean;
  /** Resolves once the socket's send buffer has room again (or the socket is gone). */
  drained(): Promise<void>;
  /** The hub ended this socket's subscription to a room (removal, expiry). */
  ended(roomId: string, reason: RemovedReason): void;
  /** Sends this socket's presence, if it shows one, to the sockets of `userId`. */
  tellPresenceTo(userId: string): void;
  /** The socket's session ended: close it (CloseCode.SESSION_ENDED). */
  sessionEnded(reason: SessionEndReason): void;
  /** Whether a block stands between this socket's user and `userId` (either way). */
  hides(userId: string): boolean;
  /** A block between this socket's user and `userId` began or ended. */
  setHidden(userId: string, hidden: boolean): void;
  /** Reads the user's blocks again (block changes may have been lost with bus events). */
  reloadHidden(): Promise<void>;
}

/** One socket's subscription to one room. */
export interface Subscription {
  readonly roomId: string;
  readonly peer: Peer;
  /** Sequence number of the newest message sent to this socket. */
  readonly lastSeq: number;
  readonly active: boolean;
}

/**
 * Delivers room and user events to the sockets of this process, for rooms with at least one
 * subscribed socket here. For each room a feed hears the room's bus channel, puts committed
 * messages in sequence order (filling from the database any it missed, which can happen when two
 * processes commit to one room and their events cross), and hands them to each subscription;
 * a subscription that resumes first replays from the database, holding live messages back until
 * the replay meets them, so that a client sees every message once and in order.
 */
export class Hub {
  private readonly feeds = new Map<string, { feed: RoomFeed; started: Promise<RoomFeed> }>();
  private readonly users = new Map<string, Set<Peer>>();
  private readonly userListeners = new Map<string, (payload: string) => void>();

  /** A resync running, and whether another was asked for meanwhile. */
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly log: FastifyBaseLogger,
  ) {
    bus.onResync(() => this.resync());
  }

  /** Registers an authenticated socket, so that events for its user reach it. */
  async connect(peer: Peer): Promise<void> {
    let peers = this.users.get(peer.userId);
    if (peers === undefined) {
      peers = new Set();
      this.users.set(peer.userId, peers);
      const listener = (payload: string) => {
        const { event, frame } = decodeEvent<UserEvent>(payload);
        for (const target of [...(this.users.get(peer.userId) ?? [])]) {
          if (event.t === 'relay') target.send(frame);
          else if (event.t === 'hide') target.setHidden(event.user, event.hidden);
          else if (event.session === undefined || event.session === target.sessionId) {
            target.sessionEnded(event.reason);
          }
        }
      };
      this.userListeners.set(peer.userId, listener);
      peers.add(peer);
      await this.bus.subscribe(userChannel(peer.userId), listener);
      return;
    }
    peers.add(peer);
  }

  disconnect(peer: Peer): void {
    const peers = this.users.get(peer.userId);
    if (peers === undefined) return;
    peers.delete(peer);
    if (peers.size > 0) return;
    this.users.delete(peer.userId);
    const listener = this.userListeners.get(peer.userId);
    this.userListeners.delete(peer.userId);
    if (listener !== undefined) this.bus.unsubscribe(userChannel(peer.userId), listener);
  }

  /** How many sockets of `userId` this process holds. */
  socketsOf(userId: string): number {
    return this.users.get(userId)?.size ?? 0;
  }

  /**
   * Subscribes a socket to a room after checking, again, that its user is a member. Sends
   * `subscribed`, then (with `after`, in stored rooms) every message above `after`, then live
   * messages. Throws ROOM_NOT_FOUND or NOT_A_MEMBER.
   */
  async subscribe(peer: Peer, roomId: string, after: number | undefined): Promise<Subscription> {
    let feed = await this.feed(roomId);
    // The feed may have emptied and stopped while this waited for it; a stopped feed hears nothing.
    while (feed.stopped) feed = await this.feed(roomId);
    // Attach before checking membership: a removal committed before the check is seen by the
    // check, one committed after it reaches this subscription through the feed.
    const subscription = feed.attach(peer);
    try {
      const access = await roomAccess(this.db, roomId, peer.userId);
      if (access === 'missing') throw parleyError('ROOM_NOT_FOUND');
      if (access === 'not-member') throw parleyError('NOT_A_MEMBER');
      peer.send(
        `{"type":"subscribed","room":"${roomId}","head":${Math.max(access.headSeq, feed.lastSeq)}}`,
      );
      if (after !== undefined && !access.ephemeral) {
        subscription.lastSeq = after;
        await feed.replay(subscription);
      }
      subscription.goLive();
      return subscription;
    } catch (error) {
      this.unsubscribe(subscription);
      throw error;
    }
  }

  unsubscribe(subscription: Subscription): void {
    const internal = subscription as LiveSubscription;
    internal.active = false;
    const feed = internal.feed;
    feed.detach(internal);
    if (feed.empty) this.dropFeed(feed);
  }

  private dropFeed(feed: RoomFeed): void {
    feed.stop();
    // A new feed may have replaced this one already.
    if (this.feeds.get(feed.roomId)?.feed === feed) this.feeds.delete(feed.roomId);
  }

  /**
   * Catches up after bus events may have been lost (a Redis outage): every feed delivers what was
   * committed meanwhile and ends subscriptions of users no longer members (or of a deleted
   * room), sockets whose session ended meanwhile are closed, and every socket reads its user's
   * blocks again. Requests that arrive while one
   * runs are folded into one more run after it.
   */
  resync(): Promise<void> {
    if (this.resyncing !== undefined) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    const run = async () => {
      do {
        this.resyncAgain = false;
        const feeds = [...this.feeds.values()].map(({ started }) =>
          started.then((feed) => feed.catchUp()),
        );
        const peers = [...this.users.values()].flatMap((set) => [...set]);
        const results = await Promise.allSettled([
          this.closeEndedSessions(),
          ...peers.map((peer) => peer.reloadHidden()),
          ...feeds,
        ]);
        for (const result of results) {
          if (result.status === 'rejected') {
            this.log.error({ err: result.reason }, 'catching up after a bus outage failed');
          }
        }
      } while (this.resyncAgain);
    };
    this.resyncing = run().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async closeEndedSessions(): Promise<void> {
    const peers = [...this.users.values()].flatMap((set) => [...set]);
    const sessions = [...new Set(peers.map((peer) => peer.sessionId))];
    const live = new Set<string>();
    for (let i = 0; i < sessions.length; i += PAGE) {
      for (const id of await liveSessions(this.db, sessions.slice(i, i + PAGE))) live.add(id);
    }
    for (const peer of peers) {
      if (!live.has(peer.sessionId)) peer.sessionEnded('SESSION_REVOKED');
    }
  }

  /** Ends every subscription (shutdown). */
  async close(): Promise<void> {
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.allSettled(feeds.map(({ started }) => started));
    for (const { feed } of feeds) feed.stop();
    for (const [userId, listener] of this.userListeners) {
      this.bus.unsubscribe(userChannel(userId), listener);
    }
    this.userListeners.clear();
    this.users.clear();
  }

  private feed(roomId: string): Promise<RoomFeed> {
    const existing = this.feeds.get(roomId);
    if (existing !== undefined) return existing.started;
    const feed = new RoomFeed(roomId, this.db, this.bus, this.log, (empty) => this.dropFeed(empty));
    const started = feed.start().then(
      () => feed,
      (error: unknown) => {
        this.dropFeed(feed);
        throw error;
      },
    );
    this.feeds.set(roomId, { feed, started });
    return started;
  }
}

async function liveSessions(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('sessions')
    .select('id')
    .where('id', 'in', ids)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.map((row) => row.id);
}

type Access = 'missing' | 'not-member' | { headSeq: number; ephemeral: boolean };

async function roomAccess(db: Db, roomId: string, userId: string): Promise<Access> {
  const row = await db
    .selectFrom('rooms')
    .leftJoin('room_members', (join) =>
      join.onRef('room_members.room_id', '=', 'rooms.id').on('room_members.user_id', '=', userId),
    )
    .select(['rooms.head_seq', 'rooms.ephemeral', 'room_members.user_id'])
    .where('rooms.id', '=', roomId)
    .where(notExpired)
    .executeTakeFirst();
  if (row === undefined) return 'missing';
  if (row.user_id === null) return 'not-member';
  return { headSeq: row.head_seq, ephemeral: row.ephemeral };
}

/** How many messages a replay or a gap fill reads per query. */
const PAGE = 256;

class LiveSubscription implements Subscription {
  lastSeq: number;
  active = true;
  /** Live messages held back while the replay runs. */
  private pending: { seq: number; frame: Buffer }[] | undefined = [];

  constructor(
    readonly peer: Peer,
    readonly feed: RoomFeed,
  ) {
    this.lastSeq = feed.lastSeq;
  }

  get roomId(): string {
    return this.feed.roomId;
  }

  /** A message in sequence order from the feed. */
  offer(seq: number, frame: Buffer): void {
    if (!this.active) return;
    if (this.pending !== undefined) {
      this.pending.push({ seq, frame });
      return;
    }
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.peer.send(frame);
  }

  /** Ends the replay: what was held back and is newer than the replay goes out, then live. */
  goLive(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const { seq, frame } of pending) this.offer(seq, frame);
  }
}

class RoomFeed {
  /** Newest sequence number delivered in order (messages up to it are all committed). */
  lastSeq = 0;
  private readonly subscriptions = new Set<LiveSubscription>();
  private early: string[] | undefined = [];
  /** Messages that arrived ahead of a missing one, by sequence number. */
  private readonly ahead = new Map<number, string>();
  private filling = false;
  /** The room's head as last read from the database: messages up to it are committed. */
  private knownHead = 0;
  stopped = false;
  private readonly listener = (payload: string) => this.onPayload(payload);

  constructor(
    readonly roomId: string,
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly log: FastifyBaseLogger,
    private readonly onEmpty: (feed: RoomFeed) => void,
  ) {}

  get empty(): boolean {
    return this.subscriptions.size === 0;
  }

  /**
   * Subscribes to the room's channel, then reads the head: every message up to the head is
   * committed and can be read; every later one is published after this subscription is live.
   */
  async start(): Promise<void> {
    await this.bus.subscribe(roomChannel(this.roomId), this.listener);
    const room = await this.db
      .selectFrom('rooms')
      .select('head_seq')
      .where('id', '=', this.roomId)
      .executeTakeFirst();
    this.lastSeq = room?.head_seq ?? 0;
    const early = this.early ?? [];
    this.early = undefined;
    for (const payload of early) this.onPayload(payload);
  }

  /**
   * After bus events may have been lost: delivers what was committed since, and ends the
   * subscriptions the lost events would have ended (removed members, a deleted room).
   */
  async catchUp(): Promise<void> {
    if (this.stopped) return;
    const room = await this.db
      .selectFrom('rooms')
      .select('head_seq')
      .where('id', '=', this.roomId)
      .executeTakeFirst();
    if (room === undefined) {
      for (const subscription of [...this.subscriptions]) this.end(subscription, 'expired');
      return;
    }
    this.knownHead = Math.max(this.knownHead, room.head_seq);
    await this.fill();
    const users = [...new Set([...this.subscriptions].map((s) => s.peer.userId))];
    if (users.length === 0) return;
    const members = await this.db
      .selectFrom('room_members')
      .select('user_id')
      .where('room_id', '=', this.roomId)
      .where('user_id', 'in', users)
      .execute();
    const still = new Set(members.map((row) => row.user_id));
    for (const subscription of [...this.subscriptions]) {
      if (!still.has(subscription.peer.userId)) this.end(subscription, 'removed');
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bus.unsubscribe(roomChannel(this.roomId), this.listener);
    for (const subscription of this.subscriptions) subscription.active = false;
    this.subscriptions.clear();
  }

  attach(peer: Peer): LiveSubscription {
    const subscription = new LiveSubscription(peer, this);
    this.subscriptions.add(subscription);
    return subscription;
  }

  detach(subscription: LiveSubscription): void {
    this.subscriptions.delete(subscription);
  }

  /** Sends a subscription every stored message above its lastSeq, page by page. */
  async replay(subscription: LiveSubscription): Promise<void> {
    const { peer } = subscription;
    for (;;) {
      const rows = await messagesAfter(this.db, this.roomId, subscription.lastSeq, PAGE);
      for (const row of rows) {
        // A long replay waits for the socket to drain instead of overflowing its buffer.
        if (peer.backlogged()) await peer.drained();
        if (!subscription.active) return;
        peer.send(messageFrame(this.roomId, row.seq, toBase64Url(row.envelope), row.sent_at));
        subscription.lastSeq = row.seq;
      }
      if (rows.length < PAGE || !subscription.active) return;
    }
  }

  private onPayload(payload: string): void {
    if (this.early !== undefined) {
      this.early.push(payload);
      return;
    }
    if (this.stopped) return;
    let decoded: { event: RoomEvent; frame: string };
    try {
      decoded = decodeEvent<RoomEvent>(payload);
    } catch (error) {
      this.log.warn({ err: error, room: this.roomId }, 'undecodable bus event');
      return;
    }
    const { event, frame } = decoded;
    switch (event.t) {
      case 'message':
        if (event.ephemeral === true) {
          const bytes = Buffer.from(frame);
          for (const subscription of this.subscriptions) subscription.offer(event.seq, bytes);
        } else {
          this.ordered(event.seq, frame);
        }
        return;
      case 'membership':
        for (const subscription of [...this.subscriptions]) {
          subscription.peer.send(frame);
          if (subscription.peer.userId === event.departed) this.end(subscription, 'removed');
        }
        return;
      case 'relay':
        for (const { peer } of this.subscriptions) {
          if (peer.userId === event.except) continue;
          if (event.from !== undefined && peer.hides(event.from)) continue;
          peer.send(frame);
        }
        return;
      case 'deleted':
        for (const subscription of [...this.subscriptions]) this.end(subscription, event.reason);
        return;
      case 'presence-query': {
        // One answer per user from this process, however many sockets it has in the room.
        const answered = new Set([event.from]);
        for (const subscription of this.subscriptions) {
          if (answered.has(subscription.peer.userId)) continue;
          answered.add(subscription.peer.userId);
          if (subscription.peer.hides(event.from)) continue;
          subscription.peer.tellPresenceTo(event.from);
        }
        return;
      }
    }
  }

  private end(subscription: LiveSubscription, reason: RemovedReason): void {
    subscription.active = false;
    this.subscriptions.delete(subscription);
    subscription.peer.ended(this.roomId, reason);
    if (this.empty) this.onEmpty(this);
  }

  private ordered(seq: number, frame: string): void {
    if (seq <= this.lastSeq) return;
    if (seq === this.lastSeq + 1 && this.ahead.size === 0) {
      this.deliver(seq, frame);
      return;
    }
    this.ahead.set(seq, frame);
    void this.fill();
  }

  private deliver(seq: number, frame: string): void {
    this.lastSeq = seq;
    // Encoded once for every socket, not once per socket.
    const bytes = Buffer.from(frame);
    for (const subscription of this.subscriptions) subscription.offer(seq, bytes);
  }

  /**
   * Delivers what is held ahead once the missing messages are read from the database: a message
   * with sequence number n is published only after every smaller one of its room committed.
   */
  private async fill(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      while (!this.stopped) {
        const next = this.ahead.get(this.lastSeq + 1);
        if (next !== undefined) {
          this.ahead.delete(this.lastSeq + 1);
          this.deliver(this.lastSeq + 1, next);
          continue;
        }
        // Up to the first message held ahead, or else up to the head a catch-up read.
        const target = this.ahead.size > 0 ? Math.min(...this.ahead.keys()) : this.knownHead + 1;
        if (target <= this.lastSeq + 1) return;
        const rows = await messagesAfter(
          this.db,
          this.roomId,
          this.lastSeq,
          Math.min(PAGE, target - this.lastSeq - 1),
        );
        if (rows.length === 0 || rows[0]!.seq !== this.lastSeq + 1) {
          // Nothing stored there (the room is being deleted): skip to what is held.
          if (this.ahead.size === 0) return;
          this.lastSeq = target - 1;
          continue;
        }
        for (const row of rows) {
          if (row.seq !== this.lastSeq + 1) break;
          this.deliver(
            row.seq,
            messageFrame(this.roomId, row.seq, toBase64Url(row.envelope), row.sent_at),
          );
        }
      }
    } catch (error) {
      this.log.error({ err: error, room: this.roomId }, 'filling a gap in the room feed failed');
      setTimeout(() => void this.fill(), 100).unref();
    } finally {
      this.filling = false;
    }
  }
}
