// One open conversation: its messages (verified and decrypted by the client), the delivery state of
// this browser's own messages, typing and older history. Created by the chat screen for the room on
// screen and disposed when it leaves.
import type {
  AttachmentDescriptor,
  MembershipLine,
  MessageActions,
  MessageState,
  OutgoingFile,
  ReceivedMessage,
  UploadProgress,
} from '@parley/client';
import { hasDisappeared } from '@parley/client/disappearing';
import { describeError } from '../failures';
import type { Session } from './session.svelte';

export type Delivery = 'sending' | 'sent' | 'delivered' | 'seen' | 'failed';

export interface ChatMessage {
  messageId: string;
  seq: number | undefined;
  senderId: string;
  text: string;
  /** Files sent with it: encrypted blobs, described (name, type, size, key) inside the message. */
  attachments: AttachmentDescriptor[];
  /** Milliseconds since 1970: the server's commit time when known, else the sender's clock. */
  time: number;
  /** The sender's signed clock and the server's commit time: when it disappears under a timer. */
  clientTime: number;
  sentAt: string | undefined;
  own: boolean;
  delivery: Delivery | undefined;
  /** Authentic, but some earlier messages of this sender never arrived. */
  afterGap: boolean;
  edited: boolean;
  /** Who deleted it for everyone (its author, or an admin). */
  deletedBy: string | undefined;
  /** The message it replies to. */
  replyTo: string | undefined;
  /** Each reaction with who gave it, most given first. */
  reactions: Reaction[];
  /** For an own message: the other members who have read it. */
  seenBy: string[];
}

export interface Reaction {
  emoji: string;
  userIds: string[];
}

const PAGE = 40;
/** Opening a search result reads forward from it to the newest message in pages of this many. */
const AFTER_PAGE = 100;
const AROUND_PAGES = 10;
/** How often the room's timer is applied to what is on screen. */
const DISAPPEAR_CHECK_MS = 1000;

export class ChatState {
  messages = $state<ChatMessage[]>([]);
  /** The room's membership changes, from its verified chain, shown as lines among the messages. */
  lines = $state.raw<MembershipLine[]>([]);
  loadingOlder = $state(false);
  reachedStart = $state(false);
  loaded = $state(false);
  error = $state<string | undefined>(undefined);
  /**
   * Each other member's markers, from the server's receipts at load and live receipts after:
   * the ticks are right after a reload or a restore, and a group says who has seen what.
   */
  private markers: Record<string, { read: number; delivered: number }> = {};
  private readonly unsubscribe: (() => void)[] = [];
  private readonly disappearing: ReturnType<typeof setInterval>;
  /** Which edits, deletes and reactions take effect (the client's rules, on verified messages). */
  private readonly actions: MessageActions;
  /**
   * Decrypted files as object URLs, by blob id: kept while the room is open, so a row scrolled
   * away and back shows its image again without another download.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache no view reads directly
  private readonly files = new Map<string, Promise<string>>();

  constructor(
    private readonly session: Session,
    readonly roomId: string,
  ) {
    const client = session.requireClient();
    this.actions = client.messageActions(roomId);
    this.unsubscribe.push(
      client.on('message', (message) => {
        if (message.roomId === roomId) this.add([message]);
      }),
      client.on('membership', (event) => {
        if (event.roomId === roomId) this.readLines();
      }),
      client.on('acked', (event) => {
        if (event.roomId !== roomId) return;
        this.update(event.messageId, (message) => {
          message.seq = event.seq;
          if (message.delivery === 'sending') message.delivery = 'sent';
        });
        this.refreshDelivery();
      }),
      client.on('send-failed', (event) => {
        if (event.roomId !== roomId) return;
        this.update(event.messageId, (message) => (message.delivery = 'failed'));
      }),
      client.on('receipt', (event) => {
        if (event.roomId !== roomId || event.userId === session.me?.userId) return;
        this.noteMarker(event.userId, event.kind === 'read' ? event.seq : 0, event.seq);
        this.refreshDelivery();
      }),
    );
    this.disappearing = setInterval(() => this.forgetDisappeared(), DISAPPEAR_CHECK_MS);
  }

  /** Takes off the screen what the room's timer made disappear (the client shows it no more). */
  private forgetDisappeared(): void {
    const room = this.session.rooms.find((candidate) => candidate.roomId === this.roomId);
    const timer = room?.messageTimer ?? 0;
    const now = Date.now();
    if (timer === 0 || !this.messages.some((message) => hasDisappeared(message, timer, now)))
      return;
    this.messages = this.messages.filter((message) => !hasDisappeared(message, timer, now));
  }

  get lastSeq(): number {
    let last = 0;
    for (const message of this.messages)
      if (message.seq !== undefined) last = Math.max(last, message.seq);
    return last;
  }

  /**
   * Loads the newest page; with `around` (a search result's seq), the page up to that message and
   * everything after it to the newest, so the list stays one unbroken run around it.
   */
  async load(around?: number): Promise<void> {
    const client = this.session.requireClient();
    this.readLines();
    // A room this account was removed from: the server keeps its history from former members,
    // so only the membership lines (this device's verified chain) are left to show.
    // (Asked of the client, not of the session's reactive room list: load() starts inside the
    // chat screen's effect, which would then run again whenever any room changed.)
    const me = this.session.me?.userId;
    const view = client.listRooms().find((room) => room.roomId === this.roomId);
    if (view !== undefined && me !== undefined && !view.members.has(me)) {
      this.reachedStart = true;
      this.loaded = true;
      return;
    }
    try {
      const [page, receipts] = await Promise.all([
        around === undefined
          ? client.history(this.roomId, { limit: PAGE })
          : this.pagesAround(around),
        client.receipts(this.roomId).catch(() => []),
      ]);
      for (const receipt of receipts) {
        if (receipt.userId === this.session.me?.userId) continue;
        this.noteMarker(receipt.userId, receipt.readSeq, receipt.deliveredSeq);
      }
      this.noteStart(page);
      this.add(page);
      // Messages of this browser still in the outbox (sent while offline, or before a reload).
      for (const pending of client.pendingMessages(this.roomId)) {
        if (this.messages.some((message) => message.messageId === pending.messageId)) continue;
        this.update(pending.messageId, (message) => (message.delivery = 'sending'));
      }
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.loaded = true;
    }
  }

  /** The PAGE messages up to `seq` and every one after it (at most AROUND_PAGES pages). */
  private async pagesAround(seq: number): Promise<ReceivedMessage[]> {
    const client = this.session.requireClient();
    const out = await client.history(this.roomId, { before: seq + 1, limit: PAGE });
    let after = seq;
    for (let page = 0; page < AROUND_PAGES; page++) {
      const next = await client.history(this.roomId, { after, limit: AFTER_PAGE });
      out.push(...next);
      const last = next.at(-1);
      if (next.length < AFTER_PAGE || last === undefined) break;
      after = last.seq;
    }
    return out;
  }

  async loadOlder(): Promise<number> {
    if (this.loadingOlder || this.reachedStart) return 0;
    const first = this.messages.find((message) => message.seq !== undefined)?.seq;
    if (first === undefined || first <= 1) {
      this.reachedStart = true;
      return 0;
    }
    this.loadingOlder = true;
    try {
      const page = await this.session
        .requireClient()
        .history(this.roomId, { before: first, limit: PAGE });
      this.noteStart(page);
      const before = this.messages.length;
      this.add(page);
      return this.messages.length - before;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Sends a message, as a reply to `replyTo` when given. */
  async send(text: string, replyTo?: string): Promise<void> {
    const client = this.session.requireClient();
    const { messageId } =
      replyTo === undefined
        ? await client.send(this.roomId, text)
        : await client.reply(this.roomId, replyTo, text);
    this.addOwn(messageId, text, [], replyTo);
  }

  // Edits, deletes and reactions take effect when the server's copy comes back, verified, like
  // everyone else's: what this browser shows is what the others see.
  async edit(messageId: string, text: string): Promise<void> {
    await this.session.requireClient().edit(this.roomId, messageId, text);
  }

  async remove(messageId: string): Promise<void> {
    await this.session.requireClient().deleteMessage(this.roomId, messageId);
  }

  /** Gives this account's reaction, or takes it back when it is the one already given. */
  async react(messageId: string, emoji: string): Promise<void> {
    const me = this.session.me?.userId;
    const current = this.messages
      .find((message) => message.messageId === messageId)
      ?.reactions.find((reaction) => me !== undefined && reaction.userIds.includes(me));
    const next = current?.emoji === emoji ? '' : emoji;
    await this.session.requireClient().react(this.roomId, messageId, next);
  }

  /** Encrypts each file on this device, uploads the blobs, then sends one message describing them. */
  async sendFiles(
    files: OutgoingFile[],
    text: string,
    onProgress: (progress: UploadProgress) => void,
  ): Promise<void> {
    const { messageId, attachments } = await this.session
      .requireClient()
      .sendFiles(this.roomId, files, text, { onProgress });
    this.addOwn(messageId, text, attachments);
  }

  /**
   * An object URL of the decrypted file (ATTACHMENT_HASH_MISMATCH and other failures reject, and
   * are tried again next time). Downloads are typed by `blobType`.
   */
  fileUrl(attachment: AttachmentDescriptor, blobType: string): Promise<string> {
    let url = this.files.get(attachment.blobId);
    if (url === undefined) {
      url = this.session
        .requireClient()
        .downloadAttachment(attachment)
        .then((data) =>
          URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: blobType })),
        );
      url.catch(() => this.files.delete(attachment.blobId));
      this.files.set(attachment.blobId, url);
    }
    return url;
  }

  dispose(): void {
    clearInterval(this.disappearing);
    for (const off of this.unsubscribe) off();
    for (const url of this.files.values()) void url.then(URL.revokeObjectURL, () => undefined);
    this.files.clear();
  }

  private readLines(): void {
    const client = this.session.requireClient();
    if (!client.listRooms().some((room) => room.roomId === this.roomId)) return;
    this.lines = client.membershipLog(this.roomId);
  }

  /** A message this browser just queued, shown until the server's copy replaces it. */
  private addOwn(
    messageId: string,
    text: string,
    attachments: AttachmentDescriptor[],
    replyTo?: string,
  ): void {
    if (this.messages.some((message) => message.messageId === messageId)) return;
    this.messages.push({
      messageId,
      seq: undefined,
      senderId: this.session.me!.userId,
      text,
      attachments,
      time: Date.now(),
      clientTime: Date.now(),
      sentAt: undefined,
      own: true,
      delivery: 'sending',
      afterGap: false,
      edited: false,
      deletedBy: undefined,
      replyTo,
      reactions: [],
      seenBy: [],
    });
  }

  /** The room's first message has sequence number 1; an empty page also means nothing is older. */
  private noteStart(page: ReceivedMessage[]): void {
    if (page.length === 0 || page.some((message) => message.seq <= 1)) this.reachedStart = true;
  }

  private add(received: ReceivedMessage[]): void {
    let changed = false;
    for (const message of received) {
      const touched = this.actions.add(message);
      if (message.payload.kind !== 'text') {
        for (const id of touched) this.update(id, (shown) => this.annotate(shown));
        continue;
      }
      const existing = this.messages.find((item) => item.messageId === message.messageId);
      if (existing !== undefined) {
        existing.seq = message.seq;
        if (message.sentAt !== undefined) existing.time = Date.parse(message.sentAt);
        existing.clientTime = message.clientTime;
        existing.sentAt = message.sentAt;
        if (existing.delivery === 'sending') existing.delivery = 'sent';
        this.annotate(existing);
        changed = true;
        continue;
      }
      this.messages.push({
        messageId: message.messageId,
        seq: message.seq,
        senderId: message.senderId,
        text: message.text,
        attachments: message.payload.attachments,
        time: message.sentAt !== undefined ? Date.parse(message.sentAt) : message.clientTime,
        clientTime: message.clientTime,
        sentAt: message.sentAt,
        own: message.own,
        delivery: message.own ? 'sent' : undefined,
        afterGap: message.status === 'gap',
        edited: false,
        deletedBy: undefined,
        replyTo: undefined,
        reactions: [],
        seenBy: [],
      });
      this.update(message.messageId, (shown) => this.annotate(shown));
      changed = true;
    }
    if (!changed) return;
    // Server order; messages still waiting for their sequence number stay last.
    this.messages.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
    this.refreshDelivery();
  }

  /** Shows what the room's edits, deletes and reactions did to `message`. */
  private annotate(message: ChatMessage): void {
    const state: MessageState | undefined = this.actions.get(message.messageId);
    if (state === undefined) return;
    message.text = state.text;
    message.edited = state.edited;
    message.deletedBy = state.deletedBy;
    if (state.deletedBy !== undefined) message.attachments = [];
    message.replyTo = state.replyTo;
    const byEmoji: Record<string, string[]> = {};
    for (const [userId, emoji] of state.reactions) (byEmoji[emoji] ??= []).push(userId);
    message.reactions = Object.entries(byEmoji)
      .map(([emoji, userIds]) => ({ emoji, userIds }))
      .sort((a, b) => b.userIds.length - a.userIds.length);
  }

  private update(messageId: string, change: (message: ChatMessage) => void): void {
    const message = this.messages.find((item) => item.messageId === messageId);
    if (message !== undefined) change(message);
  }

  private noteMarker(userId: string, read: number, delivered: number): void {
    const known = this.markers[userId] ?? { read: 0, delivered: 0 };
    this.markers[userId] = {
      read: Math.max(known.read, read),
      delivered: Math.max(known.delivered, delivered, read),
    };
  }

  /** Own messages: seen once every other member read them, delivered once all received them. */
  private refreshDelivery(): void {
    const me = this.session.me?.userId;
    const room = this.session.rooms.find((candidate) => candidate.roomId === this.roomId);
    const others = [...(room?.members.keys() ?? [])].filter((userId) => userId !== me);
    for (const message of this.messages) {
      if (!message.own || message.seq === undefined || message.delivery === 'failed') continue;
      const seq = message.seq;
      message.seenBy = others.filter((userId) => (this.markers[userId]?.read ?? 0) >= seq);
      const received = others.filter((userId) => (this.markers[userId]?.delivered ?? 0) >= seq);
      if (others.length > 0 && message.seenBy.length === others.length) message.delivery = 'seen';
      else if (others.length > 0 && received.length === others.length)
        message.delivery = 'delivered';
      else if (message.delivery !== 'sending') message.delivery = 'sent';
    }
  }
}
