// @parley/crypto: the Parley protocol (docs/PROTOCOL.md) as pure functions over Uint8Array.
// Await `ready()` once; every other function is synchronous and throws only CryptoError.
export { ready, isReady } from './sodium';
export { CRYPTO_ERROR_CODES, CryptoError, isCryptoError } from './errors';
export type { CryptoErrorCode, CryptoErrorOptions } from './errors';
export {
  ID_BYTES,
  U64_LIMIT,
  canon,
  lp,
  decodeCanon,
  encodeList,
  decodeList,
  u64,
  readU64,
  generateId,
  toHex,
  fromHex,
  toBase64Url,
  fromBase64Url,
  ascii,
  utf8,
} from './encoding';
export {
  generateIdentity,
  identityKeyPair,
  encryptionKeyPair,
  signEncryptionKey,
  verifyEncryptionKeyBinding,
  fingerprint,
  safetyNumber,
  safetyDigits,
  compareSafetyQr,
} from './identity';
export type {
  Identity,
  IdentityKeyPair,
  EncryptionKeyPair,
  EncryptionKeyBinding,
  SafetyNumber,
  PublicIdentity,
} from './identity';
export {
  ROOM_KEY_BYTES,
  generateRoomKey,
  sealRoomKey,
  decodeRoomKeyEnvelope,
  openRoomKeyEnvelope,
  verifyRoomKeyEnvelopeSignature,
} from './room-keys';
export type {
  RoomKeyEnvelope,
  SealRoomKeyInput,
  OpenRoomKeyContext,
  IdentityKeyLookup,
  DistributorEntitlement,
} from './room-keys';
export {
  ROOM_KINDS,
  MEMBERSHIP_OPS,
  MAX_MESSAGE_TIMER_SECONDS,
  messageTimerOf,
  createGenesis,
  createMembershipEntry,
  decodeMembershipEntry,
  membershipEntryHash,
  verifyMembershipChain,
  verifyMembershipEntrySignature,
  applyMembershipRule,
  mayDistribute,
  isMemberAtEpoch,
} from './membership';
export type {
  RoomKind,
  Role,
  MembershipOp,
  MembershipEntry,
  MembershipState,
  ChainCheckpoint,
  GenesisInput,
  MembershipEntryInput,
} from './membership';
export {
  MESSAGE_VERSION,
  PAYLOAD_KINDS,
  EMPTY_SENDER_STATE,
  encodeHeader,
  decodeHeader,
  deriveMessageKey,
  bucket,
  encodePayload,
  decodePayload,
  encryptMessage,
  decodeMessageEnvelope,
  openMessage,
  messageHash,
  classifyMessage,
} from './message';
export type {
  PayloadKind,
  MessageStatus,
  MessageHeader,
  MessagePayload,
  MessagePayloadInput,
  EncryptMessageInput,
  SealedMessage,
  MessageEnvelope,
  OpenMessageContext,
  OpenedMessage,
  SenderState,
} from './message';
export {
  BACKUP_VERSION,
  BACKUP_PARAMS,
  BACKUP_FLOOR,
  BACKUP_CEILING,
  sealBackup,
  openBackup,
  checkBackupBlob,
  deriveBackupKey,
  BACKUP_SALT_BYTES,
  sealBackupWithKey,
  openBackupWithKey,
  decodeBackupBlob,
  estimatePassphraseStrength,
} from './backup';
export type {
  KdfParams,
  BackupSecrets,
  BackupBlob,
  SealBackupInput,
  PassphraseStrength,
} from './backup';
export {
  ATTACHMENT_CHUNK_BYTES,
  attachmentBlobBytes,
  largestAttachment,
  encryptAttachment,
  decryptAttachment,
  encodeAttachmentDescriptor,
  decodeAttachmentDescriptor,
} from './attachment';
export type { AttachmentDescriptor, EncryptedAttachment } from './attachment';
export {
  DEVICE_KEY_BYTES,
  DEVICE_SEAL_VERSION,
  generateDeviceKey,
  sealForDevice,
  openForDevice,
} from './device-seal';
export type { DeviceSealInput } from './device-seal';
