import type { Generated, Insertable, Selectable } from 'kysely';

export interface UserTable {
  /** 16 random bytes as 32 lowercase hex characters (PROTOCOL.md §2.1). */
  id: string;
  /** Canonical (lower-case) username; unique. */
  username: string;
  /** Argon2id PHC string. */
  password_hash: string;
  created_at: Generated<Date>;
  /** Who may open a direct conversation with the account (contacts/contact.service.ts). */
  direct_from: Generated<'everyone' | 'contacts'>;
}

/** One logged-in device: a family of refresh tokens, each replacing the one before. */
export interface SessionTable {
  id: string;
  user_id: string;
  created_at: Generated<Date>;
  refreshed_at: Generated<Date>;
  /** Set by log out, log out everywhere, revoking it from the session list, or token reuse. */
  revoked_at: Date | null;
  /** The client's name for the device, or one read from its User-Agent (device-name.ts). */
  device_name: Generated<string>;
  /** The last refresh or socket sign-in, to the minute (session.repository.ts). */
  last_seen_at: Generated<Date>;
}

export interface RefreshTokenTable {
  /** SHA-256 of the token as hex; the token itself is never stored. */
  token_hash: string;
  session_id: string;
  created_at: Generated<Date>;
  expires_at: Date;
  /** Set when the token is exchanged; presenting it again revokes the session. */
  used_at: Date | null;
}

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type Session = Selectable<SessionTable>;
export type RefreshToken = Selectable<RefreshTokenTable>;

/** The encrypted key backup of PROTOCOL.md §7, opaque to the server. */
export interface KeyBackupTable {
  user_id: string;
  blob: Uint8Array;
  updated_at: Generated<Date>;
}
