// The signed-in (or not yet signed-in) state of this browser, over one @parley/client Client whose
// keys live in IndexedDB. Screens read the $state fields and call the methods; every protocol step
// happens in the client library.
import type {
  Client,
  ClientEvents,
  ConnectionState,
  ContactsView,
  FetchLike,
  Me,
  PresenceStatus,
  RoomView,
} from '@parley/client';
import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import type { AccountRules } from '@parley/wire';
import { removedBy } from '@parley/client/membership-words';
import { describeCode, VERIFICATION_FAILURE_TEXT } from '../failures';
import { Preferences } from './preferences.svelte';
import { Profiles, type KnownProfile } from './profiles.svelte';

export type Phase =
  /** Opening the key store of the account this browser remembers. */
  | 'starting'
  | 'signed-out'
  /** Logged in on a browser without this account's keys: the backup passphrase is needed. */
  | 'restore'
  /** Just signed up: the backup passphrase is set up next. */
  | 'backup'
  | 'ready';

export interface Notice {
  id: number;
  text: string;
  severity: 'info' | 'warning' | 'critical';
  roomId?: string | undefined;
  userId?: string | undefined;
  code?: string | undefined;
  /** Offer to open the room. */
  open?: boolean;
}

export interface RoomSummary {
  roomId: string;
  kind: RoomView['kind'];
  name: string;
  topic: string | undefined;
  tags: string[];
  unread: number;
  lastActivity: string | undefined;
  muted: boolean;
  canSend: boolean;
  /** False once this account was removed (the room stays, readable, until dismissed). */
  member: boolean;
  /** Who removed this account, when someone did. */
  removedBy: string | undefined;
  members: RoomView['members'];
  /** For a direct conversation: the other person. */
  peerId: string | undefined;
  /** The server relays its messages and stores none. */
  ephemeral: boolean;
  /** ISO time at which the server deletes the room; null or undefined for never (or unknown). */
  expiresAt: string | null | undefined;
  /** Seconds after which messages disappear (the verified chain's timer); 0 for never. */
  messageTimer: number;
}

/** The account this browser opens at start (a username; no secret). */
const REMEMBERED_ACCOUNT = 'parley:account';
const NOTICE_LIMIT = 6;

export class Session {
  phase = $state<Phase>('starting');
  client = $state.raw<Client | undefined>(undefined);
  me = $state.raw<Me | undefined>(undefined);
  connection = $state<ConnectionState>('closed');
  rules = $state.raw<AccountRules | undefined>(undefined);
  notices = $state<Notice[]>([]);
  /** The read marker this browser last sent per room, so a scroll does not send it again. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping no view reads
  private readonly readSent = new Map<string, number>();
  /** Channels this account asked to join that no member has answered yet: room id → name. */
  pendingJoins = $state<Record<string, string>>({});
  presence = $state<Record<string, PresenceStatus>>({});
  myPresence = $state<Exclude<PresenceStatus, 'offline'>>('online');
  typing = $state<Record<string, Record<string, number>>>({});
  preferences = $state.raw<Preferences | undefined>(undefined);
  /** Other people's display names, status messages and pictures, as far as fetched. */
  profiles = $state.raw<Profiles | undefined>(undefined);
  /** The room on screen: its messages count as read and raise no notification. */
  activeRoomId = $state<string | undefined>(undefined);
  /** Bumped whenever the client's rooms or contacts change, so derived views recompute. */
  revision = $state(0);
  /** When the running Argon2id derivation of the backup key started (it runs in a worker). */
  derivingKeySince = $state<number | undefined>(undefined);
  /** True when this account has no backup yet (set-up was skipped). */
  backupMissing = $state(false);

  // ----- contacts -----
  /** The contact list and requests as last read; undefined before the first read. */
  contacts = $state.raw<ContactsView | undefined>(undefined);
  /** Contact requests waiting for this account's answer: the People badge. */
  readonly incomingRequests: number = $derived(this.contacts?.incoming.length ?? 0);

  /** Reads the contact list again (after a `contact` frame, a reconnect, or a change made here). */
  async refreshContacts(): Promise<ContactsView | undefined> {
    const client = this.client;
    if (client === undefined) return undefined;
    try {
      this.contacts = await client.contactList();
    } catch {
      // Shown as it was; the next frame or reconnect reads it again.
    }
    return this.contacts;
  }

  /** A contact change made on this screen: the answer is the new list. */
  setContacts(view: ContactsView): void {
    this.contacts = view;
    this.revision++;
  }
  // ----- end contacts -----

  private pending: { username: string; password: string } | undefined;
  private unsubscribe: (() => void)[] = [];
  private nextNoticeId = 1;

  readonly rooms: RoomSummary[] = $derived.by(() => this.summarise());

  constructor(private readonly origin: string) {}

  /** Opens the remembered account, if any, and resumes its session. */
  async init(): Promise<void> {
    void this.loadRules();
    const username = rememberedAccount();
    if (username === undefined) {
      this.phase = 'signed-out';
      return;
    }
    try {
      const client = await this.openClient(username);
      if (client.me !== undefined && client.isLoggedIn) {
        this.start(client);
        return;
      }
      await client.close();
    } catch {
      // A key store that cannot be opened is treated as no session; logging in again fixes it.
    }
    this.phase = 'signed-out';
  }

  /** Starts loading the client library while someone fills in the sign-in form. */
  prepare(): void {
    void loadClientLibrary();
  }

  async loadRules(): Promise<void> {
    if (this.rules !== undefined) return;
    try {
      const response = await fetch(`${this.origin}/api/auth/rules`);
      if (response.ok) this.rules = (await response.json()) as AccountRules;
    } catch {
      // The form still works; the server checks the rules anyway.
    }
  }

  /** With `email`, the server mails that address a verification link. */
  async signUp(username: string, password: string, email?: string): Promise<void> {
    const client = await this.openClient(username);
    try {
      await client.signUp({ username, password, email });
    } catch (error) {
      await client.close();
      throw error;
    }
    this.client = client;
    this.me = client.me;
    remember(client.me!.username);
    this.pending = { username, password };
    this.phase = 'backup';
  }

  /** Stores the encrypted key backup right after sign-up. */
  async completeBackup(passphrase: string): Promise<void> {
    const client = this.requireClient();
    await client.setUpBackup(passphrase, this.pending?.password);
    this.pending = undefined;
    this.backupMissing = false;
    this.start(client);
  }

  skipBackup(): void {
    this.pending = undefined;
    this.backupMissing = true;
    this.start(this.requireClient());
  }

  async logIn(username: string, password: string): Promise<void> {
    const client = await this.openClient(username);
    if (client.me === undefined) {
      // A new browser for this account: the keys come from the backup.
      this.client = client;
      this.pending = { username, password };
      this.phase = 'restore';
      return;
    }
    try {
      await client.logIn({ username, password });
    } catch (error) {
      await client.close();
      throw error;
    }
    remember(client.me.username);
    this.start(client);
  }

  async restore(passphrase: string): Promise<void> {
    const client = this.requireClient();
    const pending = this.pending;
    if (pending === undefined) throw new Error('restore: log in first');
    await client.restore({ ...pending, passphrase });
    this.pending = undefined;
    remember(client.me!.username);
    this.start(client);
  }

  /**
   * On the restore step, for someone who lost every device and the backup passphrase: logs in,
   * then starts a new identity (new keys, a new backup under `passphrase`). Contacts are warned
   * that the keys changed; the rooms from before stay unreadable.
   */
  async resetIdentity(passphrase: string): Promise<void> {
    const client = this.requireClient();
    const pending = this.pending;
    if (pending === undefined) throw new Error('resetIdentity: log in first');
    if (!client.isLoggedIn) await client.logIn(pending);
    await client.resetIdentity({ password: pending.password, passphrase });
    this.pending = undefined;
    this.backupMissing = false;
    remember(client.me!.username);
    this.start(client);
  }

  /** Back from the restore or backup step to the log-in form. */
  async cancelPending(): Promise<void> {
    this.pending = undefined;
    await this.client?.close();
    this.client = undefined;
    this.phase = 'signed-out';
  }

  async changePassphrase(current: string, next: string): Promise<void> {
    await this.requireClient().changePassphrase(current, next);
  }

  async setUpBackup(passphrase: string): Promise<void> {
    await this.requireClient().setUpBackup(passphrase);
    this.backupMissing = false;
  }

  /**
   * Ends the session (with `everywhere`, every session of the account on every device); with
   * `forget`, also erases this browser's keys (a backup restores them).
   */
  async logOut(options: { forget?: boolean; everywhere?: boolean } = {}): Promise<void> {
    const client = this.client;
    this.stop();
    if (client !== undefined) {
      if (options.everywhere === true) await client.logOutEverywhere({ forget: options.forget });
      else await client.logOut({ forget: options.forget });
      await client.close();
    }
    this.signedOut();
  }

  private signedOut(): void {
    forget();
    // The next sign-in starts at Home, not on whatever screen was open (Settings, after a log-out).
    void goto(resolve('/'), { replaceState: true });
    this.client = undefined;
    this.me = undefined;
    this.preferences = undefined;
    this.profiles?.close();
    this.profiles = undefined;
    this.notices = [];
    this.pendingJoins = {};
    this.phase = 'signed-out';
  }

  /** Do not disturb is one of these: others see the person busy and no notification shows. */
  setPresence(status: Exclude<PresenceStatus, 'offline'>): void {
    this.myPresence = status;
    // Kept in this browser's preferences, so do not disturb outlasts a reload.
    this.preferences?.setDoNotDisturb(status === 'dnd');
    this.client?.setPresence(status);
  }

  /**
   * Asks to join a channel. A member's browser lets this account in as soon as one is online:
   * the request waits for that (across reloads, since the server keeps it) until withdrawn.
   */
  async requestJoin(roomId: string, name: string): Promise<void> {
    await this.requireClient().requestJoin(roomId);
    this.pendingJoins = { ...this.pendingJoins, [roomId]: name };
  }

  async cancelJoin(roomId: string): Promise<void> {
    await this.requireClient().cancelJoin(roomId);
    const { [roomId]: _cancelled, ...rest } = this.pendingJoins;
    this.pendingJoins = rest;
  }

  notify(text: string, severity: Notice['severity'] = 'info', extra: Partial<Notice> = {}): void {
    const notice: Notice = { ...extra, id: this.nextNoticeId++, text, severity };
    this.notices = [...this.notices, notice].slice(-NOTICE_LIMIT);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((notice) => notice.id !== id);
  }

  /** A person's name as this browser knows it: their display name where they set one. */
  nameOf(userId: string): string {
    if (userId === this.me?.userId) return this.me.username;
    return (
      this.profileOf(userId)?.displayName ??
      this.client?.contact(userId)?.username ??
      `${userId.slice(0, 8)}…`
    );
  }

  /** A person's public profile, fetched the first time anyone asks. */
  profileOf(userId: string): KnownProfile | undefined {
    return this.profiles?.of(userId);
  }

  /** Marks a room's messages up to `seq` read, here and (as a receipt) for the senders. */
  markRead(roomId: string, seq: number): void {
    if (seq <= 0 || (this.readSent.get(roomId) ?? 0) >= seq) return;
    this.readSent.set(roomId, seq);
    void this.client?.markRead(roomId, seq).then(
      () => this.revision++,
      () => undefined,
    );
  }

  touch(): void {
    this.revision++;
  }

  requireClient(): Client {
    if (this.client === undefined) throw new Error('Session: no client');
    return this.client;
  }

  private async openClient(username: string): Promise<Client> {
    const name = username.trim().toLowerCase();
    const [{ createClient, IndexedDbKeyStore }, { deriveBackupKeyInWorker }] =
      await loadClientLibrary();
    return createClient({
      transport: { baseUrl: this.origin, fetch: this.watchedFetch, WebSocket },
      keyStore: await IndexedDbKeyStore.open(`parley:${name}`),
      deriveBackupKey: async (passphrase, salt, params) => {
        this.derivingKeySince = Date.now();
        try {
          return await deriveBackupKeyInWorker(passphrase, salt, params);
        } finally {
          this.derivingKeySince = undefined;
        }
      },
    });
  }

  /**
   * fetch, listening for the server saying this session is over: any 401 to a request made with
   * the session (its access token, or its refresh token at /api/auth/refresh), other than an
   * expired access token, which the client renews by itself. The socket says so too, but a page
   * whose socket is down, or that asks before the socket has heard, must not show a bare error.
   */
  private readonly watchedFetch: FetchLike = async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 401 && madeWithSession(input, init)) {
      const client = this.client;
      void response
        .clone()
        .json()
        .then(
          (answer: { error?: { code?: unknown } }) => answer.error?.code,
          () => undefined,
        )
        .then((code) => {
          if (code !== 'TOKEN_EXPIRED' && client !== undefined) {
            this.sessionEnded(client, typeof code === 'string' ? code : 'UNAUTHENTICATED');
          }
        });
    }
    return response;
  };

  /** The server ended this session (logged out elsewhere, the account deleted): back to log-in. */
  private sessionEnded(client: Client, reason: string): void {
    if (this.client !== client || this.phase !== 'ready') return;
    this.stop();
    // The sign-in screen at once: no screen of the account stays up to fail its next request.
    this.phase = 'signed-out';
    void client
      .logOut()
      .catch(() => undefined)
      .finally(() => client.close())
      .finally(() => {
        // Unless someone signed in again meanwhile.
        if (this.client !== client) return;
        this.signedOut();
        this.notify(signedOutText(reason), 'warning');
      });
  }

  private start(client: Client): void {
    this.client = client;
    this.me = client.me;
    this.preferences = new Preferences(client.me!.userId);
    this.profiles?.close();
    this.profiles = new Profiles(client);
    if (this.preferences.doNotDisturb) this.myPresence = 'dnd';
    else if (this.myPresence === 'dnd') this.myPresence = 'online';
    this.listen(client);
    client.connect();
    client.setPresence(this.myPresence);
    void client.pendingJoins().then(
      (requests) =>
        (this.pendingJoins = Object.fromEntries(requests.map((r) => [r.roomId, r.name]))),
      () => undefined,
    );
    // The server's view of each room (last activity) for a browser that has not seen it live.
    void client.refreshRooms().then(
      () => this.revision++,
      () => undefined,
    );
    this.phase = 'ready';
    this.revision++;
  }

  private stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  private listen(client: Client): void {
    this.stop();
    const on = <K extends keyof ClientEvents>(
      type: K,
      handler: (event: ClientEvents[K]) => void,
    ): void => {
      this.unsubscribe.push(client.on(type, handler));
    };
    on('message', (message) => {
      if (message.roomId === this.activeRoomId && document.visibilityState === 'visible') {
        this.markRead(message.roomId, message.seq);
      } else if (!message.own && message.payload.kind === 'text') {
        this.showBrowserNotification(message.roomId, message.senderName ?? 'Someone');
      }
      this.revision++;
    });
    for (const type of [
      'membership',
      'room-key',
      'removed',
      'acked',
      'admitted',
      'room-updated',
    ] as const) {
      on(type, () => this.revision++);
    }
    on('expired', (event) => {
      const name = this.rooms.find((room) => room.roomId === event.roomId)?.name ?? 'A room';
      this.notify(`${name} reached the end of its lifetime and was deleted, here too.`, 'info');
      if (this.activeRoomId === event.roomId) void goto(resolve('/'), { replaceState: true });
      this.revision++;
    });
    on('deleted', (event) => {
      const name = this.rooms.find((room) => room.roomId === event.roomId)?.name ?? 'A room';
      this.notify(`${name} was deleted by an admin, with its messages and files.`, 'info');
      if (this.activeRoomId === event.roomId) void goto(resolve('/'), { replaceState: true });
      this.revision++;
    });
    on('joined', (event) => {
      const name = this.pendingJoins[event.roomId];
      if (name === undefined) return;
      const { [event.roomId]: _admitted, ...rest } = this.pendingJoins;
      this.pendingJoins = rest;
      this.notify(`You were let in to #${name}.`, 'info', { roomId: event.roomId, open: true });
      this.revision++;
    });
    on('room-key', (event) => {
      // A key for a room this browser does not know yet: someone added this account to it.
      if (!client.listRooms().some((room) => room.roomId === event.roomId)) {
        void client.syncRooms().then(
          () => this.revision++,
          () => undefined,
        );
      }
    });
    on('verification-failed', (failure) => {
      this.notify(
        VERIFICATION_FAILURE_TEXT[failure.code] ?? failure.detail,
        failure.severity === 'critical' ? 'critical' : 'warning',
        { roomId: failure.roomId, userId: failure.userId, code: failure.code },
      );
      this.revision++;
    });
    on('send-failed', (event) => {
      const words = describeCode(event.code);
      this.notify(
        words === undefined
          ? `A message could not be sent (${event.code}).`
          : `A message could not be sent: ${words}`,
        'warning',
        { roomId: event.roomId },
      );
    });
    // Someone changed their name, status message or picture: show the new one without a reload.
    on('profile', (event) => void this.profiles?.refresh(event.userId));
    on('presence', (event) => {
      this.presence[event.userId] = event.status;
    });
    on('typing', (event) => {
      const room = { ...(this.typing[event.roomId] ?? {}) };
      if (event.active) room[event.userId] = Date.now() + 6000;
      else delete room[event.userId];
      this.typing[event.roomId] = room;
    });
    on('connection', (event) => {
      this.connection = event.state;
      if (event.state === 'open') void this.refreshContacts();
    });
    on('contact', (event) => {
      void this.refreshContacts().then((view) => {
        this.revision++;
        // Said once, when the request is there to answer (a frame alone is only a hint).
        const request = view?.incoming.find((item) => item.userId === event.userId);
        if (event.change === 'requested' && request !== undefined) {
          this.notify(`${request.username} asks to be your contact (People › Contacts).`, 'info');
        }
      });
    });
    on('signed-out', (event) => this.sessionEnded(client, event.reason));
  }

  /** An incoming call while this tab is in the background (the same rules as for messages). */
  notifyIncomingCall(roomId: string, caller: string, video: boolean): void {
    if (document.visibilityState === 'visible') return;
    this.showBrowserNotification(
      roomId,
      caller,
      `${caller} is calling you (${video ? 'video' : 'voice'})`,
    );
  }

  private showBrowserNotification(roomId: string, sender: string, body?: string): void {
    const preferences = this.preferences;
    if (preferences === undefined || !preferences.notifications) return;
    if (preferences.isMuted(roomId) || this.myPresence === 'dnd') return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const room = this.rooms.find((candidate) => candidate.roomId === roomId);
    // The text stays out of the notification: the operating system may keep or show it elsewhere.
    const notification = new Notification(room?.name ?? 'Parley', {
      body: body ?? `New message from ${sender}`,
      tag: roomId,
    });
    notification.onclick = () => {
      window.focus();
      location.hash = `#/rooms/${roomId}`;
    };
  }

  private summarise(): RoomSummary[] {
    void this.revision;
    const client = this.client;
    const preferences = this.preferences;
    const me = this.me;
    if (client === undefined || me === undefined || this.phase !== 'ready') return [];
    const summaries = client
      .listRooms()
      .map((room) => ({
        room,
        remover: room.members.has(me.userId)
          ? undefined
          : removedBy(client.membershipLog(room.roomId), me.userId),
      }))
      // Rooms left stay gone; a room someone removed this account from stays to say so.
      .filter(({ room, remover }) => room.members.has(me.userId) || remover !== undefined)
      .map(({ room, remover }): RoomSummary => {
        const peerId =
          room.kind === 'direct'
            ? [...room.members.keys()].find((id) => id !== me.userId)
            : undefined;
        return {
          roomId: room.roomId,
          kind: room.kind,
          name: peerId !== undefined ? this.nameOf(peerId) : (room.info.name ?? 'Untitled room'),
          topic: room.info.topic,
          tags: room.info.tags ?? [],
          // The server's count (kept up to date by the client), the same in every browser.
          unread: room.roomId === this.activeRoomId ? 0 : (room.unread ?? 0),
          lastActivity: room.lastActivity,
          muted: preferences?.isMuted(room.roomId) ?? false,
          canSend: room.canSend,
          member: remover === undefined,
          removedBy: remover,
          members: room.members,
          peerId,
          ephemeral: room.ephemeral === true,
          expiresAt: room.expiresAt,
          messageTimer: room.messageTimer,
        };
      });
    return summaries.sort((a, b) => (b.lastActivity ?? '').localeCompare(a.lastActivity ?? ''));
  }
}

/**
 * The client library, loaded on first use: libsodium and zxcvbn's dictionaries are most of the
 * app's weight, and the sign-in screen needs neither until the form is used.
 */
function loadClientLibrary() {
  return Promise.all([import('@parley/client'), import('../backup/derive')]);
}

function madeWithSession(input: string, init: RequestInit | undefined): boolean {
  return (
    new Headers(init?.headers).has('authorization') ||
    new URL(input).pathname === '/api/auth/refresh'
  );
}

function signedOutText(reason: string): string {
  return reason === 'ACCOUNT_DELETED'
    ? 'This account was deleted.'
    : 'You were signed out. Log in again.';
}

function rememberedAccount(): string | undefined {
  try {
    return localStorage.getItem(REMEMBERED_ACCOUNT) ?? undefined;
  } catch {
    return undefined;
  }
}

function remember(username: string): void {
  try {
    localStorage.setItem(REMEMBERED_ACCOUNT, username);
  } catch {
    // Without storage the session lasts for this visit only.
  }
}

function forget(): void {
  try {
    localStorage.removeItem(REMEMBERED_ACCOUNT);
  } catch {
    // Nothing to forget.
  }
}
