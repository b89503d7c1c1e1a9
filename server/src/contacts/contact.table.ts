import type { Generated } from 'kysely';

/** A contact request waiting for its answer (accepted, declined or withdrawn, it is deleted). */
export interface ContactRequestTable {
  /** 16 random bytes as 32 lowercase hex characters. */
  id: string;
  from_user: string;
  to_user: string;
  created_at: Generated<Date>;
}

/** One direction of an accepted pair: both rows exist or neither. */
export interface ContactTable {
  user_id: string;
  contact_id: string;
  created_at: Generated<Date>;
}

export interface BlockTable {
  blocker: string;
  blocked: string;
  created_at: Generated<Date>;
}
