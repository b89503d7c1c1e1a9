// What a UI sees of a room, and what the client takes from the server's description of one. The
// members come from the verified chain only; the name, unread count, activity and lifetime are the
// server's word, kept apart in `info` and `summary` so that nothing else is decided by them.
import type { Role, RoomKind } from '@parley/crypto';
import type { Room } from '@parley/wire';
import type { RoomInfo, RoomState, RoomSummary } from './room-state';

export interface RoomView {
  roomId: string;
  kind: RoomKind | undefined;
  info: RoomInfo;
  epoch: number;
  /** From the verified chain only. */
  members: ReadonlyMap<string, Role>;
  /** Whether this device holds the key of the current epoch. */
  canSend: boolean;
  lastSeq: number;
  /**
   * Messages after this account's read marker, as GET /api/rooms last said and live traffic has
   * moved since (undefined until the server was asked: `refreshRooms()`, `syncRooms()`).
   */
  unread: number | undefined;
  /** ISO time of the room's newest message or membership change (same source as `unread`). */
  lastActivity: string | undefined;
  /** Whether the server keeps none of the room's messages (undefined: not known yet). */
  ephemeral: boolean | undefined;
  /** ISO time at which the server deletes the room, null for never (undefined: not known yet). */
  expiresAt: string | null | undefined;
  /** Seconds after which messages disappear, from the verified chain; 0 for never. */
  messageTimer: number;
}

/** Options of a new channel or group (PROTOCOL's server-side retention, not encryption). */
export interface RoomLifetime {
  /** The server deletes the room, its messages and attachments this many days after creation. */
  expiresInDays?: 7;
  /** The server relays messages to connected members and stores none (no history, no replay). */
  ephemeral?: boolean;
}

export interface ChannelListing {
  roomId: string;
  name: string;
  topic: string;
  tags: string[];
}

/** The view of `room` for this account (`mine`: this device's account is a verified member). */
export function viewOf(room: RoomState, mine: boolean): RoomView {
  return {
    roomId: room.roomId,
    kind: room.kind,
    info: { ...room.info },
    epoch: room.epoch,
    members: new Map(room.members()),
    canSend: room.currentKey() !== undefined && mine,
    lastSeq: room.lastSeq,
    unread: room.summary?.unread,
    lastActivity: room.summary?.lastActivity,
    ephemeral: room.summary?.ephemeral,
    expiresAt: room.summary?.expiresAt,
    messageTimer: room.timer,
  };
}

/** Whether the room's lifetime, as the server described it, is over. */
export function hasExpired(room: RoomState, now: number): boolean {
  const expiresAt = room.summary?.expiresAt;
  return typeof expiresAt === 'string' && Date.parse(expiresAt) <= now;
}

/** Takes what the server says of a room: its description and its advisory summary. */
export function describe(room: RoomState, answer: Room): void {
  room.info = {
    name: answer.name ?? undefined,
    topic: answer.topic ?? undefined,
    tags: answer.tags ?? undefined,
  };
  room.summary = summaryOf(answer);
}

export function summaryOf(answer: Room): RoomSummary {
  return {
    unread: answer.membership?.unread ?? 0,
    readSeq: answer.membership?.readSeq ?? 0,
    countedUpTo: answer.headSeq,
    lastActivity: answer.lastActivityAt,
    ephemeral: answer.ephemeral,
    expiresAt: answer.expiresAt,
  };
}

export function channelListingOf(room: Room): ChannelListing {
  return {
    roomId: room.id,
    name: room.name ?? '',
    topic: room.topic ?? '',
    tags: room.tags ?? [],
  };
}

/** A live message moved the room: newer activity, and one more unread unless it is ours. */
export function noteActivity(
  room: RoomState,
  seq: number,
  own: boolean,
  sentAt: string | undefined,
): void {
  const summary = room.summary;
  if (summary === undefined) return;
  if (sentAt !== undefined && sentAt > summary.lastActivity) summary.lastActivity = sentAt;
  // A message the server's count already holds (caught up after the room list) counts once.
  if (!own && seq > summary.readSeq && seq > summary.countedUpTo) summary.unread += 1;
  summary.countedUpTo = Math.max(summary.countedUpTo, seq);
}
