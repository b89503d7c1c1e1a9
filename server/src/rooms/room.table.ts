import type { Generated, Insertable, Selectable } from 'kysely';

/** A room: its public description, and the server's reading of its chain and message heads. */
export interface RoomTable {
  /** 16 random bytes chosen by the creator, as 32 lowercase hex characters. */
  id: string;
  kind: 'channel' | 'group' | 'direct';
  name: string | null;
  topic: string | null;
  tags: Generated<string[]>;
  /** "<lower user id>:<higher user id>" of a direct conversation, else null. */
  direct_pair: string | null;
  ephemeral: Generated<boolean>;
  expires_at: Date | null;
  created_at: Generated<Date>;
  last_activity_at: Generated<Date>;
  /** The sequence number of the newest message (0 before the first). */
  head_seq: Generated<number>;
  /** Position and hash of the newest membership entry. */
  chain_position: number;
  chain_hash: Uint8Array;
  epoch: Generated<number>;
  member_count: Generated<number>;
  /** Seconds after which messages disappear, as the newest `set-timer` entry says; 0 for never. */
  message_timer: Generated<number>;
}

/** The current members as the chain says: what the server uses to decide who may read. */
export interface RoomMemberTable {
  room_id: string;
  user_id: string;
  role: 'admin' | 'member';
  delivered_seq: Generated<number>;
  read_seq: Generated<number>;
  joined_at: Generated<Date>;
}

export interface RoomFormerMemberTable {
  room_id: string;
  user_id: string;
  left_at: Generated<Date>;
}

/** Membership entries (PROTOCOL.md §5.1) as the signed blobs the clients sent. */
export interface ChainEntryTable {
  room_id: string;
  position: number;
  entry: Uint8Array;
  created_at: Generated<Date>;
}

/** Room-key envelopes (PROTOCOL.md §4), one per recipient. */
export interface RoomKeyEnvelopeTable {
  id: Generated<number>;
  room_id: string;
  epoch: number;
  recipient_id: string;
  distributor_id: string;
  envelope: Uint8Array;
  created_at: Generated<Date>;
}

export interface JoinRequestTable {
  room_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

export interface RoomBanTable {
  room_id: string;
  user_id: string;
  banned_by: string | null;
  created_at: Generated<Date>;
}

export type RoomRow = Selectable<RoomTable>;
export type NewRoom = Insertable<RoomTable>;
export type RoomMemberRow = Selectable<RoomMemberTable>;
