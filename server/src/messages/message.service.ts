import { decodeMessageEnvelope, toHex } from '@parley/crypto';
import { MESSAGE_ENVELOPE_MAX_BYTES } from '@parley/wire';
import { toBase64Url } from '../codec';
import type { Db } from '../db/database';
import { parleyError, type ParleyError } from '../errors';
import type { Bus } from '../plugins/bus';
import { publishToRoom } from '../realtime/events';
import { blocksAmong, directPairsOf } from '../contacts/contact.repository';
import { commitBatch, type CommitOutcome, type PendingMessage } from './message.repository';

/** A message accepted for a room: its sequence number and when it was committed. */
export interface Accepted {
  roomId: string;
  messageId: string;
  seq: number;
  sentAt: Date;
}

export interface MessageService {
  /**
   * Checks an envelope (first line: it decodes, names this room and this sender), commits it and
   * resolves once committed, with its sequence number. A retry of a committed message resolves
   * with the original sequence number and is not relayed again. Throws a ParleyError.
   */
  send(
    roomId: string,
    senderId: string,
    envelope: Uint8Array,
    envelopeText?: string,
  ): Promise<Accepted>;
  /** The message id (hex) an envelope names, when it decodes: for the `ref` of an error frame. */
  messageIdOf(envelope: Uint8Array): string | undefined;
  /** Resolves when every message handed to `send` so far is committed or refused. */
  idle(): Promise<void>;
}

export interface MessageServiceOptions {
  db: Db;
  bus: Bus;
  /** Most messages committed in one transaction. */
  batchSize: number;
  onError?: (error: unknown) => void;
}

/**
 * Commits are batched: while one transaction runs, new messages queue, and the next transaction
 * takes them all (up to `batchSize`). A lone message commits at once; under load the cost of a
 * commit is shared by many messages, which is what lets every message be stored and acknowledged
 * after commit at the rate a bare relay would forward them.
 *
 * One transaction runs at a time, and the next starts as soon as the previous one answered,
 * before that one's messages are acknowledged and fanned out: the database commits a batch while
 * this process writes the previous one to the sockets. Its rooms' order is kept, since a batch
 * only starts once the one before it committed.
 */
export function createMessageService(options: MessageServiceOptions): MessageService {
  const { db, bus, batchSize } = options;
  const queue: Waiting[] = [];
  let running: Promise<void> | undefined;
  const recentEphemeral = new RecentIds(10_000);
  const blockGuard = new DirectBlockGuard(db);

  async function drain(): Promise<void> {
    if (queue.length === 0) return;
    let batch = queue.splice(0, batchSize);
    let committing = commit(batch);
    while (batch.length > 0) {
      const outcomes = await committing;
      // Before the next batch is read: a retry in it of an ephemeral message of this one must be
      // recognised.
      if (outcomes !== undefined) rememberEphemeral(batch, outcomes);
      const next = queue.splice(0, batchSize);
      if (next.length > 0) committing = commit(next);
      if (outcomes === undefined) {
        for (const waiting of batch) waiting.reject(parleyError('SERVER_BUSY'));
      } else {
        batch.forEach((waiting, index) => settle(waiting, outcomes[index]!));
      }
      batch = next;
    }
  }

  /** The batch's outcomes, or undefined when the commit failed (reported to onError). */
  async function commit(batch: Waiting[]): Promise<CommitOutcome[] | undefined> {
    try {
      const refusals = await blockGuard.refusals(batch.map((w) => w.message));
      const outcomes: (CommitOutcome | undefined)[] = batch.map((_, index) => {
        const code = refusals.get(index);
        return code === undefined ? undefined : { status: 'refused', code };
      });
      const open = batch.filter((_, index) => outcomes[index] === undefined);
      const committed =
        open.length === 0
          ? []
          : await commitBatch(
              db,
              open.map((w) => w.message),
              (roomId, messageId) => recentEphemeral.get(`${roomId}:${messageId}`),
            );
      let next = 0;
      return outcomes.map((outcome) => outcome ?? committed[next++]!);
    } catch (error) {
      options.onError?.(error);
      return undefined;
    }
  }

  function rememberEphemeral(batch: Waiting[], outcomes: CommitOutcome[]): void {
    batch.forEach(({ message }, index) => {
      const outcome = outcomes[index]!;
      if (outcome.status === 'stored' && outcome.ephemeral) {
        recentEphemeral.set(`${message.roomId}:${message.messageId}`, outcome.seq);
      }
    });
  }

  function kick(): void {
    if (running !== undefined) return;
    // The drain starts after this turn of the event loop has read every socket. PGlite runs a
    // commit synchronously, inside the microtasks that follow the first frame read; started from
    // there, each message would commit alone, and a commit costs the same for one message as for
    // dozens.
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(drain).finally(() => {
      running = undefined;
      // A message queued after the loop's last look and before this point needs a new round.
      if (queue.length > 0) kick();
    });
  }

  function settle(waiting: Waiting, outcome: CommitOutcome): void {
    const { roomId, messageId } = waiting.message;
    if (outcome.status === 'refused') {
      waiting.reject(parleyError(outcome.code));
      return;
    }
    const accepted = { roomId, messageId, seq: outcome.seq, sentAt: outcome.sentAt };
    if (outcome.status === 'stored') {
      publishToRoom(
        bus,
        roomId,
        outcome.ephemeral
          ? { t: 'message', seq: outcome.seq, ephemeral: true }
          : { t: 'message', seq: outcome.seq },
        messageFrame(roomId, outcome.seq, waiting.envelopeText, outcome.sentAt),
      );
    }
    waiting.resolve(accepted);
  }

  return {
    send(roomId, senderId, envelope, envelopeText) {
      // The frame schema bounds the envelope's text; this bounds callers that skip it.
      if (envelope.length > MESSAGE_ENVELOPE_MAX_BYTES) {
        return Promise.reject(parleyError('VALIDATION_FAILED', 'envelope: too large'));
      }
      let messageId: string;
      try {
        const { header } = decodeMessageEnvelope(envelope);
        if (toHex(header.roomId) !== roomId) {
          throw parleyError('MESSAGE_INVALID', 'The envelope names another room');
        }
        if (toHex(header.senderId) !== senderId) {
          throw parleyError('MESSAGE_INVALID', 'The envelope names another sender');
        }
        if (header.version !== 1) {
          throw parleyError('MESSAGE_INVALID', 'Unsupported message version');
        }
        messageId = toHex(header.messageId);
      } catch (error) {
        if ((error as ParleyError).code === 'MESSAGE_INVALID') return Promise.reject(error);
        return Promise.reject(parleyError('MESSAGE_INVALID', 'The envelope does not decode'));
      }
      return new Promise<Accepted>((resolve, reject) => {
        queue.push({
          message: { roomId, senderId, messageId, envelope },
          envelopeText: envelopeText ?? toBase64Url(envelope),
          resolve,
          reject,
        });
        kick();
      });
    },

    messageIdOf(envelope) {
      try {
        return toHex(decodeMessageEnvelope(envelope).header.messageId);
      } catch {
        return undefined;
      }
    },

    async idle() {
      while (running !== undefined) await running;
    },
  };
}

/** The `message` frame, encoded once for every socket it goes to. */
export function messageFrame(roomId: string, seq: number, envelope: string, sentAt: Date): string {
  return `{"type":"message","room":"${roomId}","seq":${seq},"envelope":"${envelope}","sentAt":"${sentAt.toISOString()}"}`;
}

interface Waiting {
  message: PendingMessage;
  envelopeText: string;
  resolve(accepted: Accepted): void;
  reject(error: ParleyError): void;
}

/**
 * Ephemeral rooms store nothing, so a retry is recognised only while its id is remembered here:
 * the most recent ids, per process.
 */
class RecentIds {
  private readonly entries = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  get(key: string): number | undefined {
    return this.entries.get(key);
  }

  set(key: string, seq: number): void {
    this.entries.set(key, seq);
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }
}

/**
 * Refuses messages in direct conversations across a block: DIRECT_REFUSED to the blocked party
 * (what a contacts-only setting says too), USER_BLOCKED to the one who blocked. A room's kind and
 * pair never change, so they are remembered per process and only batches with a direct room
 * query the blocks, one query per batch. A message committed while a block is being stored may
 * still go through; the next one is refused.
 */
class DirectBlockGuard {
  private readonly pairs = new Map<string, string | null>();
  private static readonly CAPACITY = 50_000;

  constructor(private readonly db: Db) {}

  /** The refusal of each message that has one, by its index in `batch`. */
  async refusals(
    batch: readonly PendingMessage[],
  ): Promise<Map<number, 'DIRECT_REFUSED' | 'USER_BLOCKED'>> {
    const unknown = [...new Set(batch.map((m) => m.roomId))].filter((id) => !this.pairs.has(id));
    if (unknown.length > 0) {
      if (this.pairs.size + unknown.length > DirectBlockGuard.CAPACITY) this.pairs.clear();
      for (const [roomId, pair] of await directPairsOf(this.db, unknown)) {
        this.pairs.set(roomId, pair);
      }
    }
    const refusals = new Map<number, 'DIRECT_REFUSED' | 'USER_BLOCKED'>();
    const direct = new Map<string, readonly [string, string]>();
    for (const message of batch) {
      const pair = this.pairs.get(message.roomId);
      if (pair === undefined || pair === null) continue;
      direct.set(pair, pair.split(':') as [string, string]);
    }
    if (direct.size === 0) return refusals;
    const blocks = await blocksAmong(this.db, [...direct.values()]);
    if (blocks.length === 0) return refusals;
    batch.forEach((message, index) => {
      const pair = this.pairs.get(message.roomId);
      if (pair === undefined || pair === null) return;
      const [a, b] = pair.split(':');
      const between = blocks.filter(
        (block) =>
          (block.blocker === a && block.blocked === b) ||
          (block.blocker === b && block.blocked === a),
      );
      if (between.length === 0) return;
      const blocker = between.some((block) => block.blocker === message.senderId);
      refusals.set(index, blocker ? 'USER_BLOCKED' : 'DIRECT_REFUSED');
    });
    return refusals;
  }
}
