import { Type, type Static } from '@sinclair/typebox';
import { Base64UrlBlob, Cursor, Id, PageLimit, PrintableText } from './common';

// Rooms, their membership chains, room-key envelopes and join requests (PROTOCOL.md §4, §5).
// Blobs are the @parley/crypto encodings as unpadded base64url; the server checks them as a
// first line of defence, but clients verify everything themselves.

/** Largest membership entry accepted: the canonical encoding of §5.1 is about 260 bytes. */
export const MEMBERSHIP_ENTRY_MAX_BYTES = 1024;
/** Largest room-key envelope accepted: the §4 envelope is about 330 bytes. */
export const ROOM_KEY_ENVELOPE_MAX_BYTES = 1024;
/** Envelopes in one POST /api/rooms/:id/keys (a key rotation in a large channel). */
export const ROOM_KEY_ENVELOPES_PER_REQUEST = 2000;
export const ROOM_NAME_MAX = 80;
export const ROOM_TOPIC_MAX = 300;
export const ROOM_TAG_MAX = 32;
export const ROOM_TAGS_MAX = 10;
/** A tag: lowercase letters, digits and dashes, not starting with a dash. */
export const ROOM_TAG_PATTERN = '^[a-z0-9][a-z0-9-]*$';
/** The expiry a room may be created with (a 7-day option). */
export const ROOM_EXPIRY_DAYS = [7] as const;

export const RoomKind = Type.Union([
  Type.Literal('channel'),
  Type.Literal('group'),
  Type.Literal('direct'),
]);
export type RoomKind = Static<typeof RoomKind>;

export const RoomRole = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
export type RoomRole = Static<typeof RoomRole>;

export const MembershipEntryBlob = Base64UrlBlob(
  MEMBERSHIP_ENTRY_MAX_BYTES,
  'a membership entry (PROTOCOL.md §5.1) as unpadded base64url',
);
export const RoomKeyEnvelopeBlob = Base64UrlBlob(
  ROOM_KEY_ENVELOPE_MAX_BYTES,
  'a room-key envelope (PROTOCOL.md §4) as unpadded base64url',
);

export const RoomTag = Type.String({
  minLength: 1,
  maxLength: ROOM_TAG_MAX,
  pattern: ROOM_TAG_PATTERN,
  description: 'lowercase letters, digits and dashes, not starting with a dash',
});

/**
 * Creates a room from its signed genesis entry: the room id, the kind and (for a direct
 * conversation) the peer come from the entry. Channels need a name and a topic, groups a name;
 * a direct conversation has neither.
 */
export const CreateRoomRequest = Type.Object(
  {
    genesis: MembershipEntryBlob,
    name: Type.Optional(PrintableText(ROOM_NAME_MAX, 1)),
    topic: Type.Optional(PrintableText(ROOM_TOPIC_MAX, 1)),
    tags: Type.Optional(Type.Array(RoomTag, { maxItems: ROOM_TAGS_MAX, uniqueItems: true })),
    /** The room and everything in it is deleted this many days after creation. */
    expiresInDays: Type.Optional(Type.Union(ROOM_EXPIRY_DAYS.map((days) => Type.Literal(days)))),
    /** Messages are relayed to the members online but never stored (no history, no resume). */
    ephemeral: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateRoomRequest = Static<typeof CreateRoomRequest>;

/**
 * Renames a room or edits its topic (admins of channels and groups): the same rules as at
 * creation, and at least one of the two.
 */
export const UpdateRoomRequest = Type.Object(
  {
    name: Type.Optional(PrintableText(ROOM_NAME_MAX, 1)),
    topic: Type.Optional(PrintableText(ROOM_TOPIC_MAX, 1)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateRoomRequest = Static<typeof UpdateRoomRequest>;

/** A room as its members see it (and as anyone sees a channel's public description). */
export const Room = Type.Object(
  {
    id: Id,
    kind: RoomKind,
    name: Type.Union([Type.String(), Type.Null()]),
    topic: Type.Union([Type.String(), Type.Null()]),
    tags: Type.Array(Type.String()),
    /** For a direct conversation: the other party, seen from the caller (else null). */
    peer: Type.Union([Id, Type.Null()]),
    ephemeral: Type.Boolean(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    /** Sequence number of the newest message (0 when none). */
    headSeq: Type.Integer(),
    /** Position of the newest membership entry. */
    chainHead: Type.Integer(),
    /** The epoch after the newest membership entry (the server's reading; clients verify). */
    epoch: Type.Integer(),
    memberCount: Type.Integer(),
    lastActivityAt: Type.String(),
    /** The caller's membership: null when the caller is not a member. */
    membership: Type.Union([
      Type.Object(
        {
          role: RoomRole,
          deliveredSeq: Type.Integer(),
          readSeq: Type.Integer(),
          /** Messages after the caller's read marker. */
          unread: Type.Integer(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type Room = Static<typeof Room>;

export const RoomList = Type.Object({ rooms: Type.Array(Room) }, { additionalProperties: false });
export type RoomList = Static<typeof RoomList>;

export const RoomParams = Type.Object({ id: Id }, { additionalProperties: false });
export type RoomParams = Static<typeof RoomParams>;

/**
 * Browse or search channels: every word of `q` matches part of the name, the topic or a tag
 * (case-insensitively); `tag` matches one tag exactly.
 */
export const ChannelQuery = Type.Object(
  {
    // No control characters: PostgreSQL text cannot hold U+0000, and no name or topic has one.
    q: Type.Optional(PrintableText(100, 1)),
    tag: Type.Optional(RoomTag),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);
export type ChannelQuery = Static<typeof ChannelQuery>;

export const ChannelPage = Type.Object(
  {
    channels: Type.Array(Room),
    /** Pass back as `cursor` for the next page; absent on the last page. */
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChannelPage = Static<typeof ChannelPage>;

export const ChainQuery = Type.Object(
  {
    /** Entries after this position; every entry from the genesis when absent. */
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type ChainQuery = Static<typeof ChainQuery>;

export const ChainEntryItem = Type.Object(
  {
    position: Type.Integer(),
    entry: Type.String(),
    /** When the server stored the entry (advisory: it places membership lines in the chat). */
    appendedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChainEntryItem = Static<typeof ChainEntryItem>;

export const ChainPage = Type.Object(
  {
    entries: Type.Array(ChainEntryItem),
    /** Position of the newest entry of the whole chain. */
    head: Type.Integer(),
  },
  { additionalProperties: false },
);
export type ChainPage = Static<typeof ChainPage>;

/** Appends one signed entry at head + 1 (else 409 CHAIN_CONFLICT: re-read and retry). */
export const AppendChainRequest = Type.Object(
  { entry: MembershipEntryBlob },
  { additionalProperties: false },
);
export type AppendChainRequest = Static<typeof AppendChainRequest>;

export const AppendChainResponse = Type.Object(
  { position: Type.Integer(), epoch: Type.Integer() },
  { additionalProperties: false },
);
export type AppendChainResponse = Static<typeof AppendChainResponse>;

export const JoinRequestBody = Type.Object({}, { additionalProperties: false });

export const JoinRequestItem = Type.Object(
  { userId: Id, username: Type.String(), requestedAt: Type.String() },
  { additionalProperties: false },
);
export type JoinRequestItem = Static<typeof JoinRequestItem>;

export const JoinRequestList = Type.Object(
  { requests: Type.Array(JoinRequestItem) },
  { additionalProperties: false },
);
export type JoinRequestList = Static<typeof JoinRequestList>;

export const BanRequest = Type.Object({ userId: Id }, { additionalProperties: false });
export type BanRequest = Static<typeof BanRequest>;

export const BanParams = Type.Object({ id: Id, userId: Id }, { additionalProperties: false });
export type BanParams = Static<typeof BanParams>;

export const BanItem = Type.Object(
  { userId: Id, username: Type.String(), bannedAt: Type.String() },
  { additionalProperties: false },
);
export type BanItem = Static<typeof BanItem>;

export const BanList = Type.Object({ bans: Type.Array(BanItem) }, { additionalProperties: false });
export type BanList = Static<typeof BanList>;

/** One of the caller's own join requests that no member has admitted yet. */
export const PendingJoinItem = Type.Object(
  { roomId: Id, name: Type.String(), requestedAt: Type.String() },
  { additionalProperties: false },
);
export type PendingJoinItem = Static<typeof PendingJoinItem>;

export const PendingJoinList = Type.Object(
  { requests: Type.Array(PendingJoinItem) },
  { additionalProperties: false },
);
export type PendingJoinList = Static<typeof PendingJoinList>;

export const PostKeysRequest = Type.Object(
  {
    envelopes: Type.Array(RoomKeyEnvelopeBlob, {
      minItems: 1,
      maxItems: ROOM_KEY_ENVELOPES_PER_REQUEST,
    }),
  },
  { additionalProperties: false },
);
export type PostKeysRequest = Static<typeof PostKeysRequest>;

export const PostKeysResponse = Type.Object(
  { stored: Type.Integer() },
  { additionalProperties: false },
);
export type PostKeysResponse = Static<typeof PostKeysResponse>;

export const KeysQuery = Type.Object(
  { epoch: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })) },
  { additionalProperties: false },
);
export type KeysQuery = Static<typeof KeysQuery>;

export const RoomKeyItem = Type.Object(
  { epoch: Type.Integer(), distributor: Id, envelope: Type.String(), createdAt: Type.String() },
  { additionalProperties: false },
);
export type RoomKeyItem = Static<typeof RoomKeyItem>;

/** The caller's envelopes (recipient = caller), oldest first; several per epoch may exist. */
export const RoomKeyList = Type.Object(
  { envelopes: Type.Array(RoomKeyItem) },
  { additionalProperties: false },
);
export type RoomKeyList = Static<typeof RoomKeyList>;
