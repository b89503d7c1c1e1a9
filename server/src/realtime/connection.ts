import type { FastifyBaseLogger } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CloseCode, type ClientFrame, type PresenceStatus, type RemovedReason } from '@parley/wire';
import { fromBase64Url } from '../codec';
import { isParleyError } from '../errors';
import { TokenBucket, type TokenBuckets } from '../limits/token-bucket';
import type { MessageService } from '../messages/message.service';
import type { ReceiptService } from '../messages/receipt.service';
import type { AuthenticatedUser } from '../plugins/auth';
import type { Bus } from '../plugins/bus';
import { publishToRoom, publishToUser, type SessionEndReason } from './events';
import { errorFrame, isFrameProblem, parseClientFrame } from './frames';
import type { Hub, Peer, Subscription } from './hub';

export interface ConnectionDeps {
  hub: Hub;
  bus: Bus;
  messages: MessageService;
  receipts: ReceiptService;
  verifyAccessToken(token: string): Promise<AuthenticatedUser>;
  /** Seconds since the epoch at which a (verified) token expires. */
  tokenExpiry(token: string): number | undefined;
  isMember(roomId: string, userId: string): Promise<boolean>;
  /** Everyone in a block with the user, either way (whose presence and typing to withhold). */
  blockPartners(userId: string): Promise<string[]>;
  log: FastifyBaseLogger;
  authTimeoutMs: number;
  sendBufferBytes: number;
  malformedFrames: number;
  quotas: ConnectionQuotas;
  /** The socket authenticated: it no longer counts against the unauthenticated cap. */
  onAuthenticated?(user: AuthenticatedUser): void;
}

/** What one socket may ask of the server (docs/ARCHITECTURE.md, Limits and quotas). */
export interface ConnectionQuotas {
  /** Messages per 10 s from this socket, and (shared by the account's sockets) its account. */
  messagesPer10Seconds: number;
  accountMessages: TokenBuckets;
  typingPer10Seconds: number;
  pingsPer10Seconds: number;
  /** Sends waiting for their commit, beyond which a send is refused with SEND_QUEUE_FULL. */
  pendingSends: number;
}

const OPEN = 1;
const CLOSED = 3;
/** RFC 6455's "unexpected condition": the server failed, not the client. */
const INTERNAL_ERROR = 1011;
/** How a closing socket is watched (see terminateIfStalled). */
const CLOSE_CHECK_MS = 250;
const CLOSE_GRACE_MS = 2000;
const CLOSE_STALL_MS = 10_000;
/** Frames a client may send after `auth` before `ready` arrives. */
const EARLY_FRAMES = 64;

/**
 * One WebSocket from its first frame to its close. The first frame must be `auth` (within the
 * timeout) and carry a valid access token; then frames are handled as they come, subscriptions
 * and unsubscriptions of one room one after the other. Every refusal is an `error` frame; only
 * authentication failures, malformed-frame floods and slow consumers close the socket (the codes
 * are in @parley/wire's CloseCode and docs/ARCHITECTURE.md).
 */
export function serveConnection(socket: WebSocket, deps: ConnectionDeps): void {
  new Connection(socket, deps).start();
}

class Connection implements Peer {
  private user: AuthenticatedUser | undefined;
  private authenticating = false;
  /** Frames that arrived while the auth frame was being checked, handled after it. */
  private early: ClientFrame[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private malformed = 0;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Subscribe and unsubscribe of one room run in order. */
  private readonly roomQueues = new Map<string, Promise<void>>();
  private presence: PresenceStatus | undefined;
  private closed = false;
  private corked = false;
  private corkedBytes = 0;
  private readonly messageBucket: TokenBucket;
  private readonly typingBucket: TokenBucket;
  private readonly pingBucket: TokenBucket;
  private pendingSends = 0;
  /** Users in a block with this one: their presence and typing neither reach nor leave here. */
  private readonly hidden = new Set<string>();
  /** Users a block change named while the block list was loading: the change is newer. */
  private hiddenChanged: Set<string> | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    const { quotas } = deps;
    this.messageBucket = new TokenBucket(quotas.messagesPer10Seconds, 10_000);
    this.typingBucket = new TokenBucket(quotas.typingPer10Seconds, 10_000);
    this.pingBucket = new TokenBucket(quotas.pingsPer10Seconds, 10_000);
  }

  get userId(): string {
    return this.user!.id;
  }

  get sessionId(): string {
    return this.user!.sessionId;
  }

  start(): void {
    this.later(this.deps.authTimeoutMs, () => {
      if (this.user === undefined) this.close(CloseCode.UNAUTHENTICATED, 'authenticate first');
    });
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('close', () => this.onClose());
    this.socket.on('error', (error) => this.deps.log.debug({ err: error }, 'websocket error'));
  }

  // ----- Peer -----

  send(frame: string | Buffer): boolean {
    if (this.closed || this.socket.readyState !== OPEN) return false;
    if (this.backlog() > this.deps.sendBufferBytes) {
      // Everything is stored: the client reconnects and resumes from its last sequence number.
      this.close(CloseCode.SLOW_CONSUMER, 'too far behind; reconnect and resume');
      return false;
    }
    this.cork(typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length);
    this.socket.send(frame, { binary: false });
    return true;
  }

  backlogged(): boolean {
    return this.backlog() > this.deps.sendBufferBytes / 2;
  }

  /** Bytes queued for the socket beyond what this tick wrote (which leaves at the tick's end). */
  private backlog(): number {
    return this.socket.bufferedAmount - this.corkedBytes;
  }

  /**
   * Holds this socket's writes until the end of the tick, so that the frames of one commit batch
   * (one per message) leave in one system call instead of one each.
   */
  private cork(bytes: number): void {
    if (this.corked) {
      this.corkedBytes += bytes;
      return;
    }
    const tcp = (this.socket as unknown as { _socket?: Socket })._socket;
    if (tcp === undefined) return;
    this.corked = true;
    this.corkedBytes = bytes;
    tcp.cork();
    process.nextTick(() => {
      this.corked = false;
      this.corkedBytes = 0;
      tcp.uncork();
    });
  }

  drained(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.closed || this.socket.bufferedAmount <= this.deps.sendBufferBytes / 4) resolve();
        // Not `later`: closing clears those timers, and this must still see the close and resolve.
        else setTimeout(check, 5);
      };
      check();
    });
  }

  sessionEnded(reason: SessionEndReason): void {
    this.close(CloseCode.SESSION_ENDED, reason);
  }

  hides(userId: string): boolean {
    return this.hidden.has(userId);
  }

  setHidden(userId: string, hidden: boolean): void {
    this.hiddenChanged?.add(userId);
    if (hidden) this.hidden.add(userId);
    else this.hidden.delete(userId);
  }

  /**
   * Reads the user's blocks once the hub hears block changes, so none falls between the two; a
   * change heard while the read runs is newer than what it returns.
   */
  private async loadHidden(): Promise<void> {
    const changed = new Set<string>();
    this.hiddenChanged = changed;
    let partners: Set<string>;
    try {
      partners = new Set(await this.deps.blockPartners(this.userId));
    } finally {
      this.hiddenChanged = undefined;
    }
    for (const userId of [...this.hidden]) {
      if (!partners.has(userId) && !changed.has(userId)) this.hidden.delete(userId);
    }
    for (const userId of partners) if (!changed.has(userId)) this.hidden.add(userId);
  }

  async reloadHidden(): Promise<void> {
    if (this.user === undefined || this.closed || this.hiddenChanged !== undefined) return;
    await this.loadHidden();
  }

  ended(roomId: string, reason: RemovedReason): void {
    this.subscriptions.delete(roomId);
    this.send(JSON.stringify({ type: 'removed', room: roomId, reason }));
  }

  // ----- frames -----

  private onMessage(data: unknown, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) {
      this.refuse({ code: 'VALIDATION_FAILED', message: 'Frames are JSON text' });
      return;
    }
    const frame = parseClientFrame(String(data));
    if (isFrameProblem(frame)) {
      this.refuse(frame);
      return;
    }
    if (this.user === undefined) {
      if (this.authenticating && this.early.length < EARLY_FRAMES) {
        this.early.push(frame);
      } else if (frame.type !== 'auth' || this.authenticating) {
        this.close(CloseCode.UNAUTHENTICATED, 'authenticate first');
      } else {
        this.authenticate(frame.token).catch((error: unknown) => {
          this.deps.log.error({ err: error }, 'authenticating a socket failed');
          this.close(INTERNAL_ERROR, 'internal error');
        });
      }
      return;
    }
    this.handle(frame);
  }

  private handle(frame: ClientFrame): void {
    this.dispatch(frame).catch((error: unknown) => {
      this.deps.log.error({ err: error }, 'websocket frame failed');
      this.send(errorFrame('INTERNAL'));
    });
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'auth':
        return this.reauthenticate(frame.token);
      case 'subscribe':
        return this.inRoomOrder(frame.room, () => this.subscribe(frame.room, frame.after));
      case 'unsubscribe':
        return this.inRoomOrder(frame.room, async () => {
          this.dropSubscription(frame.room);
          this.send(JSON.stringify({ type: 'unsubscribed', room: frame.room }));
        });
      case 'send':
        return this.sendMessage(frame.room, frame.envelope);
      case 'typing':
        if (!this.typingBucket.take()) {
          this.send(errorFrame('RATE_LIMITED', 'Too many typing frames; slow down', frame.room));
          return;
        }
        if (!this.subscriptions.has(frame.room)) {
          this.send(errorFrame('NOT_SUBSCRIBED', undefined, frame.room));
          return;
        }
        publishToRoom(
          this.deps.bus,
          frame.room,
          { t: 'relay', except: this.userId, from: this.userId },
          JSON.stringify({
            type: 'typing',
            room: frame.room,
            user: this.userId,
            active: frame.active,
          }),
        );
        return;
      case 'receipt':
        if (
          !this.subscriptions.has(frame.room) &&
          !(await this.deps.isMember(frame.room, this.userId))
        ) {
          this.send(errorFrame('NOT_A_MEMBER', undefined, frame.room));
          return;
        }
        this.deps.receipts.record(frame.room, this.userId, frame.kind, frame.seq);
        return;
      case 'presence':
        this.presence = frame.status;
        this.announcePresence(frame.status === 'invisible' ? 'offline' : frame.status);
        return;
      case 'ping':
        if (!this.pingBucket.take()) {
          this.send(errorFrame('RATE_LIMITED', 'Too many pings; slow down'));
          return;
        }
        this.send('{"type":"pong"}');
        return;
    }
  }

  private async authenticate(token: string): Promise<void> {
    this.authenticating = true;
    let user: AuthenticatedUser;
    try {
      user = await this.deps.verifyAccessToken(token);
    } catch (error) {
      const code = isParleyError(error) ? error.code : 'TOKEN_INVALID';
      this.close(CloseCode.UNAUTHENTICATED, code);
      return;
    }
    if (this.closed) return;
    this.user = user;
    this.watchExpiry(token);
    await this.deps.hub.connect(this);
    if (this.closed) {
      this.deps.hub.disconnect(this);
      return;
    }
    await this.loadHidden();
    if (this.closed) return;
    // The session may have ended between the check above and the hub hearing the user's channel;
    // an end published after this point reaches the socket through the hub.
    if (!(await this.sessionLive(token))) {
      this.close(CloseCode.SESSION_ENDED, 'SESSION_REVOKED');
      return;
    }
    if (this.closed) return;
    this.deps.onAuthenticated?.(user);
    this.send(JSON.stringify({ type: 'ready', user: { id: user.id, username: user.username } }));
    const early = this.early;
    this.early = [];
    for (const frame of early) this.handle(frame);
  }

  /** A fresh token on a live socket extends it past the first token's expiry. */
  private async reauthenticate(token: string): Promise<void> {
    let user: AuthenticatedUser;
    try {
      user = await this.deps.verifyAccessToken(token);
    } catch (error) {
      this.close(CloseCode.UNAUTHENTICATED, isParleyError(error) ? error.code : 'TOKEN_INVALID');
      return;
    }
    if (user.id !== this.userId) {
      this.close(CloseCode.UNAUTHENTICATED, 'a socket belongs to one user');
      return;
    }
    // A token of another session of the user (a refresh after logging in again) moves the socket
    // to that session: ending the old one no longer closes it.
    this.user = user;
    this.watchExpiry(token);
    this.send(JSON.stringify({ type: 'ready', user: { id: user.id, username: user.username } }));
  }

  private async sessionLive(token: string): Promise<boolean> {
    try {
      await this.deps.verifyAccessToken(token);
      return true;
    } catch (error) {
      if (isParleyError(error)) return false;
      throw error;
    }
  }

  private watchExpiry(token: string): void {
    if (this.expiryTimer !== undefined) {
      clearTimeout(this.expiryTimer);
      this.timers.delete(this.expiryTimer);
    }
    const expiry = this.deps.tokenExpiry(token);
    if (expiry === undefined) return;
    this.expiryTimer = this.later(Math.max(0, expiry * 1000 - Date.now()), () =>
      this.close(CloseCode.UNAUTHENTICATED, 'TOKEN_EXPIRED'),
    );
  }

  private async subscribe(roomId: string, after: number | undefined): Promise<void> {
    this.dropSubscription(roomId);
    try {
      const subscription = await this.deps.hub.subscribe(this, roomId, after);
      if (this.closed || !subscription.active) {
        this.deps.hub.unsubscribe(subscription);
        return;
      }
      this.subscriptions.set(roomId, subscription);
      // Presence is announced on change only, so a newcomer asks who is already here, and tells
      // them its own (its status may have been set before it had any room to announce it in).
      publishToRoom(this.deps.bus, roomId, { t: 'presence-query', from: this.userId });
      if (this.presence !== undefined && this.presence !== 'invisible') {
        this.announcePresence(this.presence, [roomId]);
      }
    } catch (error) {
      if (!isParleyError(error)) throw error;
      this.send(errorFrame(error.code, error.message, roomId));
    }
  }

  private dropSubscription(roomId: string): void {
    const subscription = this.subscriptions.get(roomId);
    if (subscription === undefined) return;
    this.subscriptions.delete(roomId);
    this.deps.hub.unsubscribe(subscription);
  }

  private async sendMessage(roomId: string, envelopeText: string): Promise<void> {
    let envelope: Uint8Array;
    try {
      envelope = fromBase64Url(envelopeText, 'envelope');
    } catch (error) {
      this.refuse({ code: 'VALIDATION_FAILED', message: (error as Error).message });
      return;
    }
    const refused = this.overQuota();
    if (refused !== undefined) {
      this.send(errorFrame(refused, undefined, this.deps.messages.messageIdOf(envelope)));
      return;
    }
    this.pendingSends += 1;
    try {
      const accepted = await this.deps.messages.send(roomId, this.userId, envelope, envelopeText);
      this.send(
        `{"type":"ack","room":"${roomId}","messageId":"${accepted.messageId}","seq":${accepted.seq}}`,
      );
    } catch (error) {
      if (!isParleyError(error)) throw error;
      this.send(errorFrame(error.code, error.message, this.deps.messages.messageIdOf(envelope)));
    } finally {
      this.pendingSends -= 1;
    }
  }

  /**
   * Why a send is refused before it is queued, if it is: too many of this socket's sends still
   * wait for their commit (the queue is bounded, not the client's patience), or the socket or
   * its account sends faster than its quota. The client may retry the same message later.
   */
  private overQuota(): 'SEND_QUEUE_FULL' | 'RATE_LIMITED' | undefined {
    const { quotas } = this.deps;
    if (this.pendingSends >= quotas.pendingSends) return 'SEND_QUEUE_FULL';
    if (!this.messageBucket.take() || !quotas.accountMessages.take(this.userId)) {
      return 'RATE_LIMITED';
    }
    return undefined;
  }

  tellPresenceTo(userId: string): void {
    if (this.presence === undefined || this.presence === 'invisible') return;
    if (this.hidden.has(userId)) return;
    publishToUser(
      this.deps.bus,
      userId,
      JSON.stringify({ type: 'presence', user: this.userId, status: this.presence }),
    );
  }

  private announcePresence(
    status: 'online' | 'away' | 'dnd' | 'offline',
    rooms: Iterable<string> = this.subscriptions.keys(),
  ): void {
    const frame = JSON.stringify({ type: 'presence', user: this.userId, status });
    for (const roomId of rooms) {
      publishToRoom(
        this.deps.bus,
        roomId,
        { t: 'relay', except: this.userId, from: this.userId },
        frame,
      );
    }
  }

  private inRoomOrder(roomId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.roomQueues.get(roomId) ?? Promise.resolve();
    const next = previous.then(task);
    const settled = next.catch(() => {});
    this.roomQueues.set(roomId, settled);
    void settled.then(() => {
      if (this.roomQueues.get(roomId) === settled) this.roomQueues.delete(roomId);
    });
    return next;
  }

  /** Answers a malformed frame; too many of them close the socket. */
  private refuse(problem: { code: 'MALFORMED_JSON' | 'VALIDATION_FAILED'; message: string }): void {
    this.malformed += 1;
    if (this.malformed > this.deps.malformedFrames) {
      this.close(CloseCode.MALFORMED_FRAMES, 'too many malformed frames');
      return;
    }
    if (this.user === undefined) {
      // Before authentication nothing but a well-formed auth frame is answered.
      this.close(CloseCode.UNAUTHENTICATED, 'authenticate first');
      return;
    }
    this.send(errorFrame(problem.code, problem.message));
  }

  // ----- lifetime -----

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
    this.terminateIfStalled();
    this.cleanUp();
  }

  /**
   * A peer that stopped reading may never complete the closing handshake, so the socket is
   * terminated in the end; but the close frame waits behind everything already queued (a slow
   * consumer's whole backlog), and the client needs its code to know it should resume. So the
   * socket is given time while it drains: terminated once its queue has not shrunk for
   * CLOSE_STALL_MS, or is empty and the peer still silent after CLOSE_GRACE_MS.
   */
  private terminateIfStalled(): void {
    let queued = this.socket.bufferedAmount;
    let unchangedFor = 0;
    const timer = setInterval(() => {
      if (this.socket.readyState === CLOSED) {
        clearInterval(timer);
        return;
      }
      const now = this.socket.bufferedAmount;
      unchangedFor = now < queued ? 0 : unchangedFor + CLOSE_CHECK_MS;
      queued = now;
      if (unchangedFor >= (now === 0 ? CLOSE_GRACE_MS : CLOSE_STALL_MS)) {
        clearInterval(timer);
        this.socket.terminate();
      }
    }, CLOSE_CHECK_MS);
    timer.unref();
  }

  private onClose(): void {
    this.closed = true;
    this.cleanUp();
  }

  private cleaned = false;

  private cleanUp(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const subscription of this.subscriptions.values()) {
      this.deps.hub.unsubscribe(subscription);
    }
    if (this.user !== undefined) {
      this.deps.hub.disconnect(this);
      const announced = this.presence !== undefined && this.presence !== 'invisible';
      if (announced && this.deps.hub.socketsOf(this.userId) === 0) this.announcePresence('offline');
    }
    this.subscriptions.clear();
  }

  private later(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }
}
