// What the client does with each frame from the server. Every frame here has passed its schema
// (boundary.ts); what it asks for runs in its room's queue, after whatever that room was doing,
// and a failure of one frame's work becomes an `error` event rather than an exception out of the
// socket's listener. Frames about rooms this account is not a verified member of move nothing:
// a key frame can only start an adoption, which the room's chain then decides.
import { fromBase64Url } from '@parley/crypto';
import type { RoomChains } from './chain';
import type { ServerFrame } from './connection';
import type { Contacts } from './contacts';
import type { ClientContext } from './context';
import type { Delivery } from './delivery';
import type { Membership } from './membership';
import type { Messages } from './messages';
import type { Receipts } from './receipts';
import type { RoomKeys } from './room-keys';
import type { RoomState } from './room-state';
import type { RoomSync } from './sync';

export interface DispatchParts {
  chains: RoomChains;
  keys: RoomKeys;
  membership: Membership;
  messages: Messages;
  delivery: Delivery;
  receipts: Receipts;
  sync: RoomSync;
  contacts: Contacts;
}

export class FrameDispatch {
  constructor(
    private readonly ctx: ClientContext,
    private readonly parts: DispatchParts,
  ) {}

  /** The socket is authenticated: presence again, then every room resynced and the outbox sent. */
  onReady(): void {
    this.parts.delivery.reconnected();
    this.parts.receipts.announcePresence();
    void this.parts.sync.resync().catch(this.ctx.report('resync'));
    void this.parts.contacts.refreshBlocks().catch(this.ctx.report('blockedUsers'));
  }

  onFrame(frame: ServerFrame): void {
    const { ctx } = this;
    const { chains, keys, membership, messages, delivery, receipts } = this.parts;
    const room = 'room' in frame ? chains.known(frame.room) : undefined;
    const known = room !== undefined && ctx.rooms.has(room.roomId);
    const run = (task: (room: RoomState) => Promise<void>): void => {
      if (room === undefined) return;
      void ctx.serial(room.roomId, () => task(room)).catch(ctx.report(`frame ${frame.type}`));
    };
    switch (frame.type) {
      case 'message':
        run(async (r) => {
          await messages.receive(r, frame, 'live');
          await ctx.saveRoom(r);
          receipts.acknowledgeDelivery(r);
        });
        break;
      case 'ack':
        void delivery.onAck(frame.room, frame.messageId, frame.seq).catch(ctx.report('frame ack'));
        break;
      case 'membership':
        run(async (r) => {
          const entry = fromBase64Url(frame.entry);
          if (r.hasEntry(entry)) return;
          const head = r.head?.position ?? -1;
          if (frame.appendedAt !== undefined) r.chainTimes.set(frame.position, frame.appendedAt);
          if (frame.position === head + 1) await chains.apply(r, [...r.chain, entry]);
          else await chains.sync(r);
          if (r.kind === 'channel' && r.isMember(ctx.myId)) await membership.admitPending(r);
        });
        break;
      case 'key':
        if (room === undefined || !known) {
          void chains.adopt(frame.room).catch(ctx.report('adoptRoom'));
          break;
        }
        run(async (r) => {
          if (await keys.acceptEnvelope(r, frame.envelope)) await messages.releaseHeld(r);
          await ctx.saveRoom(r);
        });
        break;
      case 'join-request':
        if (!known) break;
        ctx.events.emit('join-request', { roomId: frame.room, userId: frame.user });
        run((r) => membership.admit(r, frame.user));
        break;
      case 'removed': {
        const { reason } = frame;
        if (reason === 'removed') run((r) => chains.sync(r));
        else run((r) => chains.forget(r, reason));
        break;
      }
      case 'room-updated':
        if (!known) break;
        run((r) => membership.described(r, frame.name, frame.topic));
        break;
      case 'typing':
        // Advisory, but only of a verified member of a room this device knows.
        if (!known || !room.isMember(frame.user) || this.parts.contacts.hides(frame.user)) break;
        ctx.events.emit('typing', { roomId: frame.room, userId: frame.user, active: frame.active });
        break;
      case 'presence':
        // Someone this account blocked stays out of sight, whatever the server relays ("offline"
        // reveals nothing, and clears what was shown before the block).
        if (frame.status !== 'offline' && this.parts.contacts.hides(frame.user)) break;
        ctx.events.emit('presence', { userId: frame.user, status: frame.status });
        break;
      case 'profile':
        // Advisory, but only of a verified member of a room this device knows.
        if (!known || !room.isMember(frame.user)) break;
        ctx.events.emit('profile', { userId: frame.user });
        break;
      case 'keys':
        // Only a hint: the directory's answer, checked against the pin, shows any change.
        if (!known || !room.isMember(frame.user)) break;
        void ctx.people.lookUpById(frame.user).catch(ctx.report('frame keys'));
        break;
      case 'receipt':
        if (!known || !room.isMember(frame.user)) break;
        ctx.events.emit('receipt', {
          roomId: frame.room,
          userId: frame.user,
          kind: frame.kind,
          seq: frame.seq,
        });
        break;
      case 'contact':
        this.parts.contacts.changed(frame.user, frame.change);
        break;
      case 'error':
        void this.onErrorFrame(frame).catch(ctx.report('frame error'));
        break;
      default:
        break;
    }
  }

  private async onErrorFrame(frame: Extract<ServerFrame, { type: 'error' }>): Promise<void> {
    this.ctx.logger.warn('server error frame', { code: frame.code });
    await this.parts.delivery.onRefused(frame.ref, frame.code, frame.message);
  }
}
