import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Base64UrlBlob, Id } from './common';
import { ContactChange } from './contacts';
import { errorCodes } from './errors';
import { MESSAGE_ENVELOPE_MAX_BYTES, ReceiptKind, Seq } from './messages';

// The WebSocket at /ws: JSON text frames, each an object with a `type`. The client's first frame
// must be `auth`; every later frame is one of ClientFrame. docs/ARCHITECTURE.md describes the flow.

/** Why the server closed a socket; clients switch on these (docs/ARCHITECTURE.md lists them). */
export const CloseCode = {
  /** The server is shutting down: reconnect (to another process) and resume. */
  GOING_AWAY: 1001,
  /** A frame above the size limit. */
  FRAME_TOO_LARGE: 1009,
  /** No valid `auth` frame in time, the token was refused, or it expired: refresh, reconnect. */
  UNAUTHENTICATED: 4001,
  /**
   * The socket's session ended (log out, log out everywhere, a reused refresh token, the account
   * deleted): the user is signed out; do not reconnect with this session.
   */
  SESSION_ENDED: 4002,
  /** The page's Origin is not allowed to open sockets here. */
  ORIGIN_NOT_ALLOWED: 4003,
  /** The socket fell too far behind (send buffer over its limit): reconnect and resume. */
  SLOW_CONSUMER: 4008,
  /** Too many malformed frames. */
  MALFORMED_FRAMES: 4400,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const PresenceStatus = Type.Union([
  Type.Literal('online'),
  Type.Literal('away'),
  Type.Literal('dnd'),
  Type.Literal('invisible'),
]);
export type PresenceStatus = Static<typeof PresenceStatus>;

/** What others see: `invisible` is shown as `offline`. */
export const VisiblePresence = Type.Union([
  Type.Literal('online'),
  Type.Literal('away'),
  Type.Literal('dnd'),
  Type.Literal('offline'),
]);
export type VisiblePresence = Static<typeof VisiblePresence>;

const MessageEnvelopeBlob = Base64UrlBlob(
  MESSAGE_ENVELOPE_MAX_BYTES,
  'a message envelope (PROTOCOL.md §6.4) as unpadded base64url',
);

function frame<T extends string, P extends Record<string, TSchema>>(type: T, properties: P) {
  return Type.Object({ type: Type.Literal(type), ...properties }, { additionalProperties: false });
}

// ----- client → server -----

export const AuthFrame = frame('auth', { token: Type.String({ minLength: 1, maxLength: 4096 }) });
/** Membership is checked again; with `after`, every message above it is replayed, then live. */
export const SubscribeFrame = frame('subscribe', { room: Id, after: Type.Optional(Seq) });
export const UnsubscribeFrame = frame('unsubscribe', { room: Id });
/** The server acknowledges with `ack` once the message is committed (or `error` with `ref`). */
export const SendFrame = frame('send', { room: Id, envelope: MessageEnvelopeBlob });
export const TypingFrame = frame('typing', { room: Id, active: Type.Boolean() });
export const ReceiptFrame = frame('receipt', { room: Id, kind: ReceiptKind, seq: Seq });
export const PresenceFrame = frame('presence', { status: PresenceStatus });
export const PingFrame = frame('ping', {});

export const ClientFrame = Type.Union([
  AuthFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  SendFrame,
  TypingFrame,
  ReceiptFrame,
  PresenceFrame,
  PingFrame,
]);
export type ClientFrame = Static<typeof ClientFrame>;
export type ClientFrameType = ClientFrame['type'];

/** Each client frame's schema by its `type`, so a validator can name what is wrong. */
export const clientFrameSchemas = {
  auth: AuthFrame,
  subscribe: SubscribeFrame,
  unsubscribe: UnsubscribeFrame,
  send: SendFrame,
  typing: TypingFrame,
  receipt: ReceiptFrame,
  presence: PresenceFrame,
  ping: PingFrame,
} as const satisfies Record<ClientFrameType, TSchema>;

// ----- server → client -----

export const ReadyFrame = frame('ready', {
  user: Type.Object({ id: Id, username: Type.String() }, { additionalProperties: false }),
});
/** Sent before the replay: `head` is the room's newest sequence number at that moment. */
export const SubscribedFrame = frame('subscribed', { room: Id, head: Type.Integer() });
export const UnsubscribedFrame = frame('unsubscribed', { room: Id });
/** `messageId` is the header's message id in hex; a retry of a stored message gets the same seq. */
export const AckFrame = frame('ack', { room: Id, messageId: Id, seq: Type.Integer() });
export const MessageFrame = frame('message', {
  room: Id,
  seq: Type.Integer(),
  envelope: Type.String(),
  sentAt: Type.String(),
});
export const MembershipFrame = frame('membership', {
  room: Id,
  position: Type.Integer(),
  entry: Type.String(),
  /** When the server stored the entry (advisory, as for chain pages). */
  appendedAt: Type.Optional(Type.String()),
});
export const KeyFrame = frame('key', {
  room: Id,
  epoch: Type.Integer(),
  distributor: Id,
  envelope: Type.String(),
});
export const JoinRequestFrame = frame('join-request', {
  room: Id,
  user: Id,
  username: Type.String(),
});
export const ServerTypingFrame = frame('typing', { room: Id, user: Id, active: Type.Boolean() });
export const ServerPresenceFrame = frame('presence', { user: Id, status: VisiblePresence });
export const ServerReceiptFrame = frame('receipt', {
  room: Id,
  user: Id,
  kind: ReceiptKind,
  seq: Type.Integer(),
});
/** A member changed their profile (name, status message or picture): read it again. */
export const ProfileFrame = frame('profile', { room: Id, user: Id });
/**
 * A member published a new identity key (an identity reset, PROTOCOL.md §3.4): look their keys up
 * again, which shows the change to accept. Only the fact travels; the keys come from the directory.
 */
export const KeysFrame = frame('keys', { room: Id, user: Id });
/** An admin renamed the room or edited its topic: its public description now. */
export const RoomUpdatedFrame = frame('room-updated', {
  room: Id,
  name: Type.Union([Type.String(), Type.Null()]),
  topic: Type.Union([Type.String(), Type.Null()]),
});
/**
 * This socket no longer receives the room: the caller was removed or left (the membership frame
 * came first), the room expired and was deleted, or an admin deleted it.
 */
export const RemovedReason = Type.Union([
  Type.Literal('removed'),
  Type.Literal('expired'),
  Type.Literal('deleted'),
]);
export type RemovedReason = Static<typeof RemovedReason>;
export const RemovedFrame = frame('removed', { room: Id, reason: RemovedReason });
/** The contacts, requests or blocks between this account and `user` changed: read them again. */
export const ContactFrame = frame('contact', { user: Id, change: ContactChange });
/** `ref`: the message id (hex) of a refused `send`, or the room of a refused subscribe. */
export const ErrorFrame = frame('error', {
  code: Type.Union(errorCodes.map((code) => Type.Literal(code))),
  message: Type.String(),
  ref: Type.Optional(Type.String()),
});
export const PongFrame = frame('pong', {});

export const ServerFrame = Type.Union([
  ReadyFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  AckFrame,
  MessageFrame,
  MembershipFrame,
  KeyFrame,
  JoinRequestFrame,
  ServerTypingFrame,
  ServerPresenceFrame,
  ServerReceiptFrame,
  RoomUpdatedFrame,
  ProfileFrame,
  KeysFrame,
  RemovedFrame,
  ContactFrame,
  ErrorFrame,
  PongFrame,
]);
export type ServerFrame = Static<typeof ServerFrame>;
