import type { Generated, Selectable } from 'kysely';

export interface ProfileTable {
  user_id: string;
  display_name: string | null;
  status_message: string | null;
  /** PNG, JPEG, WebP or GIF bytes, checked by magic number. */
  avatar: Uint8Array | null;
  avatar_type: string | null;
  updated_at: Generated<Date>;
}

export type Profile = Selectable<ProfileTable>;
