import type { Generated } from 'kysely';

/** An account's email address; used for password reset only once verified. */
export interface AccountEmailTable {
  user_id: string;
  /** Normalised (@parley/wire normalizeEmail); unique among verified ones, case ignored. */
  address: string;
  verified_at: Date | null;
  updated_at: Generated<Date>;
}

export type MailTokenPurpose = 'verify' | 'reset';

/** A token mailed in a link. Only its SHA-256 is stored: the database alone opens no link. */
export interface MailTokenTable {
  token_hash: string;
  user_id: string;
  purpose: MailTokenPurpose;
  /** The address a verification link confirms; null for a reset. */
  address: string | null;
  created_at: Generated<Date>;
  expires_at: Date;
  used_at: Date | null;
}
