// The Parley client: accounts and keys, directory and trust, rooms, messages, and the connection,
// over the server's REST routes (api.ts) and WebSocket (connection.ts), with every check of
// PROTOCOL.md done here and every verified thing kept in the key store.
import {
  CryptoError,
  createGenesis,
  decodeMembershipEntry,
  decodeMessageEnvelope,
  decodeRoomKeyEnvelope,
  encryptMessage,
  encryptionKeyPair,
  fingerprint,
  fromBase64Url,
  fromHex,
  generateId,
  generateIdentity,
  generateRoomKey,
  identityKeyPair,
  deriveBackupKey,
  ready,
  sealRoomKey,
  signEncryptionKey,
  toBase64Url,
  toHex,
  type AttachmentDescriptor,
  type EncryptionKeyPair,
  type IdentityKeyPair,
  type MessagePayloadInput,
  type PassphraseStrength,
  type Role,
  type RoomKind,
  type SafetyNumber,
} from '@parley/crypto';
import type {
  AccountRules,
  ChainPage,
  HistoryPage,
  Me as MeProfile,
  MemberReceipts,
  PublicProfile,
  Room,
  RoomKeyList,
  PendingJoinItem,
  PendingJoinList,
  RoomList,
} from '@parley/wire';
import { normalizePassword } from '@parley/wire';
import { ServerApi } from './api';
import { AckBook } from './acks';
import type { ProtocolViolation } from './boundary';
import { Connection, type ServerFrame } from './connection';
import { ClientError, fromCryptoError, isClientError } from './errors';
import {
  ClientEventEmitter,
  type ClientEventHandler,
  type ClientEventName,
  type ClientEvents,
  type PresenceStatus,
  type ReceivedMessage,
} from './events';
import type { KeyStore, StoredValue } from './key-store/key-store';
import {
  DEFAULT_TUNING,
  resolveTransport,
  silentLogger,
  systemClock,
  type ClientOptions,
  type Clock,
  type Logger,
  type Tuning,
} from './options';
import { Outbox } from './outbox';
import { Attachments, type OutgoingFile, type UploadProgress } from './attachments';
import { Backup, checkPassphrase, parseBackupExtra } from './backup';
import { People } from './people';
import { Receipts } from './receipts';
import { Session, type AuthAnswer } from './session';
import { MessageActions } from './message-actions';
import { membershipLines, type MembershipLine } from './membership-log';
import { RoomState, type RoomInfo, type RoomSummary } from './room-state';
import { TrustStore, type Contact } from './trust';

export { MIN_PASSPHRASE_SCORE } from './backup';

export interface Me {
  userId: string;
  username: string;
  identityKey: Uint8Array;
  encryptionKey: Uint8Array;
  /** BLAKE2b fingerprint of the identity key (§3.3), hex. */
  fingerprint: string;
}

export interface Credentials {
  username: string;
  password: string;
}

export interface RoomView {
  roomId: string;
  kind: RoomKind | undefined;
  info: RoomInfo;
  epoch: number;
  /** From the verified chain only. */
  members: ReadonlyMap<string, Role>;
  /** Whether this device holds the key of the current epoch. */
  canSend: boolean;
  lastSeq: number;
  /**
   * Messages after this account's read marker, as GET /api/rooms last said and live traffic has
   * moved since (undefined until the server was asked: `refreshRooms()`, `syncRooms()`).
   */
  unread: number | undefined;
  /** ISO time of the room's newest message or membership change (same source as `unread`). */
  lastActivity: string | undefined;
  /** Whether the server keeps none of the room's messages (undefined: not known yet). */
  ephemeral: boolean | undefined;
  /** ISO time at which the server deletes the room, null for never (undefined: not known yet). */
  expiresAt: string | null | undefined;
}

/** Options of a new channel or group (PROTOCOL's server-side retention, not encryption). */
export interface RoomLifetime {
  /** The server deletes the room, its messages and attachments this many days after creation. */
  expiresInDays?: 7;
  /** The server relays messages to connected members and stores none (no history, no replay). */
  ephemeral?: boolean;
}

export type { OutgoingFile, UploadProgress } from './attachments';
export type { MembershipLine } from './membership-log';

/** A join request of this account that no member has answered yet. */
export type PendingJoin = PendingJoinItem;

/** The public profile of a person (display name, status, whether an avatar is set). */
export type Profile = PublicProfile;
/** This account's own profile. */
export type OwnProfile = MeProfile;
export type { AccountRules, AttachmentDescriptor, MemberReceipts };

export interface ChannelListing {
  roomId: string;
  name: string;
  topic: string;
  tags: string[];
}

/** A person as the directory's search lists them (public profile). */
export type PersonListing = PublicProfile;

/** Creates a client and loads what its key store holds (account, contacts, rooms, outbox). */
export async function createClient(options: ClientOptions): Promise<Client> {
  return Client.create(options);
}

interface AccountRecord {
  userId: string;
  username: string;
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  keyVersion: number;
}

interface Secrets {
  record: AccountRecord;
  identity: IdentityKeyPair;
  encryption: EncryptionKeyPair;
}

const ACCOUNT_KEY = 'account';
const ROOM_PREFIX = 'room:';
const PAGE = 100;
/** Pages per catch-up (and chain pages per sync): what is beyond waits for the next one. */
const CATCH_UP_PAGES = 20;
const CHAIN_PAGES = 1000;

export class Client {
  private readonly events: ClientEventEmitter;
  private readonly api: ServerApi;
  private readonly connection: Connection;
  private readonly rooms = new Map<string, RoomState>();
  /** Rooms named by a key frame whose chain is being verified (not listed until it shows us). */
  private readonly adopting = new Map<string, RoomState>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly acks = new AckBook();
  private readonly receiptBook: Receipts;
  private readonly people: People;
  private secrets: Secrets | undefined;
  private readonly session: Session;
  private retryTimer: unknown;
  private closed = false;
  private protocolErrors = 0;
  private readonly backup: Backup;
  private readonly attachments: Attachments;

  private constructor(
    private readonly store: KeyStore,
    private readonly trust: TrustStore,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly tuning: Tuning,
    options: ClientOptions,
  ) {
    this.events = new ClientEventEmitter(logger);
    const transport = resolveTransport(options);
    this.session = new Session(store, clock, tuning, () => this.api);
    this.api = new ServerApi(
      transport,
      this.session,
      clock,
      logger,
      tuning.requestTimeoutMs,
      (violation) => this.onProtocolError(violation),
    );
    this.attachments = new Attachments(this.api);
    this.backup = new Backup({
      api: this.api,
      trust,
      deriveBackupKey:
        options.deriveBackupKey ??
        ((passphrase, salt, params) => Promise.resolve(deriveBackupKey(passphrase, salt, params))),
    });
    this.people = new People({
      api: this.api,
      trust,
      events: this.events,
      logger,
      me: () =>
        this.secrets && {
          userId: this.secrets.record.userId,
          identityKey: this.secrets.identity.publicKey,
        },
    });
    this.receiptBook = new Receipts({
      api: this.api,
      send: (frame) => this.connection.send(frame),
      rooms: this.rooms,
      myId: () => this.myId,
      logger,
    });
    this.connection = new Connection(
      this.api.socketUrl,
      transport.WebSocket,
      {
        onReady: () => this.onReady(),
        onFrame: (frame) => this.onFrame(frame),
        onProtocolError: (violation) => this.onProtocolError(violation),
        onState: (state, attempt) => this.events.emit('connection', { state, attempt }),
        accessToken: () => this.session.freshAccessToken(),
        onAuthRejected: async () => {
          await this.session.refresh();
        },
        onSessionEnded: (reason) => {
          // Signed out by the server: the saved tokens are dead; the keys stay for the next log-in.
          void this.session
            .clear()
            .catch((error: unknown) =>
              this.events.emit('error', { operation: 'signed-out', error }),
            )
            .then(() => this.events.emit('signed-out', { reason }));
        },
      },
      clock,
      logger,
      tuning,
    );
  }

  static async create(options: ClientOptions): Promise<Client> {
    await ready();
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const tuning = { ...DEFAULT_TUNING, ...options.tuning };
    const store = options.keyStore;
    const trust = await TrustStore.load(store, () => clock.now());
    const outbox = await Outbox.load(store, {
      firstRetryMs: tuning.ackTimeoutMs,
      maxRetryMs: tuning.maxRetryMs,
    });
    const client = new Client(store, trust, outbox, clock, logger, tuning, options);
    await client.load();
    return client;
  }

  // ===== events =====

  /** How many frames and answers failed their schema and were dropped since this client started. */
  get protocolErrorCount(): number {
    return this.protocolErrors;
  }

  on<K extends ClientEventName>(type: K, handler: ClientEventHandler<K>): () => void {
    return this.events.on(type, handler);
  }

  /** The next event of `type` for which `accept` holds. */
  next<K extends ClientEventName>(
    type: K,
    accept?: (event: ClientEvents[K]) => boolean,
  ): Promise<ClientEvents[K]> {
    return this.events.next(type, accept);
  }

  // ===== account =====

  /** This device's account, or undefined before sign-up, restore or log-in with stored keys. */
  get me(): Me | undefined {
    const secrets = this.secrets;
    if (secrets === undefined) return undefined;
    return {
      userId: secrets.record.userId,
      username: secrets.record.username,
      identityKey: secrets.identity.publicKey,
      encryptionKey: secrets.encryption.publicKey,
      fingerprint: toHex(fingerprint(fromHex(secrets.record.userId), secrets.identity.publicKey)),
    };
  }

  get isLoggedIn(): boolean {
    return this.session.isOpen;
  }

  /** zxcvbn's estimate for a backup passphrase; `acceptable` when it meets MIN_PASSPHRASE_SCORE. */
  checkPassphrase(
    passphrase: string,
    userInputs: string[] = [],
  ): PassphraseStrength & { acceptable: boolean } {
    return checkPassphrase(passphrase, userInputs);
  }

  /**
   * Registers, generates the identity and encryption keys on this device, publishes the public
   * ones, and (with `passphrase`) stores the encrypted backup. The passphrase is checked first, so a
   * weak one fails before anything is registered.
   */
  async signUp(input: Credentials & { passphrase?: string }): Promise<Me> {
    const operation = 'signUp';
    if (this.secrets !== undefined) {
      throw new ClientError(
        'ACCOUNT_MISMATCH',
        operation,
        'this key store already holds an account',
      );
    }
    if (input.passphrase !== undefined)
      this.backup.assertPassphrase(input.passphrase, input, operation);
    const answer = await this.api.request<AuthAnswer>('POST', '/api/auth/register', {
      auth: false,
      body: { username: input.username, password: normalizePassword(input.password) },
    });
    await this.session.save(answer);
    const seeds = generateIdentity();
    const record: AccountRecord = {
      userId: answer.user.id,
      username: answer.user.username,
      identitySeed: seeds.identitySeed,
      encryptionSeed: seeds.encryptionSeed,
      keyVersion: 1,
    };
    await this.saveAccount(record);
    await this.publishKeys();
    if (input.passphrase !== undefined)
      await this.backup.store(input.passphrase, this.requireSecrets(operation).record);
    return this.me!;
  }

  /**
   * Logs in. On a device that already holds this account's keys that is all; on a new device the
   * session is open but the keys must come from `restore` (or use `restore` directly).
   */
  async logIn(input: Credentials): Promise<void> {
    const answer = await this.api.request<AuthAnswer>('POST', '/api/auth/login', {
      auth: false,
      body: { username: input.username, password: normalizePassword(input.password) },
    });
    if (this.secrets !== undefined && this.secrets.record.userId !== answer.user.id) {
      throw new ClientError(
        'ACCOUNT_MISMATCH',
        'logIn',
        'this key store holds another account; use a key store of its own',
      );
    }
    await this.session.save(answer);
  }

  /**
   * A new device: logs in, fetches the backup, opens it with the passphrase (a wrong one is
   * BACKUP_DECRYPT_FAILED and changes nothing on this device), then reads every room's history.
   */
  async restore(input: Credentials & { passphrase: string }): Promise<Me> {
    const operation = 'restore';
    const hadSession = this.session.isOpen;
    await this.logIn(input);
    const userId = this.session.userId!;
    let secrets;
    try {
      const blob = await this.backup.fetch();
      secrets = await this.backup.open(blob, userId, input.passphrase);
    } catch (error) {
      // A failed restore leaves the device as it was: not even a session of its own remains.
      if (!hadSession) await this.logOut();
      throw fromCryptoError(error, operation);
    }
    await this.saveAccount({
      userId,
      username: this.session.username ?? input.username,
      identitySeed: secrets.identitySeed,
      encryptionSeed: secrets.encryptionSeed,
      keyVersion: secrets.keyVersion,
    });
    await this.syncRooms();
    const extra = parseBackupExtra(secrets.extra);
    await this.trust.importVerified(extra.verified);
    return this.me!;
  }

  /** Stores (or replaces) the encrypted backup under a new passphrase. */
  async setUpBackup(passphrase: string, password?: string): Promise<void> {
    this.backup.assertPassphrase(
      passphrase,
      { username: this.requireSecrets('setUpBackup').record.username, password },
      'setUpBackup',
    );
    await this.backup.store(passphrase, this.requireSecrets('setUpBackup').record);
  }

  /** Proves the current passphrase against the stored backup, then re-encrypts under the new one. */
  async changePassphrase(current: string, next: string): Promise<void> {
    const secrets = this.requireSecrets('changePassphrase');
    this.backup.assertPassphrase(next, { username: secrets.record.username }, 'changePassphrase');
    const blob = await this.backup.fetch();
    try {
      await this.backup.open(blob, secrets.record.userId, current);
    } catch (error) {
      throw fromCryptoError(error, 'changePassphrase');
    }
    await this.backup.store(next, secrets.record);
  }

  /**
   * Ends the session on the server and stops the connection. With `forget`, also erases this
   * device's key store (keys, contacts, rooms): only a backup can bring them back.
   */
  async logOut(options: { forget?: boolean } = {}): Promise<void> {
    this.connection.stop();
    const tokens = this.session.current();
    if (tokens !== undefined) {
      await this.api
        .request('POST', '/api/auth/logout', {
          auth: false,
          body: { refreshToken: tokens.refreshToken },
        })
        .catch((error: unknown) => this.logger.warn('logout failed', { error: String(error) }));
    }
    await this.session.clear();
    if (options.forget === true) {
      await this.store.clear();
      this.secrets = undefined;
      this.rooms.clear();
    }
  }

  /**
   * Ends every session of this account (all devices and browsers: their refresh tokens are
   * revoked and their sockets closed), then this one's as `logOut` does.
   */
  async logOutEverywhere(options: { forget?: boolean } = {}): Promise<number> {
    const { sessionsEnded } = await this.api.request<{ sessionsEnded: number }>(
      'POST',
      '/api/auth/logout-all',
    );
    await this.logOut(options);
    return sessionsEnded;
  }

  /** The server's username and password rules (for a sign-up form; needs no session). */
  async accountRules(): Promise<AccountRules> {
    return this.api.request<AccountRules>('GET', '/api/auth/rules', { auth: false });
  }

  // ===== profiles =====

  /** A person's public profile (display name, status message, whether an avatar is set). */
  getProfile(userId: string): Promise<Profile> {
    return this.people.getProfile(userId);
  }

  /** This account's own profile. */
  myProfile(): Promise<OwnProfile> {
    return this.people.myProfile();
  }

  /** Changes the given fields (null clears one; absent ones stay). */
  updateProfile(changes: {
    displayName?: string | null;
    statusMessage?: string | null;
  }): Promise<OwnProfile> {
    return this.people.updateProfile(changes);
  }

  /**
   * Sets the avatar: PNG, JPEG, WebP or GIF bytes (the server checks the bytes against
   * `mediaType` and refuses an image over its limit with AVATAR_TOO_LARGE).
   */
  setAvatar(bytes: Uint8Array, mediaType: string): Promise<void> {
    return this.people.setAvatar(bytes, mediaType);
  }

  removeAvatar(): Promise<void> {
    return this.people.removeAvatar();
  }

  /**
   * Where a person's avatar is (needs no session, so an `<img src>` can show it; 404 when the
   * profile has none: check `hasAvatar` first).
   */
  avatarUrl(userId: string): string {
    return this.people.avatarUrl(userId);
  }

  /** A person's avatar bytes and type, or undefined when none is set. */
  avatar(userId: string): Promise<{ data: Uint8Array; mediaType: string } | undefined> {
    return this.people.avatar(userId);
  }

  // ===== directory and trust =====

  /** Looks a user up by name and pins their keys (first use) or checks them against the pin. */
  lookUp(username: string): Promise<Contact> {
    return this.people.lookUp(username);
  }

  lookUpById(userId: string): Promise<Contact> {
    return this.people.lookUpById(userId);
  }

  searchPeople(prefix: string): Promise<PersonListing[]> {
    return this.people.searchPeople(prefix);
  }

  contacts(): Contact[] {
    return this.trust.list();
  }

  contact(userId: string): Contact | undefined {
    return this.trust.get(userId);
  }

  safetyNumber(userId: string): SafetyNumber {
    return this.people.safetyNumber(userId);
  }

  /** Marks a contact verified: after comparing the digits, or by a scanned QR payload. */
  verifyContact(userId: string, scannedQr?: string): Promise<Contact> {
    return this.people.verifyContact(userId, scannedQr);
  }

  /** The user accepts a contact's changed keys; rooms they are in get the current key again. */
  async acceptKeyChange(userId: string): Promise<Contact> {
    const contact = await this.trust.acceptChange(userId);
    for (const room of this.rooms.values()) {
      const current = room.currentKey();
      if (current === undefined || !room.isMember(userId) || !room.isMember(this.myId)) continue;
      await this.serial(room.roomId, () => this.sealCurrentKeyTo(room, [userId]));
    }
    return contact;
  }

  // ===== rooms =====

  /** Rooms this device knows, each with its verified members (none past its expiry time). */
  listRooms(): RoomView[] {
    const now = this.clock.now();
    return [...this.rooms.values()]
      .filter((room) => !hasExpired(room, now))
      .map((room) => this.view(room));
  }

  /**
   * Asks the server for every room's unread count and last activity (GET /api/rooms) and returns
   * the rooms, most recently active first. Rooms this device does not know yet are left to
   * `syncRooms()`; the counts are the server's word, shown, never trusted for anything else.
   */
  async refreshRooms(): Promise<RoomView[]> {
    const answer = await this.api.request<RoomList>('GET', '/api/rooms');
    for (const summary of answer.rooms) {
      const room = this.rooms.get(summary.id);
      if (room !== undefined) describe(room, summary);
    }
    await this.forgetDeletedRooms(answer.rooms);
    return this.listRooms().sort((a, b) =>
      (b.lastActivity ?? '').localeCompare(a.lastActivity ?? ''),
    );
  }

  room(roomId: string): RoomView {
    return this.view(this.requireRoom(roomId, 'room'));
  }

  /** The room's membership history as lines for the chat, oldest first (from the verified chain). */
  membershipLog(roomId: string): MembershipLine[] {
    const room = this.requireRoom(roomId, 'membershipLog');
    return membershipLines(roomId, room.chain, room.chainTimes);
  }

  async createChannel(
    input: { name: string; topic: string; tags?: string[] } & RoomLifetime,
  ): Promise<RoomView> {
    const { expiresInDays, ephemeral, ...info } = input;
    return this.createRoom('channel', info, undefined, { expiresInDays, ephemeral });
  }

  /** A private group; `members` (usernames) are added one after the other by this admin. */
  async createGroup(input: { name: string; members?: string[] } & RoomLifetime): Promise<RoomView> {
    const members = await Promise.all((input.members ?? []).map((name) => this.lookUp(name)));
    const view = await this.createRoom('group', { name: input.name }, undefined, {
      expiresInDays: input.expiresInDays,
      ephemeral: input.ephemeral,
    });
    for (const member of members) await this.addMember(view.roomId, member.userId);
    return this.room(view.roomId);
  }

  /** A direct conversation with one person; the existing one when there is one already. */
  async createDirect(username: string): Promise<RoomView> {
    const peer = await this.lookUp(username);
    return this.createRoom('direct', {}, peer.userId);
  }

  async browseChannels(
    query: { q?: string; tag?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ channels: ChannelListing[]; cursor?: string }> {
    const answer = await this.api.request<{ channels: RoomAnswer[]; cursor?: string }>(
      'GET',
      '/api/channels',
      { query },
    );
    return {
      channels: answer.channels.map((room) => ({
        roomId: room.id,
        name: room.name ?? '',
        topic: room.topic ?? '',
        tags: room.tags ?? [],
      })),
      ...(answer.cursor === undefined ? {} : { cursor: answer.cursor }),
    };
  }

  /**
   * Asks to join a channel. The request waits on the server until a member's client lets this
   * account in (any member's, as soon as one is online); then `joined` fires for the room.
   */
  async requestJoin(roomId: string): Promise<void> {
    this.requireSecrets('requestJoin');
    await this.api.request('POST', `/api/rooms/${roomId}/join-requests`, { body: {} });
  }

  /** Withdraws a join request (nothing happens when there is none). */
  async cancelJoin(roomId: string): Promise<void> {
    await this.api.request('DELETE', `/api/rooms/${roomId}/join-requests`);
  }

  /** This account's join requests that no member has answered yet, oldest first. */
  async pendingJoins(): Promise<PendingJoin[]> {
    const answer = await this.api.request<PendingJoinList>('GET', '/api/join-requests');
    return answer.requests;
  }

  /**
   * Asks to join a channel and waits until an online member's client has admitted this account
   * and sealed the room key to it (TIMEOUT after `timeoutMs`; the request stays pending then).
   */
  async join(roomId: string, options: { timeoutMs?: number } = {}): Promise<RoomView> {
    const operation = 'join';
    this.requireSecrets(operation);
    const deadline = this.clock.now() + (options.timeoutMs ?? 30_000);
    await this.requestJoin(roomId);
    const room = this.rooms.get(roomId) ?? new RoomState(roomId);
    this.rooms.set(roomId, room);
    for (;;) {
      const keyArrived = this.events.next('room-key', (event) => event.roomId === roomId);
      await this.serial(roomId, async () => {
        await this.syncChain(room).catch((error: unknown) => {
          if (!isClientError(error, 'FORBIDDEN') && !isClientError(error, 'NOT_FOUND')) throw error;
        });
        if (room.isMember(this.myId)) await this.fetchKeys(room);
      });
      if (room.isMember(this.myId) && room.currentKey() !== undefined) break;
      if (this.clock.now() >= deadline) {
        throw new ClientError('TIMEOUT', operation, 'no member admitted this account in time');
      }
      await Promise.race([keyArrived, this.sleep(500)]);
    }
    const described = await this.api.request<Room>('GET', `/api/rooms/${roomId}`);
    describe(room, described);
    await this.saveRoom(room);
    this.subscribe(room);
    this.events.emit('joined', { roomId });
    return this.view(room);
  }

  async addMember(roomId: string, userId: string): Promise<RoomView> {
    await this.changeMembership(roomId, 'add', userId);
    return this.room(roomId);
  }

  /** Removes a member and starts a new epoch whose key only the remaining members receive. */
  async removeMember(roomId: string, userId: string): Promise<RoomView> {
    await this.changeMembership(roomId, 'remove', userId);
    return this.room(roomId);
  }

  async promote(roomId: string, userId: string): Promise<RoomView> {
    await this.changeMembership(roomId, 'promote', userId);
    return this.room(roomId);
  }

  async demote(roomId: string, userId: string): Promise<RoomView> {
    await this.changeMembership(roomId, 'demote', userId);
    return this.room(roomId);
  }

  async leave(roomId: string): Promise<void> {
    await this.changeMembership(roomId, 'leave', this.myId);
    this.connection.send({ type: 'unsubscribe', room: roomId });
  }

  // ===== messages =====

  /**
   * Encrypts and signs a message and puts it in the outbox (persisted), which sends it as soon as
   * the connection is up and until the server acknowledges it. Returns its id; `acked(id)` waits.
   */
  async send(
    roomId: string,
    message: string | MessagePayloadInput,
  ): Promise<{ messageId: string }> {
    const operation = 'send';
    const secrets = this.requireSecrets(operation);
    const room = this.requireRoom(roomId, operation);
    return this.serial(roomId, async () => {
      if (!room.isMember(this.myId)) {
        throw new ClientError(
          'NOT_A_MEMBER',
          operation,
          'this account is not a member of the room',
        );
      }
      if (room.currentKey() === undefined) await this.ensureEpochKey(room);
      const current = room.currentKey();
      if (current === undefined) {
        throw new ClientError(
          'EPOCH_KEY_MISSING',
          operation,
          `the key of epoch ${room.epoch} has not reached this device yet`,
        );
      }
      const { counter, prevHash } = room.nextOutgoing(this.myId);
      const payload =
        typeof message === 'string' ? { kind: 'text' as const, text: message } : message;
      let sealed;
      try {
        sealed = encryptMessage({
          roomId: room.roomIdBytes,
          epoch: current.epoch,
          roomKey: current.key,
          senderId: fromHex(this.myId),
          sender: secrets.identity,
          counter,
          prevHash,
          clientTime: this.clock.now(),
          payload,
        });
      } catch (error) {
        throw fromCryptoError(error, operation);
      }
      const messageId = toHex(sealed.header.messageId);
      room.recordOutgoing(counter, sealed.messageHash);
      const { change, commit } = this.outbox.addition({
        roomId,
        messageId,
        counter,
        envelope: sealed.envelope,
        createdAt: this.clock.now(),
      });
      // The advanced counter and the queued message land together or not at all.
      await this.store.batch([[ROOM_PREFIX + roomId, room.toRecord()], change]);
      commit();
      this.flushOutbox();
      return { messageId };
    });
  }

  /** Replies to a message (the reply names it; readers show it quoted). */
  reply(roomId: string, messageId: string, text: string): Promise<{ messageId: string }> {
    return this.send(roomId, { kind: 'text', text, replyTo: fromHex(messageId) });
  }

  /** Replaces the text of one of this account's messages (others refuse anyone else's edit). */
  edit(roomId: string, messageId: string, text: string): Promise<{ messageId: string }> {
    return this.send(roomId, { kind: 'edit', text, target: fromHex(messageId) });
  }

  /** This account's reaction to a message; an empty one takes it back. */
  react(roomId: string, messageId: string, emoji: string): Promise<{ messageId: string }> {
    return this.send(roomId, { kind: 'reaction', text: emoji, target: fromHex(messageId) });
  }

  /** Deletes a message for everyone: one's own, or anyone's in a room this account administers. */
  deleteMessage(roomId: string, messageId: string): Promise<{ messageId: string }> {
    return this.send(roomId, { kind: 'delete', target: fromHex(messageId) });
  }

  /**
   * A tracker of what the room's edits, deletes and reactions did (see message-actions.ts), with
   * the admins of the room's verified chain as its moderators. Feed it the room's messages.
   */
  messageActions(roomId: string): MessageActions {
    return new MessageActions((userId) => {
      const room = this.rooms.get(roomId);
      return room !== undefined && room.kind !== 'direct' && room.roleOf(userId) === 'admin';
    });
  }

  /**
   * Sends files (§8): each is encrypted on this device under a fresh key, uploaded as an opaque
   * blob, and described (blob id, key, hash, size, type, name) inside the encrypted message, so the
   * server never learns its name, type or contents. Receivers call `downloadAttachment`.
   */
  async sendFiles(
    roomId: string,
    files: OutgoingFile[],
    text = '',
    options: { onProgress?: (progress: UploadProgress) => void } = {},
  ): Promise<{ messageId: string; attachments: AttachmentDescriptor[] }> {
    const operation = 'sendFiles';
    this.requireRoom(roomId, operation);
    const attachments = await this.attachments.upload(roomId, files, options.onProgress);
    const { messageId } = await this.send(roomId, { kind: 'text', text, attachments });
    return { messageId, attachments };
  }

  /**
   * The largest file `sendFiles` can send, in bytes: the server's largest blob (GET
   * /api/attachments/limits) less what encryption adds, so a too-large file is refused up front.
   */
  attachmentLimit(): Promise<number> {
    return this.attachments.limit();
  }

  /**
   * Downloads an attachment of a received message and decrypts it, after checking the blob is the
   * one the sender described (ATTACHMENT_HASH_MISMATCH otherwise: the server swapped or altered it).
   */
  downloadAttachment(descriptor: AttachmentDescriptor): Promise<Uint8Array> {
    return this.attachments.download(descriptor);
  }

  /**
   * Resolves with the server's sequence number once the message is acknowledged, at once for one
   * acknowledged already (the last 1,024 are remembered).
   */
  acked(messageId: string): Promise<number> {
    return this.acks.wait(messageId);
  }

  /** Messages still waiting for the server's acknowledgement. */
  pendingMessages(roomId?: string): { roomId: string; messageId: string; attempts: number }[] {
    return this.outbox
      .pending(roomId)
      .map(({ roomId: room, messageId, attempts }) => ({ roomId: room, messageId, attempts }));
  }

  /**
   * Older messages, newest page first (`before` a sequence number; the newest when absent),
   * verified and decrypted. Failures among them are emitted as `verification-failed` and left out.
   */
  async history(
    roomId: string,
    options: { before?: number; limit?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const room = this.requireRoom(roomId, 'history');
    const answer = await this.api.request<MessagesAnswer>('GET', `/api/rooms/${roomId}/messages`, {
      query: { before: options.before, limit: options.limit ?? 50 },
    });
    return this.serial(roomId, async () => {
      const out: ReceivedMessage[] = [];
      const items = [...answer.messages].sort((a, b) => a.seq - b.seq);
      for (const item of items) {
        const message = await this.receive(room, item, 'history');
        if (message !== undefined) out.push(message);
      }
      await this.saveRoom(room);
      return out;
    });
  }

  /**
   * Reads, in order, everything after the last sequence number this device processed, emitting a
   * `message` event for each (as a live delivery would). Returns what it read.
   */
  async catchUp(roomId: string): Promise<ReceivedMessage[]> {
    const room = this.requireRoom(roomId, 'catchUp');
    return this.serial(roomId, () => this.catchUpNow(room));
  }

  /** Moves this account's read marker (others see `receipt` events; `unread` counts from it). */
  async markRead(roomId: string, seq: number): Promise<void> {
    return this.receiptBook.markRead(roomId, seq);
  }

  /**
   * Tells the room's members this device has received everything up to `seq`. The client does it
   * by itself for every message it receives live or catches up on, so a UI rarely needs to.
   */
  async markDelivered(roomId: string, seq: number): Promise<void> {
    return this.receiptBook.markDelivered(roomId, seq);
  }

  /**
   * Every member's delivered and read markers (a sender's UI shows "delivered" and "seen" from
   * them after a reload; live changes arrive as `receipt` events).
   */
  async receipts(roomId: string): Promise<MemberReceipts[]> {
    return this.receiptBook.receipts(roomId);
  }

  setTyping(roomId: string, active: boolean): void {
    this.receiptBook.setTyping(roomId, active);
  }

  setPresence(status: Exclude<PresenceStatus, 'offline'>): void {
    this.receiptBook.setPresence(status);
  }

  // ===== connection =====

  /** Opens the WebSocket (and keeps it open, reconnecting and resuming after any drop). */
  connect(): void {
    this.requireSecrets('connect');
    if (!this.session.isOpen) throw new ClientError('NOT_SIGNED_IN', 'connect', 'log in first');
    this.connection.start();
  }

  /** Resolves once the WebSocket is authenticated. */
  async connected(): Promise<void> {
    if (this.connection.isReady) return;
    await this.events.next('connection', (event) => event.state === 'open');
  }

  disconnect(): void {
    this.connection.stop();
  }

  /** Closes the connection and the key store after pending writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection.stop();
    this.clock.clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.queues.values()]);
    await this.store.close();
  }

  /**
   * Brings every room this account belongs to up to date: new rooms (added while away), chains,
   * keys and messages. `restore` calls it; a connected client does the same on every (re)connect.
   */
  async syncRooms(): Promise<void> {
    const answer = await this.api.request<RoomList>('GET', '/api/rooms');
    await this.forgetDeletedRooms(answer.rooms);
    for (const summary of answer.rooms) {
      const room = this.rooms.get(summary.id) ?? new RoomState(summary.id);
      describe(room, summary);
      await this.serial(room.roomId, async () => {
        await this.syncChain(room);
        // Listed by the server, kept once the verified chain says this account is in it.
        if (!this.rooms.has(room.roomId)) {
          if (!room.isMember(this.myId)) return;
          this.rooms.set(room.roomId, room);
          this.events.emit('joined', { roomId: room.roomId });
        }
        await this.ensureEpochKey(room);
        await this.catchUpNow(room);
      });
    }
  }

  // ===== internals: account =====

  private get myId(): string {
    return this.requireSecrets('client').record.userId;
  }

  private async load(): Promise<void> {
    const account = await this.store.get(ACCOUNT_KEY);
    if (account !== undefined) this.secrets = secretsOf(decodeAccount(account));
    await this.session.load();
    const identityKeyOf = this.people.identityKeyOf;
    for (const key of await this.store.keys(ROOM_PREFIX)) {
      const record = await this.store.get(key);
      if (record === undefined) continue;
      const room = RoomState.fromRecord(record, identityKeyOf);
      this.rooms.set(room.roomId, room);
    }
  }

  private async saveAccount(record: AccountRecord): Promise<void> {
    await this.store.set(ACCOUNT_KEY, encodeAccount(record));
    this.secrets = secretsOf(record);
  }

  private async publishKeys(): Promise<void> {
    const secrets = this.requireSecrets('publishKeys');
    const signature = signEncryptionKey(secrets.identity, {
      userId: fromHex(secrets.record.userId),
      encryptionPublicKey: secrets.encryption.publicKey,
      version: secrets.record.keyVersion,
    });
    await this.api.request('PUT', '/api/me/keys', {
      body: {
        identityKey: toBase64Url(secrets.identity.publicKey),
        encryptionKey: toBase64Url(secrets.encryption.publicKey),
        version: secrets.record.keyVersion,
        signature: toBase64Url(signature),
      },
    });
  }

  private requireSecrets(operation: string): Secrets {
    if (this.secrets === undefined) {
      throw new ClientError('NOT_SIGNED_IN', operation, 'no account keys on this device');
    }
    return this.secrets;
  }

  // ===== internals: rooms =====

  private view(room: RoomState): RoomView {
    return {
      roomId: room.roomId,
      kind: room.kind,
      info: { ...room.info },
      epoch: room.epoch,
      members: new Map(room.members()),
      canSend:
        room.currentKey() !== undefined && this.secrets !== undefined && room.isMember(this.myId),
      lastSeq: room.lastSeq,
      unread: room.summary?.unread,
      lastActivity: room.summary?.lastActivity,
      ephemeral: room.summary?.ephemeral,
      expiresAt: room.summary?.expiresAt,
    };
  }

  /** A live message moved the room: newer activity, and one more unread unless it is ours. */
  private noteActivity(room: RoomState, seq: number, own: boolean, sentAt: string | undefined) {
    const summary = room.summary;
    if (summary === undefined) return;
    if (sentAt !== undefined && sentAt > summary.lastActivity) summary.lastActivity = sentAt;
    if (!own && seq > summary.readSeq) summary.unread += 1;
  }

  private requireRoom(roomId: string, operation: string): RoomState {
    const room = this.rooms.get(roomId);
    if (room === undefined) {
      throw new ClientError(
        'ROOM_NOT_FOUND',
        operation,
        `this device does not know room ${roomId}`,
      );
    }
    return room;
  }

  private async createRoom(
    kind: RoomKind,
    info: { name?: string; topic?: string; tags?: string[] },
    peerId?: string,
    lifetime: RoomLifetime = {},
  ): Promise<RoomView> {
    const operation = 'createRoom';
    const secrets = this.requireSecrets(operation);
    const roomIdBytes = generateId();
    const genesis = createGenesis({
      roomId: roomIdBytes,
      kind,
      ...(peerId === undefined ? {} : { peerId: fromHex(peerId) }),
      actorId: fromHex(secrets.record.userId),
      actor: secrets.identity,
    });
    const roomId = toHex(roomIdBytes);
    let summary: RoomSummary;
    try {
      const created = await this.api.request<Room>('POST', '/api/rooms', {
        body: {
          genesis: toBase64Url(genesis),
          ...info,
          // Undefined fields are left out of the JSON.
          ...lifetime,
        },
      });
      summary = summaryOf(created);
    } catch (error) {
      // A direct conversation with this peer exists already: use that one.
      if (kind !== 'direct' || !isClientError(error, 'ROOM_EXISTS')) throw error;
      const { rooms } = await this.api.request<RoomList>('GET', '/api/rooms');
      const existing = rooms.find((room) => room.kind === 'direct' && room.peer === peerId);
      if (existing === undefined) throw error;
      await this.syncRooms();
      return this.room(existing.id);
    }
    const room = new RoomState(roomId);
    room.info = info;
    room.summary = summary;
    this.rooms.set(roomId, room);
    await this.serial(roomId, async () => {
      room.applyChain([genesis], this.people.identityKeyOf);
      room.dateUndated(new Date(this.clock.now()).toISOString());
      await this.distributeNewKey(room);
      await this.saveRoom(room);
    });
    this.subscribe(room);
    return this.view(room);
  }

  private async changeMembership(
    roomId: string,
    op: 'add' | 'remove' | 'promote' | 'demote' | 'leave',
    subjectId: string,
  ): Promise<void> {
    const operation = op === 'add' ? 'addMember' : op === 'remove' ? 'removeMember' : op;
    const secrets = this.requireSecrets(operation);
    const room = this.requireRoom(roomId, operation);
    await this.serial(roomId, async () => {
      if (op === 'add') {
        await this.people.ensurePinned([subjectId]);
        // Refuse before the chain changes: a member added with no key sealed to them is no use,
        // and a changed key (KEY_CHANGE_PENDING) gets nothing until the user accepts it.
        this.trust.encryptionKeyFor(subjectId);
      }
      for (let attempt = 0; ; attempt++) {
        await this.syncChain(room);
        const entry = room.nextEntry(secrets.record.userId, secrets.identity, op, subjectId);
        // Check locally first: the chain's rules decide, and a refusal needs no round trip.
        const candidate = [...room.chain, entry];
        try {
          const trial = new RoomState(roomId);
          trial.applyChain(candidate, this.people.identityKeyOf);
        } catch (error) {
          if (error instanceof CryptoError && error.code === 'CHAIN_ACTOR_NOT_ALLOWED') {
            throw new ClientError(
              'NOT_ALLOWED',
              operation,
              `${op} is not allowed to this account here`,
            );
          }
          throw fromCryptoError(error, operation);
        }
        try {
          await this.api.request('POST', `/api/rooms/${roomId}/chain`, {
            body: { entry: toBase64Url(entry) },
          });
        } catch (error) {
          // Someone else appended first: re-read the chain and try again on the new head.
          if (isClientError(error, 'CHAIN_CONFLICT') && attempt < 3) continue;
          throw error;
        }
        room.applyChain(candidate, this.people.identityKeyOf);
        room.dateUndated(new Date(this.clock.now()).toISOString());
        break;
      }
      if (op === 'add') await this.sealCurrentKeyTo(room, [subjectId]);
      if (op === 'remove') await this.distributeNewKey(room);
      await this.saveRoom(room);
    });
  }

  /**
   * Fetches the chain entries after the verified head and verifies the whole chain again (§5.3).
   * A failure is reported as a verification failure and thrown; the old chain stays.
   */
  private async syncChain(room: RoomState): Promise<void> {
    const head = room.head;
    const fresh: Uint8Array[] = [];
    let after = head?.position;
    for (let pages = 0; ; pages++) {
      if (pages === CHAIN_PAGES) {
        throw new ClientError('BAD_RESPONSE', 'syncChain', 'the chain does not end');
      }
      const page = await this.api.request<ChainPage>('GET', `/api/rooms/${room.roomId}/chain`, {
        query: { after },
      });
      const entries = page.entries
        .filter((item) => after === undefined || item.position > after)
        .sort((a, b) => a.position - b.position);
      fresh.push(...entries.map((item) => fromBase64Url(item.entry)));
      for (const item of entries) {
        if (item.appendedAt !== undefined) room.chainTimes.set(item.position, item.appendedAt);
      }
      const last = entries.at(-1)?.position;
      if (last === undefined || last >= page.head) break;
      after = last;
    }
    if (fresh.length === 0 && head !== undefined) return;
    await this.applyChainEntries(room, [...room.chain, ...fresh]);
  }

  private async applyChainEntries(room: RoomState, entries: Uint8Array[]): Promise<void> {
    const wasMember = this.secrets !== undefined && room.isMember(this.myId);
    const epochBefore = room.epoch;
    const known = room.chain.length;
    await this.people.ensurePinned(RoomState.actorsOf(entries));
    try {
      room.applyChain(entries, this.people.identityKeyOf);
    } catch (error) {
      if (error instanceof CryptoError) {
        this.people.fail({
          code: error.code,
          severity: 'critical',
          roomId: room.roomId,
          detail: error.message,
        });
      }
      throw fromCryptoError(error, 'syncChain');
    }
    const isMember = room.isMember(this.myId);
    room.dateUndated(new Date(this.clock.now()).toISOString());
    const changes = membershipLines(room.roomId, room.chain, room.chainTimes, known);
    this.events.emit('membership', {
      roomId: room.roomId,
      epoch: room.epoch,
      members: new Map(room.members()),
      changes,
    });
    if (wasMember && !isMember) {
      const removal = changes.findLast((line) => line.subjectId === this.myId);
      this.events.emit('removed', { roomId: room.roomId, by: removal?.actorId });
    }
    if (isMember && room.epoch !== epochBefore) await this.ensureEpochKey(room);
    await this.saveRoom(room);
  }

  /** Gets the current epoch's key: from the server's envelopes, or by making it if this device should. */
  private async ensureEpochKey(room: RoomState): Promise<void> {
    if (room.epoch < 0 || !room.isMember(this.myId) || room.currentKey() !== undefined) return;
    await this.fetchKeys(room);
    if (room.currentKey() !== undefined) return;
    if (this.rotatorOf(room) === this.myId) await this.distributeNewKey(room);
  }

  /**
   * Who makes a new epoch's key: the admin who removed someone (they do it at once), and after a
   * leave or at genesis one member chosen the same way by every client (the lowest admin id, else
   * the lowest member id), so that two members never hand out two keys for one epoch.
   */
  private rotatorOf(room: RoomState): string | undefined {
    const entries = room.chain.map((entry) => decodeMembershipEntry(entry));
    const starter = [...entries]
      .reverse()
      .find((entry) => entry.op === 'remove' || entry.op === 'leave' || entry.op === 'genesis');
    if (starter !== undefined && starter.op !== 'leave') return toHex(starter.actorId);
    const members = [...room.members()].sort(([a], [b]) => a.localeCompare(b));
    return (members.find(([, role]) => role === 'admin') ?? members[0])?.[0];
  }

  /** A fresh key for the current epoch, sealed to every member (this device included). */
  private async distributeNewKey(room: RoomState): Promise<void> {
    const key = generateRoomKey();
    room.setRoomKey(room.epoch, key);
    await this.sealCurrentKeyTo(room, [...room.members().keys()]);
    this.events.emit('room-key', { roomId: room.roomId, epoch: room.epoch });
  }

  /** Seals the current key to `userIds`, skipping anyone whose changed keys are not accepted. */
  private async sealCurrentKeyTo(room: RoomState, userIds: string[]): Promise<void> {
    const secrets = this.requireSecrets('sealRoomKey');
    const current = room.currentKey();
    if (current === undefined) return;
    await this.people.ensurePinned(userIds);
    const envelopes: string[] = [];
    for (const userId of userIds) {
      let recipientKey: Uint8Array;
      try {
        recipientKey =
          userId === secrets.record.userId
            ? secrets.encryption.publicKey
            : this.trust.encryptionKeyFor(userId);
      } catch (error) {
        if (isClientError(error, 'KEY_CHANGE_PENDING')) {
          this.logger.warn('not sealing a room key to a contact whose keys changed', { userId });
          continue;
        }
        throw error;
      }
      envelopes.push(
        toBase64Url(
          sealRoomKey({
            roomKey: current.key,
            roomId: room.roomIdBytes,
            epoch: current.epoch,
            recipientId: fromHex(userId),
            recipientEncryptionKey: recipientKey,
            distributorId: fromHex(secrets.record.userId),
            distributor: secrets.identity,
          }),
        ),
      );
    }
    if (envelopes.length === 0) return;
    await this.api.request('POST', `/api/rooms/${room.roomId}/keys`, { body: { envelopes } });
  }

  private async fetchKeys(room: RoomState): Promise<void> {
    const answer = await this.api.request<KeysListAnswer>('GET', `/api/rooms/${room.roomId}/keys`);
    let added = false;
    for (const item of answer.envelopes) {
      if (await this.acceptEnvelope(room, item.envelope)) added = true;
    }
    // Messages held for a key are released whichever way it arrives: a frame or this fetch.
    if (added && room.heldCount > 0) await this.releaseHeld(room);
  }

  /**
   * Opens a room-key envelope (§4). An envelope can overtake the membership entry that entitles
   * it (they travel separately), so a refusal on entitlement re-reads the chain once before it is
   * reported.
   */
  private async acceptEnvelope(room: RoomState, envelope: string): Promise<boolean> {
    const secrets = this.requireSecrets('acceptEnvelope');
    const me = { userId: secrets.record.userId, keyPair: secrets.encryption };
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(envelope);
      if (decodeRoomKeyEnvelope(bytes).epoch > room.epoch) await this.syncChain(room);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.people.fail({
        code: 'ENVELOPE_MALFORMED',
        severity: 'critical',
        roomId: room.roomId,
        detail: error.message,
      });
      return false;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const { epoch, added } = room.acceptEnvelope(bytes, me, this.people.identityKeyOf);
        if (added) this.events.emit('room-key', { roomId: room.roomId, epoch });
        return added;
      } catch (error) {
        if (!(error instanceof CryptoError)) throw error;
        if (error.code === 'ENVELOPE_UNAUTHORISED_DISTRIBUTOR' && attempt === 0) {
          await this.syncChain(room);
          continue;
        }
        if (error.code === 'ENVELOPE_BAD_SIGNATURE' && attempt === 0) {
          // The distributor may be someone this device has not pinned yet.
          const distributor = toHex(decodeRoomKeyEnvelope(bytes).distributorId);
          if (this.trust.get(distributor) === undefined) {
            await this.people.ensurePinned([distributor]);
            continue;
          }
        }
        this.people.fail({
          code: error.code,
          severity: 'critical',
          roomId: room.roomId,
          detail: error.message,
        });
        return false;
      }
    }
  }

  /** A room this device learns of from a key sealed to it (it was just added or admitted). */
  private async adoptRoom(roomId: string): Promise<void> {
    if (this.rooms.has(roomId) || this.adopting.has(roomId)) return;
    // A key frame names a room, but only the room's verified chain makes it one of this
    // account's: until then the room waits here, out of the room list (its frames still queue).
    const room = new RoomState(roomId);
    this.adopting.set(roomId, room);
    try {
      await this.serial(roomId, () => this.adoptVerified(room));
    } finally {
      this.adopting.delete(roomId);
    }
  }

  private async adoptVerified(room: RoomState): Promise<void> {
    const roomId = room.roomId;
    // Subscribed (and described) before the chain and the key are read, so the room shows as
    // writable only once it is also heard: an ephemeral room replays nothing. Frames that
    // arrive meanwhile wait in this room's queue until the key is in. The server refuses the
    // subscription of a non-member, and the chain below decides.
    this.subscribe(room);
    const described = await this.api
      .request<Room>('GET', `/api/rooms/${roomId}`)
      .catch((error: unknown) => {
        if (isClientError(error, 'NOT_A_MEMBER') || isClientError(error, 'ROOM_NOT_FOUND')) {
          return undefined;
        }
        throw error;
      });
    if (described !== undefined) describe(room, described);
    await this.syncChain(room);
    if (!room.isMember(this.myId)) {
      this.connection.send({ type: 'unsubscribe', room: roomId });
      await this.store.delete(ROOM_PREFIX + roomId);
      return;
    }
    this.rooms.set(roomId, room);
    await this.fetchKeys(room);
    await this.saveRoom(room);
    this.events.emit('joined', { roomId });
  }

  /**
   * Rooms with a lifetime that the server no longer lists, and says no longer exist, were deleted
   * at their expiry: forgotten here too. (A room the account was removed from is NOT_A_MEMBER.)
   */
  private async forgetDeletedRooms(listed: RoomAnswer[]): Promise<void> {
    const ids = new Set(listed.map((summary) => summary.id));
    for (const room of [...this.rooms.values()]) {
      if (ids.has(room.roomId)) continue;
      if (room.summary !== undefined && room.summary.expiresAt === null) continue;
      // Not listed because this account left or was removed: the server would only say so.
      if (!room.isMember(this.myId)) continue;
      const gone = await this.api.request('GET', `/api/rooms/${room.roomId}`).then(
        () => false,
        (error: unknown) => isClientError(error, 'ROOM_NOT_FOUND'),
      );
      if (gone) await this.serial(room.roomId, () => this.forgetRoom(room));
    }
  }

  /** Erases a deleted room from this device: its chain, epoch keys and counters. */
  private async forgetRoom(room: RoomState): Promise<void> {
    if (this.rooms.get(room.roomId) !== room) return;
    this.rooms.delete(room.roomId);
    await this.store.delete(ROOM_PREFIX + room.roomId);
    this.events.emit('expired', { roomId: room.roomId });
  }

  private async saveRoom(room: RoomState): Promise<void> {
    await this.store.set(ROOM_PREFIX + room.roomId, room.toRecord());
  }

  // ===== internals: messages =====

  /**
   * Reads forward from lastSeq, at most CATCH_UP_PAGES pages of PAGE messages: the room's queue
   * (and `send()` behind it) waits for a catch-up, so a server that pages forever cannot block it.
   * The cursor is the page's own, since messages that fail to verify do not move lastSeq.
   */
  private async catchUpNow(room: RoomState): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    let after = room.lastSeq;
    for (let page = 0; page < CATCH_UP_PAGES; page++) {
      const answer = await this.api.request<MessagesAnswer>(
        'GET',
        `/api/rooms/${room.roomId}/messages`,
        { query: { after, limit: PAGE } },
      );
      const items = answer.messages
        .filter((item) => item.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, PAGE);
      for (const item of items) {
        const message = await this.receive(room, item, 'live');
        if (message !== undefined) out.push(message);
      }
      await this.saveRoom(room);
      if (!answer.more || items.length === 0) break;
      after = items.at(-1)!.seq;
    }
    this.receiptBook.acknowledgeDelivery(room);
    return out;
  }

  /**
   * Verifies, decrypts and classifies one message (§6.5). `live` deliveries advance the room's
   * sequence number and emit `message`; `history` ones are returned only.
   */
  private async receive(
    room: RoomState,
    item: MessageItem,
    mode: 'live' | 'history',
  ): Promise<ReceivedMessage | undefined> {
    // Nothing here moves the room before the message verified: a forged frame with an absurd seq
    // must not move the resume position (and silence the room), and a genuine message that
    // arrives late (below lastSeq) is verified and shown out of order, not dropped.
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(item.envelope);
    } catch {
      this.people.fail({
        code: 'MESSAGE_MALFORMED',
        severity: 'warning',
        roomId: room.roomId,
        seq: item.seq,
        detail: 'not base64url',
      });
      return undefined;
    }
    let senderId: string | undefined;
    try {
      senderId = toHex(decodeMessageEnvelope(bytes).header.senderId);
      await this.people.ensurePinned([senderId]);
    } catch (error) {
      // Step 1 of §6.5 reports it below with its code; an unreachable directory is not a verdict.
      if (
        !(error instanceof CryptoError) &&
        !isClientError(error, 'USER_NOT_FOUND') &&
        !isClientError(error, 'KEYS_NOT_PUBLISHED')
      )
        throw error;
    }
    let result;
    try {
      result = await this.openWithRefresh(room, bytes, item.seq);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      if (error.code === 'MESSAGE_UNKNOWN_EPOCH' && mode === 'live') {
        room.hold({ seq: item.seq, envelope: bytes, sentAt: item.sentAt });
      }
      this.people.fail({
        code: error.code,
        severity: this.people.severityOf(senderId),
        roomId: room.roomId,
        seq: item.seq,
        ...(senderId === undefined ? {} : { userId: senderId }),
        detail: error.message,
      });
      return undefined;
    }
    const { message } = result;
    let { status } = result;
    const messageId = toHex(message.header.messageId);
    const sender = toHex(message.header.senderId);
    // History read again (every time a room is opened, after a reload too): the same counter with
    // the same hash is the same authentic message, shown again. It is a replay only when it
    // arrives live, or when the device knows it came before at another sequence number.
    const firstSeq = result.seenAtSeq ?? 0;
    const rereading =
      status === 'duplicate' && mode === 'history' && (firstSeq === 0 || firstSeq === item.seq);
    if (rereading) status = 'new';
    // history() read it before the live stream (or a catch-up) reached it: no replay, and nothing
    // new to show either.
    if (status === 'duplicate' && mode === 'live' && firstSeq !== 0 && firstSeq === item.seq) {
      return undefined;
    }
    if (status === 'duplicate' || status === 'fork') {
      this.people.fail({
        code: status === 'duplicate' ? 'MESSAGE_DUPLICATE' : 'MESSAGE_FORK',
        severity: status === 'fork' ? 'critical' : this.people.severityOf(sender),
        roomId: room.roomId,
        seq: item.seq,
        userId: sender,
        messageId,
        detail:
          status === 'duplicate'
            ? `message ${message.header.counter} of this sender was delivered before`
            : `another message ${message.header.counter} of this sender exists`,
      });
      return undefined;
    }
    if (status === 'gap') {
      this.people.fail({
        code: 'MESSAGE_GAP',
        severity: this.people.severityOf(sender),
        roomId: room.roomId,
        seq: item.seq,
        userId: sender,
        messageId,
        ...(result.missing === undefined ? {} : { missing: result.missing }),
        detail: `messages ${result.missing?.from}..${result.missing?.to} of this sender never arrived`,
      });
    }
    const received: ReceivedMessage = {
      roomId: room.roomId,
      seq: item.seq,
      messageId,
      senderId: sender,
      senderName:
        sender === this.myId ? this.secrets?.record.username : this.trust.get(sender)?.username,
      epoch: message.header.epoch,
      counter: message.header.counter,
      clientTime: message.header.clientTime,
      sentAt: item.sentAt,
      status,
      payload: message.payload,
      text: message.payload.text,
      own: sender === this.myId,
    };
    if (mode === 'live') {
      room.noteSeq(item.seq);
      this.noteActivity(room, item.seq, received.own, item.sentAt);
      this.events.emit('message', received);
    }
    return received;
  }

  /** room.open, re-reading the chain or the keys once when they may just be behind. */
  private async openWithRefresh(room: RoomState, bytes: Uint8Array, seq: number) {
    try {
      return room.open(bytes, this.people.identityKeyOf, seq);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      if (error.code === 'MESSAGE_SENDER_NOT_MEMBER') await this.syncChain(room);
      else if (error.code === 'MESSAGE_UNKNOWN_EPOCH') await this.fetchKeys(room);
      else throw error;
      return room.open(bytes, this.people.identityKeyOf, seq);
    }
  }

  /** Retries the messages held for a missing key, now that one arrived. */
  private async releaseHeld(room: RoomState): Promise<void> {
    const held = room.takeHeld();
    for (const item of held) {
      const result = await this.receiveHeld(room, item);
      if (result === 'still-missing') room.hold(item);
    }
    await this.saveRoom(room);
  }

  private async receiveHeld(
    room: RoomState,
    item: { seq: number; envelope: Uint8Array; sentAt: string | undefined },
  ): Promise<'done' | 'still-missing'> {
    const { epoch } = decodeMessageEnvelope(item.envelope).header;
    if (room.roomKey(epoch) === undefined) return 'still-missing';
    // Processed out of band: 'history' keeps lastSeq, the event is emitted here.
    const message = await this.receive(
      room,
      { seq: item.seq, envelope: toBase64Url(item.envelope), sentAt: item.sentAt },
      'history',
    );
    if (message !== undefined) {
      room.noteSeq(item.seq);
      this.noteActivity(room, item.seq, message.own, item.sentAt);
      this.events.emit('message', message);
    }
    return 'done';
  }

  private flushOutbox(): void {
    if (!this.connection.isReady) return;
    const now = this.clock.now();
    for (const entry of this.outbox.due(now)) {
      const sent = this.connection.send({
        type: 'send',
        room: entry.roomId,
        envelope: toBase64Url(entry.envelope),
      });
      if (!sent) return;
      this.outbox.markSent(entry.messageId, now);
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.clock.clearTimeout(this.retryTimer);
    const next = this.outbox.nextDue();
    if (next === undefined) return;
    this.retryTimer = this.clock.setTimeout(
      () => this.flushOutbox(),
      Math.max(0, next - this.clock.now()),
    );
  }

  private async onAck(roomId: string, messageId: string, seq: number): Promise<void> {
    const entry = await this.outbox.remove(messageId);
    if (entry === undefined) return;
    this.events.emit('acked', { roomId, messageId, seq });
    this.acks.settle(messageId, seq);
  }

  // ===== internals: connection =====

  private subscribe(room: RoomState): void {
    this.connection.send({ type: 'subscribe', room: room.roomId, after: room.lastSeq });
  }

  private onReady(): void {
    this.outbox.resetBackoff();
    this.receiptBook.announcePresence();
    void this.resync().catch((error: unknown) =>
      this.events.emit('error', { operation: 'resync', error }),
    );
  }

  /** After every (re)connect: new rooms, chains, keys; then subscribe with resume and send the outbox. */
  private async resync(): Promise<void> {
    let summaries: RoomAnswer[] | undefined;
    try {
      summaries = (await this.api.request<RoomList>('GET', '/api/rooms')).rooms;
    } catch (error) {
      this.events.emit('error', { operation: 'listRooms', error });
    }
    const listed = new Map<string, RoomState>();
    for (const summary of summaries ?? []) {
      const room = this.rooms.get(summary.id) ?? new RoomState(summary.id);
      describe(room, summary);
      if (!this.rooms.has(summary.id)) listed.set(summary.id, room);
    }
    if (summaries !== undefined) await this.forgetDeletedRooms(summaries);
    for (const room of [...this.rooms.values(), ...listed.values()]) {
      void this.serial(room.roomId, async () => {
        await this.syncChain(room);
        if (!room.isMember(this.myId)) return;
        // The server's list names it; the verified chain makes it a room of this account.
        if (!this.rooms.has(room.roomId)) this.rooms.set(room.roomId, room);
        await this.ensureEpochKey(room);
        this.subscribe(room);
        if (room.kind === 'channel') await this.admitPending(room);
      }).catch((error: unknown) => this.events.emit('error', { operation: 'resync', error }));
    }
    this.flushOutbox();
  }

  private onProtocolError(violation: ProtocolViolation): void {
    this.protocolErrors += 1;
    this.events.emit('protocol-error', violation);
  }

  /** Every frame here passed its schema (boundary.ts): its fields have the types they claim. */
  private onFrame(frame: ServerFrame): void {
    const room =
      'room' in frame ? (this.rooms.get(frame.room) ?? this.adopting.get(frame.room)) : undefined;
    const known = room !== undefined && this.rooms.has(room.roomId);
    const run = (task: (room: RoomState) => Promise<void>): void => {
      if (room === undefined) return;
      void this.serial(room.roomId, () => task(room)).catch((error: unknown) =>
        this.events.emit('error', { operation: `frame ${frame.type}`, error }),
      );
    };
    switch (frame.type) {
      case 'message':
        run(async (r) => {
          await this.receive(r, frame, 'live');
          await this.saveRoom(r);
          this.receiptBook.acknowledgeDelivery(r);
        });
        break;
      case 'ack':
        void this.onAck(frame.room, frame.messageId, frame.seq).catch((error: unknown) =>
          this.events.emit('error', { operation: 'frame ack', error }),
        );
        break;
      case 'membership':
        run(async (r) => {
          const entry = fromBase64Url(frame.entry);
          if (r.hasEntry(entry)) return;
          const head = r.head?.position ?? -1;
          if (frame.appendedAt !== undefined) r.chainTimes.set(frame.position, frame.appendedAt);
          if (frame.position === head + 1) await this.applyChainEntries(r, [...r.chain, entry]);
          else await this.syncChain(r);
          if (r.kind === 'channel' && r.isMember(this.myId)) await this.admitPending(r);
        });
        break;
      case 'key':
        if (room === undefined || !known) {
          void this.adoptRoom(frame.room).catch((error: unknown) =>
            this.events.emit('error', { operation: 'adoptRoom', error }),
          );
          break;
        }
        run(async (r) => {
          if (await this.acceptEnvelope(r, frame.envelope)) await this.releaseHeld(r);
          await this.saveRoom(r);
        });
        break;
      case 'join-request':
        if (!known) break;
        this.events.emit('join-request', { roomId: frame.room, userId: frame.user });
        run((r) => this.admit(r, frame.user));
        break;
      case 'removed':
        if (frame.reason === 'expired') run((r) => this.forgetRoom(r));
        else run((r) => this.syncChain(r));
        break;
      case 'typing':
        // Advisory, but only of a verified member of a room this device knows.
        if (!known || !room.isMember(frame.user)) break;
        this.events.emit('typing', {
          roomId: frame.room,
          userId: frame.user,
          active: frame.active,
        });
        break;
      case 'presence':
        this.events.emit('presence', { userId: frame.user, status: frame.status });
        break;
      case 'receipt':
        if (!known || !room.isMember(frame.user)) break;
        this.events.emit('receipt', {
          roomId: frame.room,
          userId: frame.user,
          kind: frame.kind,
          seq: frame.seq,
        });
        break;
      case 'error':
        void this.onErrorFrame(frame).catch((error: unknown) =>
          this.events.emit('error', { operation: 'frame error', error }),
        );
        break;
      default:
        break;
    }
  }

  private async onErrorFrame(frame: Extract<ServerFrame, { type: 'error' }>): Promise<void> {
    const { code, ref } = frame;
    const entry = ref === undefined ? undefined : this.outbox.get(ref);
    this.logger.warn('server error frame', { code });
    if (entry === undefined) return;
    // Transient refusals stay in the outbox for the next retry; the rest are final.
    if (['RATE_LIMITED', 'SERVER_BUSY', 'INTERNAL', 'NOT_READY'].includes(code)) return;
    await this.outbox.remove(entry.messageId);
    this.events.emit('send-failed', {
      roomId: entry.roomId,
      messageId: entry.messageId,
      code,
      detail: frame.message,
    });
  }

  /** Admits pending join requests of a channel (an online member's duty, no person needed). */
  private async admitPending(room: RoomState): Promise<void> {
    const answer = await this.api
      .request<{ requests: { user?: unknown; userId?: string }[] }>(
        'GET',
        `/api/rooms/${room.roomId}/join-requests`,
      )
      .catch(() => ({ requests: [] }));
    for (const request of answer.requests) {
      const userId = request.userId ?? userIdOf(request.user);
      if (userId !== undefined) await this.admit(room, userId);
    }
  }

  private async admit(room: RoomState, userId: string): Promise<void> {
    const secrets = this.secrets;
    if (secrets === undefined || room.kind !== 'channel' || !room.isMember(secrets.record.userId))
      return;
    if (room.isMember(userId)) return;
    await this.people.ensurePinned([userId]);
    const contact = this.trust.get(userId);
    if (contact === undefined || contact.pendingChange !== undefined) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = room.nextEntry(secrets.record.userId, secrets.identity, 'admit', userId);
      try {
        await this.api.request('POST', `/api/rooms/${room.roomId}/chain`, {
          body: { entry: toBase64Url(entry) },
        });
      } catch (error) {
        // Another member admitted them (or changed the chain) first.
        if (!isClientError(error, 'CHAIN_CONFLICT')) throw error;
        await this.syncChain(room);
        if (room.isMember(userId)) return;
        continue;
      }
      await this.applyChainEntries(room, [...room.chain, entry]);
      await this.sealCurrentKeyTo(room, [userId]);
      this.events.emit('admitted', { roomId: room.roomId, userId });
      return;
    }
  }

  /** Runs tasks of one room one after the other, so its state changes in a single order. */
  private serial<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(roomId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(roomId, settled);
    return result;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

// ===== wire shapes (the answers of the server's routes) =====

type RoomAnswer = Room;
type KeysListAnswer = RoomKeyList;
type MessageItem = Omit<HistoryPage['messages'][number], 'sentAt'> & { sentAt: string | undefined };
type MessagesAnswer = HistoryPage;

/** Whether the room's lifetime, as the server described it, is over. */
function hasExpired(room: RoomState, now: number): boolean {
  const expiresAt = room.summary?.expiresAt;
  return typeof expiresAt === 'string' && Date.parse(expiresAt) <= now;
}

/** Takes what the server says of a room: its description and its advisory summary. */
function describe(room: RoomState, answer: RoomAnswer): void {
  room.info = {
    name: answer.name ?? undefined,
    topic: answer.topic ?? undefined,
    tags: answer.tags ?? undefined,
  };
  room.summary = summaryOf(answer);
}

function summaryOf(answer: RoomAnswer): RoomSummary {
  return {
    unread: answer.membership?.unread ?? 0,
    readSeq: answer.membership?.readSeq ?? 0,
    lastActivity: answer.lastActivityAt,
    ephemeral: answer.ephemeral,
    expiresAt: answer.expiresAt,
  };
}

function userIdOf(user: unknown): string | undefined {
  if (typeof user === 'string') return user;
  if (typeof user === 'object' && user !== null) {
    const id =
      (user as { id?: unknown; userId?: unknown }).id ?? (user as { userId?: unknown }).userId;
    return typeof id === 'string' ? id : undefined;
  }
  return undefined;
}

function secretsOf(record: AccountRecord): Secrets {
  return {
    record,
    identity: identityKeyPair(record.identitySeed),
    encryption: encryptionKeyPair(record.encryptionSeed),
  };
}

function encodeAccount(record: AccountRecord): StoredValue {
  return {
    userId: record.userId,
    username: record.username,
    identitySeed: toBase64Url(record.identitySeed),
    encryptionSeed: toBase64Url(record.encryptionSeed),
    keyVersion: record.keyVersion,
  };
}

function decodeAccount(value: StoredValue): AccountRecord {
  const record = value as Record<string, StoredValue>;
  return {
    userId: String(record.userId),
    username: String(record.username),
    identitySeed: fromBase64Url(String(record.identitySeed)),
    encryptionSeed: fromBase64Url(String(record.encryptionSeed)),
    keyVersion: Number(record.keyVersion),
  };
}
