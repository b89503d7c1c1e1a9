import type { Generated } from 'kysely';

/** An encrypted attachment blob (PROTOCOL.md §8), opaque to the server. */
export interface AttachmentTable {
  /** The blobId clients put in their descriptors. */
  id: string;
  room_id: string;
  uploader_id: string;
  size: number;
  data: Uint8Array;
  created_at: Generated<Date>;
}
