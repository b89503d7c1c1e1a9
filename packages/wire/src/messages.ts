import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common';

// Message history, delivered/read markers and attachments (PROTOCOL.md §6, §8). The server sees
// ciphertext envelopes and opaque blobs only.

/**
 * Largest message envelope accepted, in bytes: a payload padded to the 65536-byte bucket plus
 * the header, nonce, tag and signature (PROTOCOL.md §6.3, §6.4).
 */
export const MESSAGE_ENVELOPE_MAX_BYTES = 66 * 1024;

export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** One stored message: its room sequence number, the envelope, and when the server committed it. */
export const MessageItem = Type.Object(
  { seq: Type.Integer(), envelope: Type.String(), sentAt: Type.String() },
  { additionalProperties: false },
);
export type MessageItem = Static<typeof MessageItem>;

/**
 * A page of history by keyset on the sequence number: `after` gives the oldest messages above it,
 * `before` the newest below it, neither the newest of the room. Either way in ascending order.
 */
export const HistoryQuery = Type.Object(
  {
    before: Type.Optional(Seq),
    after: Type.Optional(Seq),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HistoryPage = Type.Object(
  {
    messages: Type.Array(MessageItem),
    /** The room's newest sequence number. */
    headSeq: Type.Integer(),
    /** More messages lie beyond this page in the direction asked. */
    more: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type HistoryPage = Static<typeof HistoryPage>;

export const ReceiptKind = Type.Union([Type.Literal('delivered'), Type.Literal('read')]);
export type ReceiptKind = Static<typeof ReceiptKind>;

/** Moves the caller's markers forward (never back; never past the room's newest message). */
export const PostReceiptsRequest = Type.Object(
  { delivered: Type.Optional(Seq), read: Type.Optional(Seq) },
  { additionalProperties: false, minProperties: 1 },
);
export type PostReceiptsRequest = Static<typeof PostReceiptsRequest>;

export const MemberReceipts = Type.Object(
  { userId: Id, deliveredSeq: Type.Integer(), readSeq: Type.Integer() },
  { additionalProperties: false },
);
export type MemberReceipts = Static<typeof MemberReceipts>;

export const ReceiptList = Type.Object(
  { receipts: Type.Array(MemberReceipts) },
  { additionalProperties: false },
);
export type ReceiptList = Static<typeof ReceiptList>;

/** The identifier of an uploaded attachment blob (PROTOCOL.md §8 `blobId`). */
export const BlobId = Type.String({ pattern: '^[0-9a-f]{32}$', minLength: 32, maxLength: 32 });

export const BlobParams = Type.Object({ blobId: BlobId }, { additionalProperties: false });
export type BlobParams = Static<typeof BlobParams>;

/** Answer to an upload (the body is the encrypted blob as application/octet-stream). */
export const AttachmentUploaded = Type.Object(
  { blobId: BlobId, size: Type.Integer() },
  { additionalProperties: false },
);
export type AttachmentUploaded = Static<typeof AttachmentUploaded>;

/** GET /api/attachments/limits: the largest encrypted blob an upload may carry, in bytes. */
export const AttachmentLimits = Type.Object(
  { maxBlobBytes: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type AttachmentLimits = Static<typeof AttachmentLimits>;
