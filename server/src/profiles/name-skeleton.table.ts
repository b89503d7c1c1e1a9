/**
 * The skeleton (see names.ts) of every username and display name, one row each, keyed by the
 * skeleton: the primary key is what stops two users from looking alike, race-free.
 */
export interface NameSkeletonTable {
  skeleton: string;
  user_id: string;
  source: 'username' | 'display_name';
}
