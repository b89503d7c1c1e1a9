import type {
  KeyBackupTable,
  RefreshTokenTable,
  SessionTable,
  UserTable,
} from '../accounts/account.table';
import type { EncryptionKeyTable, IdentityKeyTable } from '../directory/directory.table';
import type { ProfileTable } from '../profiles/profile.table';

/**
 * Every table, assembled from the feature folders' `*.table.ts`. A feature adds its tables here
 * and a migration under ./migrations.
 */
export interface Database {
  users: UserTable;
  sessions: SessionTable;
  refresh_tokens: RefreshTokenTable;
  key_backups: KeyBackupTable;
  profiles: ProfileTable;
  identity_keys: IdentityKeyTable;
  encryption_keys: EncryptionKeyTable;
}
