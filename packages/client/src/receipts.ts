// Receipts and presence: the small advisory signals around messages. Read and delivered markers go
// over the socket when it is open and over REST otherwise; a delivered receipt is sent once per
// new high-water mark, since the client sends one for every message it processes. Typing and
// presence are fire-and-forget frames. None of this is verified: it is the server's word, shown.
import type { MemberReceipts } from '@parley/wire';
import type { ServerApi } from './api';
import type { PresenceStatus } from './events';
import type { Logger } from './options';
import type { RoomState } from './room-state';

export interface ReceiptsDeps {
  api: ServerApi;
  /** Sends a frame if the socket is open; false otherwise. */
  send(frame: Record<string, unknown>): boolean;
  rooms: ReadonlyMap<string, RoomState>;
  myId(): string;
  logger: Logger;
}

export class Receipts {
  /** Per room, the highest seq a `delivered` receipt was sent for. */
  private readonly deliveredSent = new Map<string, number>();

  /** What this device shows others; sent again on every connect. */
  private presence: Exclude<PresenceStatus, 'offline'> = 'online';

  constructor(private readonly deps: ReceiptsDeps) {}

  async markRead(roomId: string, seq: number): Promise<void> {
    const room = this.deps.rooms.get(roomId);
    const summary = room?.summary;
    if (room !== undefined && summary !== undefined && seq > summary.readSeq) {
      summary.readSeq = seq;
      summary.unread = Math.max(0, room.lastSeq - seq);
    }
    if (!this.deps.send({ type: 'receipt', room: roomId, kind: 'read', seq })) {
      await this.deps.api.markReceipts(roomId, { read: seq });
    }
  }

  /**
   * Tells the room's members this device has received everything up to `seq`. The client does it
   * by itself for every message it receives live or catches up on, so a UI rarely needs to.
   */
  async markDelivered(roomId: string, seq: number): Promise<void> {
    if (seq <= (this.deliveredSent.get(roomId) ?? 0)) return;
    this.deliveredSent.set(roomId, seq);
    if (!this.deps.send({ type: 'receipt', room: roomId, kind: 'delivered', seq })) {
      await this.deps.api.markReceipts(roomId, { delivered: seq });
    }
  }

  /** A `delivered` receipt up to what this device has processed (the server coalesces them). */
  acknowledgeDelivery(room: RoomState): void {
    if (room.lastSeq === 0 || !room.isMember(this.deps.myId())) return;
    this.markDelivered(room.roomId, room.lastSeq).catch((error: unknown) =>
      this.deps.logger.debug('delivered receipt failed', { error: String(error) }),
    );
  }

  /**
   * Every member's delivered and read markers (a sender's UI shows "delivered" and "seen" from
   * them after a reload; live changes arrive as `receipt` events).
   */
  async receipts(roomId: string): Promise<MemberReceipts[]> {
    const answer = await this.deps.api.receipts(roomId);
    return answer.receipts;
  }

  setTyping(roomId: string, active: boolean): void {
    this.deps.send({ type: 'typing', room: roomId, active });
  }

  /**
   * The server shows a socket's presence only once the socket has sent one, so the chosen status
   * is kept and sent again on every (re)connect, including a first one the socket was not open for.
   */
  setPresence(status: Exclude<PresenceStatus, 'offline'>): void {
    this.presence = status;
    this.deps.send({ type: 'presence', status });
  }

  /** The socket (re)authenticated: it shows nothing until told, so tell it. */
  announcePresence(): void {
    this.deps.send({ type: 'presence', status: this.presence });
  }
}
