// Messages (PROTOCOL.md §6): encrypting and signing what this device sends, and verifying,
// decrypting and classifying what it receives, live or from history. Nothing here moves a room
// before the message behind it verified: the resume position, unread counts and receipts follow
// verified messages only. A message whose epoch key has not arrived is held and released when the
// key comes, whichever way it comes.
import {
  CryptoError,
  decodeMessageEnvelope,
  encryptMessage,
  fromBase64Url,
  fromHex,
  toBase64Url,
  toHex,
  type MessagePayloadInput,
} from '@parley/crypto';
import type { HistoryPage } from '@parley/wire';
import type { RoomChains } from './chain';
import { ROOM_PREFIX, type ClientContext } from './context';
import type { Delivery } from './delivery';
import { hasDisappeared } from './disappearing';
import { ClientError, fromCryptoError, isClientError } from './errors';
import type { ReceivedMessage } from './events';
import type { Receipts } from './receipts';
import type { RoomKeys } from './room-keys';
import type { RoomState } from './room-state';
import { noteActivity } from './room-view';

const PAGE = 100;
/** Pages per catch-up: what is beyond waits for the next one. */
const CATCH_UP_PAGES = 20;

type MessageItem = Omit<HistoryPage['messages'][number], 'sentAt'> & { sentAt: string | undefined };

export class Messages {
  constructor(
    private readonly ctx: ClientContext,
    private readonly chains: RoomChains,
    private readonly keys: RoomKeys,
    private readonly delivery: Delivery,
    private readonly receipts: Receipts,
  ) {}

  /**
   * Encrypts and signs a message and puts it in the outbox (persisted), which sends it as soon as
   * the connection is up and until the server acknowledges it. Returns its id; `acked(id)` waits.
   */
  async send(
    roomId: string,
    message: string | MessagePayloadInput,
  ): Promise<{ messageId: string }> {
    const operation = 'send';
    const secrets = this.ctx.requireSecrets(operation);
    const room = this.ctx.requireRoom(roomId, operation);
    return this.ctx.serial(roomId, async () => {
      if (!room.isMember(this.ctx.myId)) {
        throw new ClientError(
          'NOT_A_MEMBER',
          operation,
          'this account is not a member of the room',
        );
      }
      if (room.currentKey() === undefined) await this.keys.ensureEpochKey(room);
      const current = room.currentKey();
      if (current === undefined) {
        throw new ClientError(
          'EPOCH_KEY_MISSING',
          operation,
          `the key of epoch ${room.epoch} has not reached this device yet`,
        );
      }
      const { counter, prevHash } = room.nextOutgoing(this.ctx.myId);
      const payload =
        typeof message === 'string' ? { kind: 'text' as const, text: message } : message;
      let sealed;
      try {
        sealed = encryptMessage({
          roomId: room.roomIdBytes,
          epoch: current.epoch,
          roomKey: current.key,
          senderId: fromHex(this.ctx.myId),
          sender: secrets.identity,
          counter,
          prevHash,
          clientTime: this.ctx.clock.now(),
          payload,
        });
      } catch (error) {
        throw fromCryptoError(error, operation);
      }
      const messageId = toHex(sealed.header.messageId);
      room.recordOutgoing(counter, sealed.messageHash);
      const { change, commit } = this.delivery.outbox.addition({
        roomId,
        messageId,
        counter,
        envelope: sealed.envelope,
        createdAt: this.ctx.clock.now(),
      });
      // The advanced counter and the queued message land together or not at all.
      await this.ctx.store.batch([[ROOM_PREFIX + roomId, room.toRecord()], change]);
      commit();
      this.delivery.flush();
      return { messageId };
    });
  }

  /**
   * Older messages, newest page first (`before` a sequence number; the newest when absent),
   * verified and decrypted. Failures among them are emitted as `verification-failed` and left out.
   */
  async history(
    roomId: string,
    options: { before?: number; after?: number; limit?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const room = this.ctx.requireRoom(roomId, 'history');
    const answer = await this.ctx.api.messages(
      roomId,
      options.after === undefined
        ? { before: options.before, limit: options.limit ?? 50 }
        : { after: options.after, limit: options.limit ?? 50 },
    );
    return this.ctx.serial(roomId, async () => {
      const out: ReceivedMessage[] = [];
      const items = [...answer.messages].sort((a, b) => a.seq - b.seq);
      for (const item of items) {
        const message = await this.receive(room, item, 'history');
        if (message !== undefined) out.push(message);
      }
      room.forgetDisappeared(this.ctx.clock.now());
      await this.ctx.saveRoom(room);
      return out;
    });
  }

  /**
   * Reads, in order, everything after the last sequence number this device processed, emitting a
   * `message` event for each (as a live delivery would). Returns what it read.
   */
  async catchUp(roomId: string): Promise<ReceivedMessage[]> {
    const room = this.ctx.requireRoom(roomId, 'catchUp');
    return this.ctx.serial(roomId, () => this.catchUpNow(room));
  }

  /**
   * Reads forward from lastSeq, at most CATCH_UP_PAGES pages of PAGE messages: the room's queue
   * (and `send()` behind it) waits for a catch-up, so a server that pages forever cannot block it.
   * The cursor is the page's own, since messages that fail to verify do not move lastSeq.
   */
  async catchUpNow(room: RoomState): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    let after = room.lastSeq;
    for (let page = 0; page < CATCH_UP_PAGES; page++) {
      const answer = await this.ctx.api.messages(room.roomId, { after, limit: PAGE });
      const items = answer.messages
        .filter((item) => item.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, PAGE);
      for (const item of items) {
        const message = await this.receive(room, item, 'live');
        if (message !== undefined) out.push(message);
      }
      room.forgetDisappeared(this.ctx.clock.now());
      await this.ctx.saveRoom(room);
      if (!answer.more || items.length === 0) break;
      after = items.at(-1)!.seq;
    }
    this.receipts.acknowledgeDelivery(room);
    return out;
  }

  /**
   * Verifies, decrypts and classifies one message (§6.5). `live` deliveries advance the room's
   * sequence number and emit `message`; `history` ones are returned only.
   */
  async receive(
    room: RoomState,
    item: MessageItem,
    mode: 'live' | 'history',
  ): Promise<ReceivedMessage | undefined> {
    // Nothing here moves the room before the message verified: a forged frame with an absurd seq
    // must not move the resume position (and silence the room), and a genuine message that
    // arrives late (below lastSeq) is verified and shown out of order, not dropped.
    const now = this.ctx.clock.now();
    // Stored longer ago than the room's timer: gone already, whatever the sender's clock says.
    if (hasDisappeared({ clientTime: now, sentAt: item.sentAt }, room.timer, now)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(item.envelope);
    } catch {
      this.ctx.people.fail({
        code: 'MESSAGE_MALFORMED',
        severity: 'warning',
        roomId: room.roomId,
        seq: item.seq,
        detail: 'not base64url',
      });
      return undefined;
    }
    let senderId: string | undefined;
    try {
      senderId = toHex(decodeMessageEnvelope(bytes).header.senderId);
      await this.ctx.people.ensurePinned([senderId]);
    } catch (error) {
      // Step 1 of §6.5 reports it below with its code; an unreachable directory is not a verdict.
      if (
        !(error instanceof CryptoError) &&
        !isClientError(error, 'USER_NOT_FOUND') &&
        !isClientError(error, 'KEYS_NOT_PUBLISHED')
      )
        throw error;
    }
    let result;
    try {
      result = await this.openWithRefresh(room, bytes, item.seq);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      if (error.code === 'MESSAGE_UNKNOWN_EPOCH' && mode === 'live') {
        room.hold({ seq: item.seq, envelope: bytes, sentAt: item.sentAt });
      }
      this.ctx.people.fail({
        code: error.code,
        severity: this.ctx.people.severityOf(senderId),
        roomId: room.roomId,
        seq: item.seq,
        ...(senderId === undefined ? {} : { userId: senderId }),
        detail: error.message,
      });
      return undefined;
    }
    const { message } = result;
    let { status } = result;
    const messageId = toHex(message.header.messageId);
    const sender = toHex(message.header.senderId);
    // History read again (every time a room is opened, after a reload too): the same counter with
    // the same hash is the same authentic message, shown again. It is a replay only when it
    // arrives live, or when the device knows it came before at another sequence number.
    const firstSeq = result.seenAtSeq ?? 0;
    const rereading =
      status === 'duplicate' && mode === 'history' && (firstSeq === 0 || firstSeq === item.seq);
    if (rereading) status = 'new';
    // history() read it before the live stream (or a catch-up) reached it: no replay, and nothing
    // new to show either.
    if (status === 'duplicate' && mode === 'live' && firstSeq !== 0 && firstSeq === item.seq) {
      return undefined;
    }
    if (status === 'duplicate' || status === 'fork') {
      this.ctx.people.fail({
        code: status === 'duplicate' ? 'MESSAGE_DUPLICATE' : 'MESSAGE_FORK',
        severity: status === 'fork' ? 'critical' : this.ctx.people.severityOf(sender),
        roomId: room.roomId,
        seq: item.seq,
        userId: sender,
        messageId,
        detail:
          status === 'duplicate'
            ? `message ${message.header.counter} of this sender was delivered before`
            : `another message ${message.header.counter} of this sender exists`,
      });
      return undefined;
    }
    // With a timer on, the server was asked to delete what is missing: a gap is not evidence.
    if (status === 'gap' && room.timer === 0) {
      this.ctx.people.fail({
        code: 'MESSAGE_GAP',
        severity: this.ctx.people.severityOf(sender),
        roomId: room.roomId,
        seq: item.seq,
        userId: sender,
        messageId,
        ...(result.missing === undefined ? {} : { missing: result.missing }),
        detail: `messages ${result.missing?.from}..${result.missing?.to} of this sender never arrived`,
      });
    }
    const received: ReceivedMessage = {
      roomId: room.roomId,
      seq: item.seq,
      messageId,
      senderId: sender,
      senderName:
        sender === this.ctx.myId
          ? this.ctx.secrets?.record.username
          : this.ctx.trust.get(sender)?.username,
      epoch: message.header.epoch,
      counter: message.header.counter,
      clientTime: message.header.clientTime,
      sentAt: item.sentAt,
      status,
      payload: message.payload,
      text: message.payload.text,
      own: sender === this.ctx.myId,
    };
    const gone = hasDisappeared(received, room.timer, now);
    if (mode === 'live') {
      room.noteSeq(item.seq);
      if (gone) return undefined;
      noteActivity(room, item.seq, received.own, item.sentAt);
      this.ctx.events.emit('message', received);
    }
    return gone ? undefined : received;
  }

  /** room.open, re-reading the chain or the keys once when they may just be behind. */
  private async openWithRefresh(room: RoomState, bytes: Uint8Array, seq: number) {
    try {
      return room.open(bytes, this.ctx.people.identityKeyOf, seq);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      if (error.code === 'MESSAGE_SENDER_NOT_MEMBER') await this.chains.sync(room);
      else if (error.code === 'MESSAGE_UNKNOWN_EPOCH') await this.keys.fetchKeys(room);
      else throw error;
      return room.open(bytes, this.ctx.people.identityKeyOf, seq);
    }
  }

  /** Retries the messages held for a missing key, now that one arrived. */
  async releaseHeld(room: RoomState): Promise<void> {
    const held = room.takeHeld();
    for (const item of held) {
      const result = await this.receiveHeld(room, item);
      if (result === 'still-missing') room.hold(item);
    }
    await this.ctx.saveRoom(room);
  }

  private async receiveHeld(
    room: RoomState,
    item: { seq: number; envelope: Uint8Array; sentAt: string | undefined },
  ): Promise<'done' | 'still-missing'> {
    const { epoch } = decodeMessageEnvelope(item.envelope).header;
    if (room.roomKey(epoch) === undefined) return 'still-missing';
    // Processed out of band: 'history' keeps lastSeq, the event is emitted here.
    const message = await this.receive(
      room,
      { seq: item.seq, envelope: toBase64Url(item.envelope), sentAt: item.sentAt },
      'history',
    );
    if (message !== undefined) {
      room.noteSeq(item.seq);
      noteActivity(room, item.seq, message.own, item.sentAt);
      this.ctx.events.emit('message', message);
    }
    return 'done';
  }
}
