// Messages this device has encrypted and signed but the server has not acknowledged. Each entry
// keeps the exact envelope bytes, so every retry carries the same message id, counter and hash and
// the server's deduplication (and the receivers' classification) see one message, however many
// reconnects it takes. Entries live in the key store, so a restart resends them too.
import { fromBase64Url, toBase64Url } from '@parley/crypto';
import type { KeyStore, KeyStoreChange, StoredValue } from './key-store/key-store';

export interface OutboxEntry {
  roomId: string;
  messageId: string;
  /** The sender counter inside the envelope: entries of a room go out in this order. */
  counter: number;
  envelope: Uint8Array;
  createdAt: number;
  /** Sends so far. */
  attempts: number;
  /** When the entry may be sent again (0: now). */
  notBefore: number;
}

export interface RetryPolicy {
  /** The wait after the first send; doubled after each further one. */
  firstRetryMs: number;
  maxRetryMs: number;
}

const PREFIX = 'outbox:';

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();

  private constructor(
    private readonly store: KeyStore,
    private readonly policy: RetryPolicy,
  ) {}

  static async load(store: KeyStore, policy: RetryPolicy): Promise<Outbox> {
    const outbox = new Outbox(store, policy);
    for (const key of await store.keys(PREFIX)) {
      const record = await store.get(key);
      if (record === undefined) continue;
      const entry = decodeEntry(record);
      // A restart is a new connection: everything pending is due at once.
      outbox.entries.set(entry.messageId, { ...entry, notBefore: 0 });
    }
    return outbox;
  }

  /**
   * The key-store change that adds `entry`; the caller writes it in the same batch as the room
   * state that advanced the sender counter, so the two can never disagree after a crash.
   */
  addition(entry: Omit<OutboxEntry, 'attempts' | 'notBefore'>): {
    change: KeyStoreChange;
    commit: () => void;
  } {
    const full: OutboxEntry = {
      ...entry,
      envelope: entry.envelope.slice(),
      attempts: 0,
      notBefore: 0,
    };
    return {
      change: [PREFIX + entry.messageId, encodeEntry(full)],
      commit: () => this.entries.set(entry.messageId, full),
    };
  }

  get(messageId: string): OutboxEntry | undefined {
    return this.entries.get(messageId);
  }

  /** Every pending entry, oldest first, in counter order within a room. */
  pending(roomId?: string): OutboxEntry[] {
    return [...this.entries.values()]
      .filter((entry) => roomId === undefined || entry.roomId === roomId)
      .sort((a, b) => (a.roomId === b.roomId ? a.counter - b.counter : a.createdAt - b.createdAt));
  }

  /** The entries to send now: due ones, and in each room only up to the first that is not due. */
  due(now: number, roomIds?: ReadonlySet<string>): OutboxEntry[] {
    const blocked = new Set<string>();
    const due: OutboxEntry[] = [];
    for (const entry of this.pending()) {
      if (roomIds !== undefined && !roomIds.has(entry.roomId)) continue;
      if (blocked.has(entry.roomId)) continue;
      if (entry.notBefore > now) {
        // Later messages of the room wait too: sending them first would make a gap for receivers.
        blocked.add(entry.roomId);
        continue;
      }
      due.push(entry);
    }
    return due;
  }

  /** Records a send; the next one is due after the backoff. Kept in memory only (cheap, frequent). */
  markSent(messageId: string, now: number): void {
    const entry = this.entries.get(messageId);
    if (entry === undefined) return;
    entry.attempts += 1;
    const wait = Math.min(
      this.policy.firstRetryMs * 2 ** (entry.attempts - 1),
      this.policy.maxRetryMs,
    );
    entry.notBefore = now + wait;
  }

  /** A new connection: every pending entry goes out again now, in order. */
  resetBackoff(): void {
    for (const entry of this.entries.values()) entry.notBefore = 0;
  }

  /** The earliest time something becomes due, for the retry timer. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const entry of this.entries.values()) {
      if (next === undefined || entry.notBefore < next) next = entry.notBefore;
    }
    return next;
  }

  /** The server acknowledged (committed) the message, or refused it for good: it leaves. */
  async remove(messageId: string): Promise<OutboxEntry | undefined> {
    const entry = this.entries.get(messageId);
    if (entry === undefined) return undefined;
    this.entries.delete(messageId);
    await this.store.delete(PREFIX + messageId);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

function encodeEntry(entry: OutboxEntry): StoredValue {
  return {
    roomId: entry.roomId,
    messageId: entry.messageId,
    counter: entry.counter,
    envelope: toBase64Url(entry.envelope),
    createdAt: entry.createdAt,
    attempts: entry.attempts,
  };
}

function decodeEntry(value: StoredValue): OutboxEntry {
  const record = value as Record<string, StoredValue>;
  return {
    roomId: String(record.roomId),
    messageId: String(record.messageId),
    counter: Number(record.counter),
    envelope: fromBase64Url(String(record.envelope)),
    createdAt: Number(record.createdAt),
    attempts: Number(record.attempts),
    notBefore: 0,
  };
}
