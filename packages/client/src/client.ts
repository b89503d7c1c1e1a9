// The Parley client: a facade over the modules that do the work. It builds them around one shared
// context (context.ts) and hands each public call to the module that owns it: the account and its
// backup, people and trust, rooms and their chains, room keys, messages and their delivery,
// receipts, attachments, and the connection with its frame dispatch. The public API is this class
// (docs/CLIENT.md); nothing here decides anything a module could.
import type {
  AttachmentDescriptor,
  MessagePayloadInput,
  PassphraseStrength,
  SafetyNumber,
} from '@parley/crypto';
import type { AccountRules, Me as MeProfile, MemberReceipts, PublicProfile } from '@parley/wire';
import type { Credentials, Me } from './account';
import { assemble, type ClientParts } from './assemble';
import type { OutgoingFile, UploadProgress } from './attachments';
import { checkPassphrase } from './backup';
import type { ClientContext } from './context';
import { ClientError } from './errors';
import type {
  ClientEventEmitter,
  ClientEventHandler,
  ClientEventName,
  ClientEvents,
  PresenceStatus,
  ReceivedMessage,
} from './events';
import type { ClientOptions } from './options';
import type { People } from './people';
import type { ChannelListing, RoomLifetime, RoomView } from './room-view';
import type { Contact } from './trust';

export { MIN_PASSPHRASE_SCORE } from './backup';
export type { Credentials, Me } from './account';
export type { OutgoingFile, UploadProgress } from './attachments';
export type { ChannelListing, RoomLifetime, RoomView } from './room-view';

/** The public profile of a person (display name, status, whether an avatar is set). */
export type Profile = PublicProfile;
/** This account's own profile. */
export type OwnProfile = MeProfile;
export type { AccountRules, AttachmentDescriptor, MemberReceipts };
/** A person as the directory's search lists them (public profile). */
export type PersonListing = PublicProfile;

/** Creates a client and loads what its key store holds (account, contacts, rooms, outbox). */
export async function createClient(options: ClientOptions): Promise<Client> {
  return Client.create(options);
}

export class Client {
  private readonly ctx: ClientContext;
  private readonly events: ClientEventEmitter;
  private readonly people: People;
  private closed = false;

  private constructor(private readonly parts: ClientParts) {
    this.ctx = parts.ctx;
    this.events = parts.ctx.events;
    this.people = parts.ctx.people;
  }

  static async create(options: ClientOptions): Promise<Client> {
    return new Client(await assemble(options));
  }

  // ===== events =====

  /** How many frames and answers failed their schema and were dropped since this client started. */
  get protocolErrorCount(): number {
    return this.parts.protocolErrors();
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
    return this.parts.account.me;
  }

  get isLoggedIn(): boolean {
    return this.parts.session.isOpen;
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
  signUp(input: Credentials & { passphrase?: string }): Promise<Me> {
    return this.parts.account.signUp(input);
  }

  /**
   * Logs in. On a device that already holds this account's keys that is all; on a new device the
   * session is open but the keys must come from `restore` (or use `restore` directly).
   */
  logIn(input: Credentials): Promise<void> {
    return this.parts.account.logIn(input);
  }

  /**
   * A new device: logs in, fetches the backup, opens it with the passphrase (a wrong one is
   * BACKUP_DECRYPT_FAILED and changes nothing on this device), then reads every room's history.
   */
  restore(input: Credentials & { passphrase: string }): Promise<Me> {
    return this.parts.account.restore(input);
  }

  /** Stores (or replaces) the encrypted backup under a new passphrase. */
  setUpBackup(passphrase: string, password?: string): Promise<void> {
    return this.parts.account.setUpBackup(passphrase, password);
  }

  /** Proves the current passphrase against the stored backup, then re-encrypts under the new one. */
  changePassphrase(current: string, next: string): Promise<void> {
    return this.parts.account.changePassphrase(current, next);
  }

  /**
   * Ends the session on the server and stops the connection. With `forget`, also erases this
   * device's key store (keys, contacts, rooms): only a backup can bring them back.
   */
  logOut(options: { forget?: boolean } = {}): Promise<void> {
    return this.parts.account.logOut(options);
  }

  /**
   * Ends every session of this account (all devices and browsers: their refresh tokens are
   * revoked and their sockets closed), then this one's as `logOut` does.
   */
  logOutEverywhere(options: { forget?: boolean } = {}): Promise<number> {
    return this.parts.account.logOutEverywhere(options);
  }

  /** The server's username and password rules (for a sign-up form; needs no session). */
  accountRules(): Promise<AccountRules> {
    return this.parts.account.accountRules();
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
    return this.ctx.trust.list();
  }

  contact(userId: string): Contact | undefined {
    return this.ctx.trust.get(userId);
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
    const contact = await this.ctx.trust.acceptChange(userId);
    await this.parts.keys.resealTo(userId);
    return contact;
  }

  // ===== rooms =====

  /** Rooms this device knows, each with its verified members (none past its expiry time). */
  listRooms(): RoomView[] {
    return this.parts.sync.list();
  }

  /**
   * Asks the server for every room's unread count and last activity (GET /api/rooms) and returns
   * the rooms, most recently active first. Rooms this device does not know yet are left to
   * `syncRooms()`; the counts are the server's word, shown, never trusted for anything else.
   */
  refreshRooms(): Promise<RoomView[]> {
    return this.parts.sync.refresh();
  }

  room(roomId: string): RoomView {
    return this.parts.membership.view(roomId);
  }

  createChannel(
    input: { name: string; topic: string; tags?: string[] } & RoomLifetime,
  ): Promise<RoomView> {
    const { expiresInDays, ephemeral, ...info } = input;
    return this.parts.membership.create('channel', info, undefined, { expiresInDays, ephemeral });
  }

  /** A private group; `members` (usernames) are added one after the other by this admin. */
  async createGroup(input: { name: string; members?: string[] } & RoomLifetime): Promise<RoomView> {
    const members = await Promise.all((input.members ?? []).map((name) => this.lookUp(name)));
    const view = await this.parts.membership.create('group', { name: input.name }, undefined, {
      expiresInDays: input.expiresInDays,
      ephemeral: input.ephemeral,
    });
    for (const member of members) await this.addMember(view.roomId, member.userId);
    return this.room(view.roomId);
  }

  /** A direct conversation with one person; the existing one when there is one already. */
  async createDirect(username: string): Promise<RoomView> {
    const peer = await this.lookUp(username);
    return this.parts.membership.create('direct', {}, peer.userId);
  }

  browseChannels(
    query: { q?: string; tag?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ channels: ChannelListing[]; cursor?: string }> {
    return this.parts.membership.browseChannels(query);
  }

  /**
   * Asks to join a channel and waits until an online member's client has admitted this account
   * and sealed the room key to it (TIMEOUT after `timeoutMs`).
   */
  join(roomId: string, options: { timeoutMs?: number } = {}): Promise<RoomView> {
    return this.parts.membership.join(roomId, options);
  }

  async addMember(roomId: string, userId: string): Promise<RoomView> {
    await this.parts.membership.change(roomId, 'add', userId);
    return this.room(roomId);
  }

  /** Removes a member and starts a new epoch whose key only the remaining members receive. */
  async removeMember(roomId: string, userId: string): Promise<RoomView> {
    await this.parts.membership.change(roomId, 'remove', userId);
    return this.room(roomId);
  }

  async promote(roomId: string, userId: string): Promise<RoomView> {
    await this.parts.membership.change(roomId, 'promote', userId);
    return this.room(roomId);
  }

  async demote(roomId: string, userId: string): Promise<RoomView> {
    await this.parts.membership.change(roomId, 'demote', userId);
    return this.room(roomId);
  }

  async leave(roomId: string): Promise<void> {
    await this.parts.membership.change(roomId, 'leave', this.ctx.myId);
    this.parts.connection.send({ type: 'unsubscribe', room: roomId });
  }

  /**
   * Brings every room this account belongs to up to date: new rooms (added while away), chains,
   * keys and messages. `restore` calls it; a connected client does the same on every (re)connect.
   */
  syncRooms(): Promise<void> {
    return this.parts.sync.syncRooms();
  }

  // ===== messages =====

  /**
   * Encrypts and signs a message and puts it in the outbox (persisted), which sends it as soon as
   * the connection is up and until the server acknowledges it. Returns its id; `acked(id)` waits.
   */
  send(roomId: string, message: string | MessagePayloadInput): Promise<{ messageId: string }> {
    return this.parts.messages.send(roomId, message);
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
    this.ctx.requireRoom(roomId, 'sendFiles');
    const attachments = await this.parts.attachments.upload(roomId, files, options.onProgress);
    const { messageId } = await this.send(roomId, { kind: 'text', text, attachments });
    return { messageId, attachments };
  }

  /**
   * The largest file `sendFiles` can send, in bytes: the server's largest blob (GET
   * /api/attachments/limits) less what encryption adds, so a too-large file is refused up front.
   */
  attachmentLimit(): Promise<number> {
    return this.parts.attachments.limit();
  }

  /**
   * Downloads an attachment of a received message and decrypts it, after checking the blob is the
   * one the sender described (ATTACHMENT_HASH_MISMATCH otherwise: the server swapped or altered it).
   */
  downloadAttachment(descriptor: AttachmentDescriptor): Promise<Uint8Array> {
    return this.parts.attachments.download(descriptor);
  }

  /**
   * Resolves with the server's sequence number once the message is acknowledged, at once for one
   * acknowledged already (the last 1,024 are remembered).
   */
  acked(messageId: string): Promise<number> {
    return this.parts.delivery.acked(messageId);
  }

  /** Messages still waiting for the server's acknowledgement. */
  pendingMessages(roomId?: string): { roomId: string; messageId: string; attempts: number }[] {
    return this.parts.delivery.pending(roomId);
  }

  /**
   * Older messages, newest page first (`before` a sequence number; the newest when absent),
   * verified and decrypted. Failures among them are emitted as `verification-failed` and left out.
   */
  history(
    roomId: string,
    options: { before?: number; limit?: number } = {},
  ): Promise<ReceivedMessage[]> {
    return this.parts.messages.history(roomId, options);
  }

  /**
   * Reads, in order, everything after the last sequence number this device processed, emitting a
   * `message` event for each (as a live delivery would). Returns what it read.
   */
  catchUp(roomId: string): Promise<ReceivedMessage[]> {
    return this.parts.messages.catchUp(roomId);
  }

  // ===== receipts, typing, presence =====

  /** Moves this account's read marker (others see `receipt` events; `unread` counts from it). */
  markRead(roomId: string, seq: number): Promise<void> {
    return this.parts.receipts.markRead(roomId, seq);
  }

  /**
   * Tells the room's members this device has received everything up to `seq`. The client does it
   * by itself for every message it receives live or catches up on, so a UI rarely needs to.
   */
  markDelivered(roomId: string, seq: number): Promise<void> {
    return this.parts.receipts.markDelivered(roomId, seq);
  }

  /**
   * Every member's delivered and read markers (a sender's UI shows "delivered" and "seen" from
   * them after a reload; live changes arrive as `receipt` events).
   */
  receipts(roomId: string): Promise<MemberReceipts[]> {
    return this.parts.receipts.receipts(roomId);
  }

  setTyping(roomId: string, active: boolean): void {
    this.parts.receipts.setTyping(roomId, active);
  }

  setPresence(status: Exclude<PresenceStatus, 'offline'>): void {
    this.parts.receipts.setPresence(status);
  }

  // ===== connection =====

  /** Opens the WebSocket (and keeps it open, reconnecting and resuming after any drop). */
  connect(): void {
    this.ctx.requireSecrets('connect');
    if (!this.parts.session.isOpen)
      throw new ClientError('NOT_SIGNED_IN', 'connect', 'log in first');
    this.parts.connection.start();
  }

  /** Resolves once the WebSocket is authenticated. */
  async connected(): Promise<void> {
    if (this.parts.connection.isReady) return;
    await this.events.next('connection', (event) => event.state === 'open');
  }

  disconnect(): void {
    this.parts.connection.stop();
  }

  /** Closes the connection and the key store after pending writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.connection.stop();
    this.parts.delivery.stop();
    await this.ctx.drain();
    await this.ctx.store.close();
  }
}
