// The events a client emits, typed, so that a UI (or a bot) reacts to what happened without
// polling. Verification failures carry @parley/crypto's codes, or the client's own for the
// classifications of PROTOCOL.md §6.5 and for changed keys, so a UI can say exactly what went wrong.
import type { CryptoErrorCode, MessagePayload, MessageStatus, Role } from '@parley/crypto';
import type { ContactChange } from '@parley/wire';
import mitt, { type Emitter } from 'mitt';
import type { ProtocolViolation } from './boundary';
import type { IceCandidate } from './call-signal';
import type { CallState } from './calls';
import type { MembershipLine } from './membership-log';
import type { Logger } from './options';

/** A message that verified and decrypted. */
export interface ReceivedMessage {
  roomId: string;
  /** The server's per-room sequence number. */
  seq: number;
  messageId: string;
  senderId: string;
  /** The sender's username as pinned, when known. */
  senderName: string | undefined;
  epoch: number;
  counter: number;
  /** The sender's clock (advisory). */
  clientTime: number;
  /** The server's commit time (ISO 8601), as the server says. */
  sentAt: string | undefined;
  /** `new`, or `out-of-order` (authentic, arrived after a later one), or `gap` (authentic, some before it are missing). */
  status: Extract<MessageStatus, 'new' | 'out-of-order' | 'gap'>;
  payload: MessagePayload;
  /** The text of a `text` or `edit` payload, for convenience. */
  text: string;
  /** True when this device sent it. */
  own: boolean;
}

export type VerificationFailureCode =
  | CryptoErrorCode
  /** §6.5 classification: the server delivered a message seen before (a replay). */
  | 'MESSAGE_DUPLICATE'
  /** §6.5 classification: messages of this sender before this one never arrived (dropped). */
  | 'MESSAGE_GAP'
  /** §6.5 classification: the sender or the server equivocated; the message is not shown. */
  | 'MESSAGE_FORK'
  /** A contact's identity key (or a same-version encryption key) differs from the pinned one. */
  | 'KEY_CHANGED';

export interface VerificationFailure {
  code: VerificationFailureCode;
  /** `critical` when it concerns a contact the user verified by safety number. */
  severity: 'warning' | 'critical';
  roomId?: string;
  userId?: string;
  seq?: number;
  messageId?: string;
  /** For MESSAGE_GAP: the counters that are missing, from and to (inclusive). */
  missing?: { from: number; to: number };
  detail: string;
}

export interface MembershipChange {
  roomId: string;
  epoch: number;
  members: ReadonlyMap<string, Role>;
  /** The entries verified by this change, as lines for the chat (all of them on first sight). */
  changes: MembershipLine[];
}

export type ConnectionState = 'connecting' | 'open' | 'closed';
export type PresenceStatus = 'online' | 'away' | 'dnd' | 'invisible' | 'offline';

// A type alias, not an interface: mitt needs the implicit index signature only aliases have.
export type ClientEvents = {
  message: ReceivedMessage;
  'verification-failed': VerificationFailure;
  membership: MembershipChange;
  /** A room key for an epoch reached this device (messages of that epoch can now be read). */
  'room-key': { roomId: string; epoch: number };
  /** The server committed a message this device sent. */
  acked: { roomId: string; messageId: string; seq: number };
  /** The server refused a message for good; it left the outbox. */
  'send-failed': { roomId: string; messageId: string; code: string; detail: string };
  'join-request': { roomId: string; userId: string };
  /** This device admitted a newcomer to a channel. */
  admitted: { roomId: string; userId: string };
  /** This account is no longer a member of the room: removed by `by`, or left (`by` is itself). */
  removed: { roomId: string; by: string | undefined };
  /** This account became a member of a room this device did not know: added, or let in. */
  joined: { roomId: string };
  /** The server deleted the room at the end of its lifetime; this device forgot it, keys included. */
  expired: { roomId: string };
  /** An admin deleted the room; this device forgot it, keys included. */
  deleted: { roomId: string };
  /** An admin renamed the room or edited its topic (the server's word: public metadata). */
  'room-updated': { roomId: string; name: string | undefined; topic: string | undefined };
  typing: { roomId: string; userId: string; active: boolean };
  presence: { userId: string; status: PresenceStatus };
  /** A person who shares a room with this account changed their profile: read it again. */
  profile: { userId: string };
  receipt: { roomId: string; userId: string; kind: 'delivered' | 'read'; seq: number };
  /**
   * The contacts, requests or blocks between this account and `userId` changed (the server's
   * word, a hint only): read the list again with `contactList()`.
   */
  contact: { userId: string; change: ContactChange };
  connection: { state: ConnectionState; attempt: number };
  /**
   * The server ended this device's session (logged out elsewhere, everywhere, a stolen refresh
   * token detected, the account deleted): the connection stopped and the client is logged out.
   */
  'signed-out': { reason: string };
  /**
   * A frame or an answer from the server failed its @parley/wire schema: it was dropped (a request
   * failed with BAD_RESPONSE) and nothing in it was used.
   */
  'protocol-error': ProtocolViolation;
  /** A call changed phase (rang, was answered, connected, ended); see calls.ts. */
  call: CallState;
  /** The other side of the call sent ICE candidates (also kept for `takeCandidates`). */
  'call-candidates': { callId: string; roomId: string; candidates: IceCandidate[] };
  /** A background task failed (a network error while syncing, say); the client retries on its own. */
  error: { operation: string; error: unknown };
};

export type ClientEventName = keyof ClientEvents;
export type ClientEventHandler<K extends ClientEventName> = (event: ClientEvents[K]) => void;

export class ClientEventEmitter {
  private readonly bus: Emitter<ClientEvents> = mitt<ClientEvents>();

  constructor(private readonly logger: Logger) {}

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends ClientEventName>(type: K, handler: ClientEventHandler<K>): () => void {
    // One throwing listener must not stop the others or the client's own processing.
    const guarded = (event: ClientEvents[K]): void => {
      try {
        handler(event);
      } catch (error) {
        this.logger.error('event listener threw', { event: type, error: String(error) });
      }
    };
    this.bus.on(type, guarded);
    return () => this.bus.off(type, guarded);
  }

  /** Resolves with the next event of `type` for which `accept` holds. */
  next<K extends ClientEventName>(
    type: K,
    accept: (event: ClientEvents[K]) => boolean = () => true,
  ): Promise<ClientEvents[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (event) => {
        if (!accept(event)) return;
        off();
        resolve(event);
      });
    });
  }

  emit<K extends ClientEventName>(type: K, event: ClientEvents[K]): void {
    this.bus.emit(type, event);
  }
}
