// What travels on the bus (plugins/bus.ts) between the parts of the server: events about a room,
// published on its room channel, and events for one user, on the user's channel. Each carries the
// server frame to deliver, encoded once by the publisher and sent as is to every socket.
import type { Bus } from '../plugins/bus';

export type RoomEvent =
  /** A committed message (stored rooms: `seq` is contiguous per room; ephemeral rooms: relayed). */
  | { t: 'message'; seq: number; ephemeral?: boolean }
  /** A membership entry; `departed` is the user a remove or leave took out of the room. */
  | { t: 'membership'; position: number; departed?: string }
  /**
   * A frame for every subscriber except the sockets of user `except` (typing, receipts...); with
   * `from`, not for the sockets of users in a block with `from` either (presence, typing).
   */
  | { t: 'relay'; except?: string; from?: string }
  /** The room was deleted (it expired, or an admin deleted it): every subscriber stops receiving it. */
  | { t: 'deleted'; reason: 'expired' | 'deleted' }
  /** User `from` just subscribed: every other subscriber tells them its presence, if it shows one. */
  | { t: 'presence-query'; from: string };

export type UserEvent =
  /** A frame for every socket of the user. */
  | { t: 'relay' }
  /** Session `session` of the user (every session when absent) ended: close its sockets. */
  | { t: 'revoked'; session?: string; reason: SessionEndReason }
  /** A block between the user and `user` began (`hidden`) or ended: their presence and typing. */
  | { t: 'hide'; user: string; hidden: boolean };

/** Why sockets were closed with CloseCode.SESSION_ENDED: the close frame's reason. */
export type SessionEndReason = 'SESSION_REVOKED' | 'ACCOUNT_DELETED';

export function roomChannel(roomId: string): string {
  return `room:${roomId}`;
}

export function userChannel(userId: string): string {
  return `user:${userId}`;
}

/**
 * An event and its frame as one bus payload: the event's JSON, a newline, then the frame's JSON
 * untouched (JSON.stringify never emits a raw newline, so the first one is the separator). The
 * frame is not nested inside the event's JSON, so it is neither escaped nor parsed on the way.
 */
export function encodeEvent(event: RoomEvent | UserEvent, frame = ''): string {
  return `${JSON.stringify(event)}\n${frame}`;
}

export function decodeEvent<E extends RoomEvent | UserEvent>(
  payload: string,
): { event: E; frame: string } {
  const newline = payload.indexOf('\n');
  return {
    event: JSON.parse(payload.slice(0, newline)) as E,
    frame: payload.slice(newline + 1),
  };
}

export function publishToRoom(bus: Bus, roomId: string, event: RoomEvent, frame = ''): void {
  bus.publish(roomChannel(roomId), encodeEvent(event, frame));
}

export function publishToUser(bus: Bus, userId: string, frame: string): void {
  bus.publish(userChannel(userId), encodeEvent({ t: 'relay' }, frame));
}

/** Tells every process to close the sockets of the ended session(s) of `userId`. */
export function publishSessionEnd(
  bus: Bus,
  userId: string,
  session: string | undefined,
  reason: SessionEndReason,
): void {
  const event: UserEvent =
    session === undefined ? { t: 'revoked', reason } : { t: 'revoked', session, reason };
  bus.publish(userChannel(userId), encodeEvent(event));
}

/**
 * Tells the sockets of both users that a block between them began or ended, and on a new block
 * shows each as offline to the other (what they saw last stops being true).
 */
export function publishBlockChange(bus: Bus, a: string, b: string, hidden: boolean): void {
  for (const [user, other] of [
    [a, b],
    [b, a],
  ] as const) {
    bus.publish(userChannel(user), encodeEvent({ t: 'hide', user: other, hidden }));
    if (hidden) {
      publishToUser(
        bus,
        user,
        JSON.stringify({ type: 'presence', user: other, status: 'offline' }),
      );
    }
  }
}
