import type {
  KeyBackupTable,
  RefreshTokenTable,
  SessionTable,
  UserTable,
} from '../accounts/account.table';
import type { AccountEmailTable, MailTokenTable } from '../accounts/email.table';
import type { EncryptionKeyTable, IdentityKeyTable } from '../directory/directory.table';
import type { ProfileTable } from '../profiles/profile.table';
import type { NameSkeletonTable } from '../profiles/name-skeleton.table';
import type { AttachmentTable } from '../attachments/attachment.table';
import type { MessageTable } from '../messages/message.table';
import type { BlockTable, ContactRequestTable, ContactTable } from '../contacts/contact.table';
import type {
  ChainEntryTable,
  JoinRequestTable,
  RoomBanTable,
  RoomFormerMemberTable,
  RoomKeyEnvelopeTable,
  RoomMemberTable,
  RoomTable,
} from '../rooms/room.table';

/**
 * Every table, assembled from the feature folders' `*.table.ts`. A feature adds its tables here
 * and a migration under ./migrations.
 */
export interface Database {
  users: UserTable;
  sessions: SessionTable;
  refresh_tokens: RefreshTokenTable;
  key_backups: KeyBackupTable;
  account_emails: AccountEmailTable;
  mail_tokens: MailTokenTable;
  profiles: ProfileTable;
  name_skeletons: NameSkeletonTable;
  identity_keys: IdentityKeyTable;
  encryption_keys: EncryptionKeyTable;
  rooms: RoomTable;
  room_members: RoomMemberTable;
  room_former_members: RoomFormerMemberTable;
  chain_entries: ChainEntryTable;
  room_key_envelopes: RoomKeyEnvelopeTable;
  join_requests: JoinRequestTable;
  room_bans: RoomBanTable;
  messages: MessageTable;
  attachments: AttachmentTable;
  contact_requests: ContactRequestTable;
  contacts: ContactTable;
  blocks: BlockTable;
}
