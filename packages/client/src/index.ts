// @parley/client: the headless Parley client. Runs in browsers and in Node; every protocol flow
// lives here so that the web app, the CLI, tests and bots share one implementation.
// Node-only parts (the file key store, the `ws` transport) are in `@parley/client/node`.
export { ClientError, CLIENT_ERROR_CODES, isClientError } from './errors';
export type { ClientErrorCode, OwnErrorCode } from './errors';
export { ClientEventEmitter } from './events';
export type { ProtocolViolation } from './boundary';
export type {
  ClientEvents,
  ClientEventName,
  ClientEventHandler,
  ConnectionState,
  MembershipChange,
  PresenceStatus,
  ReceivedMessage,
  VerificationFailure,
  VerificationFailureCode,
} from './events';
export { DEFAULT_TUNING, silentLogger, systemClock } from './options';
export type {
  ClientOptions,
  Clock,
  DeriveBackupKey,
  FetchLike,
  Logger,
  Transport,
  Tuning,
  WebSocketConstructor,
  WebSocketLike,
} from './options';
export type { KeyStore, KeyStoreChange, StoredValue } from './key-store/key-store';
export { MemoryKeyStore } from './key-store/memory';
export { IndexedDbKeyStore } from './key-store/indexeddb';
export { TrustStore } from './trust';
export type { Contact, ObserveResult, ObserveStatus, PinnedKeys, PublishedKeys } from './trust';
export { RoomState, REMEMBERED_COUNTERS, MAX_HELD_MESSAGES } from './room-state';
export { disappearsAt, hasDisappeared } from './disappearing';
export { MESSAGE_TIMER_CHOICES, describeTimer } from './membership-words';
export type { HeldMessage, OpenResult, RoomInfo } from './room-state';
export { Outbox } from './outbox';
export { MessageActions, MAX_REACTION_LENGTH, MAX_WAITING_ACTIONS } from './message-actions';
export type { MessageState } from './message-actions';
export type { OutboxEntry, RetryPolicy } from './outbox';
export { Client, createClient, mailToken, MIN_PASSPHRASE_SCORE } from './client';
export type {
  AccountRules,
  AttachmentDescriptor,
  BlockedUser,
  ChannelListing,
  ContactChange,
  ContactListing,
  ContactRequest,
  ContactsView,
  DirectFrom,
  Credentials,
  EmailStatus,
  SignedInSession,
  Me,
  MemberReceipts,
  MembershipLine,
  OwnProfile,
  PersonListing,
  PendingJoin,
  OutgoingFile,
  UploadProgress,
  Profile,
  RoomLifetime,
  RoomView,
  SearchHit,
  SnippetPart,
} from './client';
export { MAX_QUERY_LENGTH } from './search/index';
export { Calls } from './calls';
export type { CallDescription, CallEndReason, CallPhase, CallState } from './calls';
export {
  CALL_SIGNAL_VERSION,
  CallSignalError,
  RING_TIMEOUT_MS,
  callHistory,
  checkSdpFingerprint,
  describeCall,
  encodeCallSignal,
  formatDuration,
  parseCallSignal,
  sdpFingerprints,
} from './call-signal';
export type {
  CallMedia,
  CallRecord,
  CallSignal,
  DtlsFingerprint,
  IceCandidate,
} from './call-signal';
