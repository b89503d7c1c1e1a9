import type { Generated, Selectable } from 'kysely';

/**
 * A user's Ed25519 identity public keys, append-only (PROTOCOL.md §3.1): version 1 from the first
 * publication, one more for each identity reset; the highest is the current one.
 */
export interface IdentityKeyTable {
  user_id: string;
  version: Generated<number>;
  public_key: Uint8Array;
  published_at: Generated<Date>;
}

/** Every X25519 encryption key a user published, with its binding signature (PROTOCOL.md §3.2). */
export interface EncryptionKeyTable {
  user_id: string;
  version: number;
  public_key: Uint8Array;
  signature: Uint8Array;
  published_at: Generated<Date>;
}

export type IdentityKey = Selectable<IdentityKeyTable>;
export type EncryptionKey = Selectable<EncryptionKeyTable>;
