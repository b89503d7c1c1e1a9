// The Parley client: a facade over the modules that do the work, which assemble.ts builds around
// one shared context. Each public call goes to the module that owns it: the account and its
// backup, people and trust, rooms and their chains, room keys, messages and their delivery,
// receipts, attachments, and the connection with its frame dispatch. The public API is this class
// (docs/CLIENT.md); nothing here decides anything a module could. A call that only hands over is
// one line (a bound property, so it can also be passed around as a callback).
import {
  fromHex,
  type AttachmentDescriptor,
  type MessagePayloadInput,
  type PassphraseStrength,
  type SafetyNumber,
} from '@parley/crypto';
import type {
  AccountRules,
  BanItem,
  IceServer,
  MemberReceipts,
  PendingJoinItem,
} from '@parley/wire';
import type { Credentials, Me } from './account';
import { assemble, type ClientParts } from './assemble';
import { callHistory, type CallRecord } from './call-signal';
import type { Calls } from './calls';
import type { OutgoingFile, UploadProgress } from './attachments';
import type { EmailStatus } from './email';
import type { BlockedUser, ContactsView, DirectFrom } from './contacts';
import type { SignedInSession } from './sessions';
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
import { membershipLines, type MembershipLine } from './membership-log';
import { MessageActions } from './message-actions';
import type { ClientOptions } from './options';
import type { OwnProfile, People, PersonListing, Profile } from './people';
import type { ChannelListing, RoomLifetime, RoomView } from './room-view';
import type { SearchHit } from './search/search';
import type { Contact } from './trust';

export { MIN_PASSPHRASE_SCORE } from './backup';
export type { Credentials, Me } from './account';
export type { OutgoingFile, UploadProgress } from './attachments';
export type { EmailStatus } from './email';
export type {
  BlockedUser,
  ContactChange,
  ContactListing,
  ContactRequest,
  ContactsView,
  DirectFrom,
} from './contacts';
export { mailToken } from './email';
export type { SignedInSession } from './sessions';
export type { ChannelListing, RoomLifetime, RoomView } from './room-view';
export type { OwnProfile, PersonListing, Profile } from './people';
export type { MembershipLine } from './membership-log';
export type { SearchHit, SnippetPart } from './search/search';
export type { AccountRules, AttachmentDescriptor, MemberReceipts };
/** A join request of this account that no member has answered yet. */
export type PendingJoin = PendingJoinItem;

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
   * Registers and makes this device's keys; with `passphrase` (checked first) also the backup;
   * with `email`, the server mails it a verification link.
   */
  signUp = (input: Credentials & { passphrase?: string; email?: string }): Promise<Me> =>
    this.parts.account.signUp(input);

  /** Logs in; a new device then needs `restore` for its keys. */
  logIn = (input: Credentials): Promise<void> => this.parts.account.logIn(input);

  /** A new device: logs in and opens the backup with the passphrase, then reads every room. */
  restore = (input: Credentials & { passphrase: string }): Promise<Me> =>
    this.parts.account.restore(input);

  /**
   * For a user who lost every device and the backup passphrase, signed in: new keys, published
   * with the password, and a new backup under `passphrase`. Contacts see a key change; the rooms
   * the account was in stay unreadable here. Call `connect()` afterwards.
   */
  resetIdentity = (input: { password: string; passphrase: string }): Promise<Me> =>
    this.parts.account.resetIdentity(input);

  /** Stores (or replaces) the encrypted backup under a new passphrase. */
  setUpBackup = (passphrase: string, password?: string): Promise<void> =>
    this.parts.account.setUpBackup(passphrase, password);

  /** Proves the current passphrase against the stored backup, then re-encrypts under the new one. */
  changePassphrase = (current: string, next: string): Promise<void> =>
    this.parts.account.changePassphrase(current, next);

  /** Ends the session and the connection; `forget` also erases this device's key store. */
  async logOut(options: { forget?: boolean } = {}): Promise<void> {
    // Erasing the device erases the search index with it: nothing may write it back afterwards.
    if (options.forget === true) this.parts.search.reset();
    await this.parts.account.logOut(options);
  }

  /** Ends every session of this account, on every device, then this one's. */
  logOutEverywhere = (options: { forget?: boolean } = {}): Promise<number> => {
    if (options.forget === true) this.parts.search.reset();
    return this.parts.account.logOutEverywhere(options);
  };

  /** The server's username and password rules (for a sign-up form; needs no session). */
  accountRules = (): Promise<AccountRules> => this.parts.account.accountRules();

  // ===== email and password =====

  /** The account's email address (null when none) and whether it is verified. */
  emailStatus = (): Promise<EmailStatus> => this.parts.email.emailStatus();

  /** Sets or replaces the address, with the password; the server mails a verification link. */
  setEmail = (email: string, password: string): Promise<EmailStatus> =>
    this.parts.email.setEmail(email, password);

  resendVerification = (): Promise<void> => this.parts.email.resendVerification();

  /** Opens a verification link (the link or its token); needs no session. */
  verifyEmail = (linkOrToken: string): Promise<EmailStatus> =>
    this.parts.email.verifyEmail(linkOrToken);

  /** "Forgot password?" by username or email; resolves the same whether anyone is mailed. */
  requestPasswordReset = (usernameOrEmail: string): Promise<void> =>
    this.parts.email.requestPasswordReset(usernameOrEmail);

  /** A new password from a reset link; ends every session of the account. Keys stay. */
  resetPassword = (linkOrToken: string, password: string): Promise<void> =>
    this.parts.email.resetPassword(linkOrToken, password);

  /** Changes the password; every other session ends, this one stays. Returns how many ended. */
  changePassword = (current: string, next: string): Promise<number> =>
    this.parts.email.changePassword(current, next);

  // ===== signed-in sessions =====

  /** The account's signed-in sessions (device name, last seen); `current` is this device. */
  listSessions = (): Promise<SignedInSession[]> => this.parts.sessions.list();

  /** Ends a session: that device is signed out at once (this one's own: a log-out). */
  revokeSession = (sessionId: string): Promise<void> => this.parts.sessions.revoke(sessionId);

  // ===== profiles =====

  /** A person's public profile (display name, status message, whether an avatar is set). */
  getProfile = (userId: string): Promise<Profile> => this.people.getProfile(userId);

  /** This account's own profile. */
  myProfile = (): Promise<OwnProfile> => this.people.myProfile();

  /** Changes the given fields (null clears one; absent ones stay). */
  updateProfile = (changes: {
    displayName?: string | null;
    statusMessage?: string | null;
  }): Promise<OwnProfile> => this.people.updateProfile(changes);

  /** Sets the avatar (PNG, JPEG, WebP or GIF bytes, checked by the server). */
  setAvatar = (bytes: Uint8Array, mediaType: string): Promise<void> =>
    this.people.setAvatar(bytes, mediaType);

  removeAvatar = (): Promise<void> => this.people.removeAvatar();

  /** Where a person's avatar is, loadable without a session (404 when there is none). */
  avatarUrl = (userId: string): string => this.people.avatarUrl(userId);

  /** A person's avatar bytes and type, or undefined when none is set. */
  avatar(userId: string): Promise<{ data: Uint8Array; mediaType: string } | undefined> {
    return this.people.avatar(userId);
  }

  // ===== directory and trust =====

  /** Looks a user up by name and pins their keys (first use) or checks them against the pin. */
  lookUp = (username: string): Promise<Contact> => this.people.lookUp(username);

  lookUpById = (userId: string): Promise<Contact> => this.people.lookUpById(userId);

  searchPeople = (prefix: string): Promise<PersonListing[]> => this.people.searchPeople(prefix);

  contacts = (): Contact[] => this.ctx.trust.list();

  contact = (userId: string): Contact | undefined => this.ctx.trust.get(userId);

  safetyNumber = (userId: string): SafetyNumber => this.people.safetyNumber(userId);

  /** Marks a contact verified: after comparing the digits, or by a scanned QR payload. */
  verifyContact = (userId: string, scannedQr?: string): Promise<Contact> =>
    this.people.verifyContact(userId, scannedQr);

  /** The user accepts a contact's changed keys; rooms they are in get the current key again. */
  async acceptKeyChange(userId: string): Promise<Contact> {
    const contact = await this.ctx.trust.acceptChange(userId);
    await this.parts.keys.resealTo(userId);
    return contact;
  }

  // ===== contacts, blocks, privacy =====

  /** The server's contacts with this device's key state (pinned, verified), and requests. */
  contactList = (): Promise<ContactsView> => this.parts.contacts.list();

  /** Asks a person (by username) to be a contact, pinning their keys; mutual asks agree at once. */
  requestContact = (username: string): Promise<ContactsView> =>
    this.parts.contacts.request(username);

  /** Accepts the request of `userId` (CONTACT_REQUEST_NOT_FOUND when there is none). */
  acceptContact = (userId: string): Promise<ContactsView> => this.parts.contacts.accept(userId);

  declineContact = (userId: string): Promise<ContactsView> => this.parts.contacts.decline(userId);

  /** Withdraws this account's request to `userId`. */
  cancelContactRequest = (userId: string): Promise<ContactsView> =>
    this.parts.contacts.cancel(userId);

  removeContact = (userId: string): Promise<ContactsView> => this.parts.contacts.remove(userId);

  /** Blocks a person: no contact, requests, direct conversation, presence or typing with them. */
  block = (userId: string): Promise<BlockedUser[]> => this.parts.contacts.block(userId);

  unblock = (userId: string): Promise<BlockedUser[]> => this.parts.contacts.unblock(userId);

  /** Who this account blocked, newest first. */
  blockedUsers = (): Promise<BlockedUser[]> => this.parts.contacts.blockedUsers();

  /** Who may open a direct conversation with this account: `everyone` or `contacts`. */
  directPrivacy = (): Promise<DirectFrom> => this.parts.contacts.directPrivacy();

  setDirectPrivacy = (directFrom: DirectFrom): Promise<DirectFrom> =>
    this.parts.contacts.setDirectPrivacy(directFrom);

  // ===== rooms =====

  /** Rooms this device knows, each with its verified members (none past its expiry time). */
  listRooms = (): RoomView[] => this.parts.sync.list();

  /** The server's unread counts and activity for the known rooms; most recent first. */
  refreshRooms = (): Promise<RoomView[]> => this.parts.sync.refresh();

  room = (roomId: string): RoomView => this.parts.membership.view(roomId);

  /** The room's membership history as dated lines for a chat, oldest first (verified chain). */
  membershipLog(roomId: string): MembershipLine[] {
    const room = this.ctx.requireRoom(roomId, 'membershipLog');
    return membershipLines(roomId, room.chain, room.chainTimes);
  }

  createChannel = (
    input: { name: string; topic: string; tags?: string[] } & RoomLifetime,
  ): Promise<RoomView> => this.parts.membership.createChannel(input);

  /** A private group; `members` (usernames) are added one after the other by this admin. */
  createGroup = (input: { name: string; members?: string[] } & RoomLifetime): Promise<RoomView> =>
    this.parts.membership.createGroup(input);

  /** A direct conversation with one person; the existing one when there is one already. */
  createDirect = (username: string): Promise<RoomView> =>
    this.parts.membership.createDirect(username);

  browseChannels(
    query: { q?: string; tag?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ channels: ChannelListing[]; cursor?: string }> {
    return this.parts.membership.browseChannels(query);
  }

  /** Asks to join a channel; `joined` fires when a member lets this account in, now or later. */
  requestJoin = (roomId: string): Promise<void> => this.parts.membership.requestJoin(roomId);

  cancelJoin = (roomId: string): Promise<void> => this.parts.membership.cancelJoin(roomId);

  /** This account's join requests no member has answered yet, oldest first. */
  pendingJoins = (): Promise<PendingJoin[]> => this.parts.membership.pendingJoins();

  /** Asks to join a channel and waits until a member has admitted this account (TIMEOUT). */
  join = (roomId: string, options: { timeoutMs?: number } = {}): Promise<RoomView> =>
    this.parts.membership.join(roomId, options);

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
    await this.parts.search.forgetRoom(roomId);
  }

  /**
   * Makes the room's messages disappear `seconds` after they were sent (0: never), as a signed
   * chain entry: admins of a channel or group, either party of a direct conversation.
   */
  async setMessageTimer(roomId: string, seconds: number): Promise<RoomView> {
    await this.parts.membership.change(roomId, 'set-timer', this.ctx.myId, seconds);
    return this.room(roomId);
  }

  /** Renames a channel or group or edits its topic (admins of the room); members hear it live. */
  updateRoom = (roomId: string, details: { name?: string; topic?: string }): Promise<RoomView> =>
    this.parts.membership.updateRoom(roomId, details);

  /** Removes a person if a member and bars them from coming back (admins of the room). */
  banMember = (roomId: string, userId: string): Promise<void> =>
    this.parts.membership.ban(roomId, userId);

  unbanMember = (roomId: string, userId: string): Promise<void> =>
    this.parts.membership.unban(roomId, userId);

  /** Who is barred from the room, newest first. */
  bans = (roomId: string): Promise<BanItem[]> => this.parts.membership.bans(roomId);

  /** Deletes a channel or group with its messages, chain, keys and files (admins of the room). */
  deleteRoom = (roomId: string): Promise<void> => this.parts.membership.deleteRoom(roomId);

  /** Every room of this account up to date: new rooms, chains, keys and messages. */
  syncRooms = (): Promise<void> => this.parts.sync.syncRooms();

  // ===== messages =====

  /** Encrypts, signs and queues a message in the outbox; `acked(id)` waits for the server. */
  send(roomId: string, message: string | MessagePayloadInput): Promise<{ messageId: string }> {
    return this.parts.messages.send(roomId, message);
  }

  /** A reply to a message: the reply names it, and readers show it quoted. */
  reply(roomId: string, messageId: string, text: string): Promise<{ messageId: string }> {
    return this.send(roomId, { kind: 'text', text, replyTo: fromHex(messageId) });
  }

  /** New text for one of this account's messages (others refuse anyone else's edit). */
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

  /** Which edits, deletes and reactions of a room take effect; its moderators are its admins. */
  messageActions(roomId: string): MessageActions {
    return new MessageActions((userId) => {
      const room = this.ctx.rooms.get(roomId);
      return room !== undefined && room.kind !== 'direct' && room.roleOf(userId) === 'admin';
    });
  }

  /** Sends files encrypted on this device, described only inside the encrypted message (§8). */
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

  /** The largest file `sendFiles` can send, in bytes. */
  attachmentLimit = (): Promise<number> => this.parts.attachments.limit();

  /** Downloads and decrypts an attachment, once it is the blob its sender described. */
  downloadAttachment = (descriptor: AttachmentDescriptor): Promise<Uint8Array> =>
    this.parts.attachments.download(descriptor);

  /** The server's sequence number of a message, once acknowledged (at once if it was). */
  acked = (messageId: string): Promise<number> => this.parts.delivery.acked(messageId);

  /** Messages still waiting for the server's acknowledgement. */
  pendingMessages(roomId?: string): { roomId: string; messageId: string; attempts: number }[] {
    return this.parts.delivery.pending(roomId);
  }

  /**
   * Older messages, verified and decrypted, oldest first: the page before `before` (the newest
   * when absent), or with `after` the page after that seq (to show a message in its context).
   */
  history = async (
    roomId: string,
    options: { before?: number; after?: number; limit?: number } = {},
  ): Promise<ReceivedMessage[]> =>
    this.parts.search.taken(await this.parts.messages.history(roomId, options));

  // ===== search =====

  /**
   * Searches this device's history (what it has read; nothing is asked of the server): every word
   * of `query` must match, the last as a prefix. Across rooms, or in `roomId`; best first.
   */
  search = (
    query: string,
    options: { roomId?: string; limit?: number } = {},
  ): Promise<SearchHit[]> => this.parts.search.search(query, options);

  /** How many messages the search index holds and its sealed size at its last write. */
  searchStats = (): Promise<{ messages: number; sealedBytes: number }> => this.parts.search.stats();

  /** Reads everything after the last processed message, emitting `message` for each. */
  catchUp = (roomId: string): Promise<ReceivedMessage[]> => this.parts.messages.catchUp(roomId);

  // ===== calls =====

  /** 1:1 calls in direct rooms: the signalling state machine (calls.ts); media is the app's. */
  get calls(): Calls {
    return this.parts.calls;
  }

  /** The STUN and TURN servers this server offers for calls (none: direct connections only). */
  async iceServers(): Promise<IceServer[]> {
    return (await this.ctx.api.iceServers()).iceServers;
  }

  /** The calls of a room, oldest first, from its newest `pages` pages of history. */
  async callHistory(roomId: string, options: { pages?: number } = {}): Promise<CallRecord[]> {
    const messages: ReceivedMessage[] = [];
    let before: number | undefined;
    for (let page = 0; page < (options.pages ?? 10); page++) {
      const batch = await this.history(roomId, { before, limit: 100 });
      messages.push(...batch);
      const oldest = Math.min(...batch.map((message) => message.seq));
      if (batch.length === 0 || oldest <= 1) break;
      before = oldest;
    }
    return callHistory(messages, this.ctx.clock.now());
  }

  // ===== receipts, typing, presence =====

  /** Moves this account's read marker (others see `receipt` events; `unread` counts from it). */
  markRead = (roomId: string, seq: number): Promise<void> =>
    this.parts.receipts.markRead(roomId, seq);

  /** Tells the members this device received everything up to `seq` (done by itself too). */
  markDelivered = (roomId: string, seq: number): Promise<void> =>
    this.parts.receipts.markDelivered(roomId, seq);

  /** Every member's delivered and read markers. */
  receipts = (roomId: string): Promise<MemberReceipts[]> => this.parts.receipts.receipts(roomId);

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
    this.parts.search.stop();
    await this.parts.search.flush();
    await this.ctx.store.close();
  }
}
