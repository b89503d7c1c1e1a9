import type { Generated, Selectable } from 'kysely';

/** A message envelope (PROTOCOL.md §6.4) with the sequence number its room gave it at commit. */
export interface MessageTable {
  room_id: string;
  seq: number;
  /** The header's message id, hex: a retry with the same id is the same message. */
  message_id: string;
  sender_id: string;
  envelope: Uint8Array;
  sent_at: Generated<Date>;
}

export type MessageRow = Selectable<MessageTable>;
