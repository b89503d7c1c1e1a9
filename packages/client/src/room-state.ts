// What one device knows of one room, all of it derived from verified data: the membership chain
// (PROTOCOL.md §5) replayed here gives members, roles and the epoch; room keys enter only through
// envelopes from entitled distributors (§4, §5.4); each sender's counters and hashes classify every
// message (§6.5). The server's word is used for nothing but ordering (seq) and timestamps.
import {
  classifyMessage,
  createMembershipEntry,
  decodeMembershipEntry,
  decodeRoomKeyEnvelope,
  fromHex,
  isMemberAtEpoch,
  mayDistribute,
  membershipEntryHash,
  openMessage,
  openRoomKeyEnvelope,
  toHex,
  verifyMembershipChain,
  CryptoError,
  type ChainCheckpoint,
  type EncryptionKeyPair,
  type IdentityKeyLookup,
  type IdentityKeyPair,
  type MembershipOp,
  type MembershipState,
  type MessageStatus,
  type OpenedMessage,
  type Role,
  type RoomKind,
  type SenderState,
} from '@parley/crypto';
import type { StoredValue } from './key-store/key-store';
import type { Clock } from './options';
import { decodeRoom, encodeRoom } from './room-record';

/** How many of each sender's most recent counters a device remembers to classify replays. */
export const REMEMBERED_COUNTERS = 256;
/** How many undecryptable messages (key not here yet) a room keeps to retry when keys arrive. */
export const MAX_HELD_MESSAGES = 500;

/** Room metadata as the server describes it (public: channel names and topics are, by design). */
export interface RoomInfo {
  name?: string | undefined;
  topic?: string | undefined;
  tags?: string[] | undefined;
}

export interface OpenResult {
  message: OpenedMessage;
  status: MessageStatus;
  /** For a gap: the counters that never arrived. */
  missing?: { from: number; to: number };
  /** For a duplicate: the sequence number the first copy came with (0 when not known). */
  seenAtSeq?: number | undefined;
}

/** A message that verified but could not be decrypted yet, kept until its epoch key arrives. */
export interface HeldMessage {
  seq: number;
  envelope: Uint8Array;
  sentAt: string | undefined;
}

export interface SenderMemory {
  highest: number;
  /** counter → [message hash, that message's prevHash, the server's seq it came with (0: unknown)]. */
  seen: Map<number, [Uint8Array, Uint8Array, number]>;
}

/** What the server says about a room besides its verified contents (advisory). */
export interface RoomSummary {
  unread: number;
  readSeq: number;
  /** The newest seq the server's `unread` already counts: messages up to it add nothing. */
  countedUpTo: number;
  lastActivity: string;
  ephemeral: boolean;
  expiresAt: string | null;
}

export class RoomState {
  readonly roomId: string;
  readonly roomIdBytes: Uint8Array;
  info: RoomInfo = {};
  /** The server's unread count, read marker and activity; undefined until it has answered. */
  summary: RoomSummary | undefined;
  /** The highest server sequence number processed in order. */
  lastSeq = 0;
  private entries: Uint8Array[] = [];
  private states: MembershipState[] = [];
  private checkpoint: ChainCheckpoint | undefined;
  private readonly epochKeys = new Map<number, Uint8Array>();
  private readonly senders = new Map<string, SenderMemory>();
  private own: { counter: number; lastHash: Uint8Array | undefined } = {
    counter: 0,
    lastHash: undefined,
  };
  private held: HeldMessage[] = [];
  /** When the server stored each chain entry, by position (advisory, for display). */
  readonly chainTimes = new Map<number, string>();

  constructor(roomId: string) {
    this.roomId = roomId;
    this.roomIdBytes = fromHex(roomId);
  }

  // ----- membership -----

  get kind(): RoomKind | undefined {
    return this.states.at(-1)?.kind;
  }

  /** The epoch of the newest verified position; -1 before any chain is known. */
  get epoch(): number {
    return this.states.at(-1)?.epoch ?? -1;
  }

  get head(): ChainCheckpoint | undefined {
    const state = this.states.at(-1);
    return state === undefined ? undefined : { position: state.position, hash: state.hash };
  }

  /** Seconds after which messages disappear, as the newest verified state says; 0 for never. */
  get timer(): number {
    return this.states.at(-1)?.timer ?? 0;
  }

  /** The verified chain's entries, in position order. */
  get chain(): readonly Uint8Array[] {
    return this.entries;
  }

  members(): ReadonlyMap<string, Role> {
    return this.states.at(-1)?.members ?? new Map();
  }

  isMember(userId: string): boolean {
    return this.members().has(userId);
  }

  roleOf(userId: string): Role | undefined {
    return this.members().get(userId);
  }

  /** The direct conversation's other party, as the genesis entry names it. */
  peerOf(userId: string): string | undefined {
    if (this.kind !== 'direct') return undefined;
    return [...this.members().keys()].find((member) => member !== userId);
  }

  /** Every user that has acted or been acted upon in the chain (whose keys verification needs). */
  participants(): Set<string> {
    const users = new Set<string>();
    for (const state of this.states) for (const member of state.members.keys()) users.add(member);
    for (const bytes of this.entries) users.add(toHex(decodeMembershipEntry(bytes).actorId));
    return users;
  }

  /**
   * Replaces the chain by `entries` after verifying all of it (§5.3) against the checkpoint this
   * device verified before, so a server that rewrites or shortens history is caught (CHAIN_FORK).
   * Throws the CryptoError of the first failing entry and keeps the old chain then.
   */
  applyChain(entries: readonly Uint8Array[], identityKeyOf: IdentityKeyLookup): number {
    const states = verifyMembershipChain(entries, this.roomIdBytes, identityKeyOf, this.checkpoint);
    const added = states.length - this.states.length;
    this.entries = entries.map((entry) => entry.slice());
    this.states = states;
    const head = states.at(-1);
    if (head !== undefined) this.checkpoint = { position: head.position, hash: head.hash };
    return added;
  }

  /** Verifies `entries` as this room's next chain (as applyChain does) without taking it. */
  checkChain(entries: readonly Uint8Array[], identityKeyOf: IdentityKeyLookup): void {
    verifyMembershipChain(entries, this.roomIdBytes, identityKeyOf, this.checkpoint);
  }

  /** Gives entries the server did not date (this device's own, say) the time it saw them. */
  dateUndated(clock: Clock): void {
    const now = new Date(clock.now()).toISOString();
    for (let position = 0; position < this.entries.length; position++) {
      if (!this.chainTimes.has(position)) this.chainTimes.set(position, now);
    }
  }

  /** The user ids that act in `entries` (to look their keys up before verifying). */
  static actorsOf(entries: readonly Uint8Array[]): Set<string> {
    const actors = new Set<string>();
    for (const entry of entries) {
      try {
        const decoded = decodeMembershipEntry(entry);
        actors.add(toHex(decoded.actorId));
        if (decoded.subjectId.length > 0) actors.add(toHex(decoded.subjectId));
      } catch {
        // Verification reports the malformed entry with its position.
      }
    }
    return actors;
  }

  /** Signs the next membership entry after the verified head (the server appends it). */
  nextEntry(
    actorId: string,
    actor: IdentityKeyPair,
    op: Exclude<MembershipOp, 'genesis'>,
    subjectId: string,
    timer?: number,
  ): Uint8Array {
    const previous = this.head;
    if (previous === undefined) {
      throw new CryptoError('INVALID_ARGUMENT', 'nextEntry', 'the room has no verified chain yet');
    }
    return createMembershipEntry({
      roomId: this.roomIdBytes,
      previous,
      actorId: fromHex(actorId),
      actor,
      op,
      subjectId: fromHex(subjectId),
      ...(timer === undefined ? {} : { timer }),
    });
  }

  /** Whether `entry` is already the entry at its position in the verified chain. */
  hasEntry(entry: Uint8Array): boolean {
    const decoded = decodeMembershipEntry(entry);
    const mine = this.states[decoded.position];
    return mine !== undefined && equalBytes(mine.hash, membershipEntryHash(entry));
  }

  // ----- room keys -----

  roomKey(epoch: number): Uint8Array | undefined {
    return this.epochKeys.get(epoch);
  }

  /** The key to send with: the current epoch's. */
  currentKey(): { epoch: number; key: Uint8Array } | undefined {
    const key = this.epochKeys.get(this.epoch);
    return key === undefined ? undefined : { epoch: this.epoch, key };
  }

  knownEpochs(): number[] {
    return [...this.epochKeys.keys()].sort((a, b) => a - b);
  }

  /** Stores a key this device generated itself (it is sealed to every member, itself included). */
  setRoomKey(epoch: number, key: Uint8Array): void {
    this.epochKeys.set(epoch, key.slice());
  }

  /**
   * Opens an envelope with the checks of §4, the distributor's entitlement taken from the verified
   * chain (§5.4). Returns the epoch, and whether the key is new to this device. A second, different
   * key for an epoch already known is ignored: messages are read with the first one.
   */
  acceptEnvelope(
    bytes: Uint8Array,
    me: { userId: string; keyPair: EncryptionKeyPair },
    identityKeyOf: IdentityKeyLookup,
  ): { epoch: number; added: boolean } {
    const { epoch } = decodeRoomKeyEnvelope(bytes);
    const key = openRoomKeyEnvelope(bytes, {
      roomId: this.roomIdBytes,
      epoch,
      recipientId: fromHex(me.userId),
      recipientKeyPair: me.keyPair,
      distributorIdentityKey: identityKeyOf,
      distributorEntitled: (distributorId, recipientId, e) =>
        mayDistribute(this.states, e, distributorId, recipientId),
    });
    if (this.epochKeys.has(epoch)) return { epoch, added: false };
    this.epochKeys.set(epoch, key);
    return { epoch, added: true };
  }

  // ----- messages -----

  /**
   * Verifies, decrypts and classifies a message (§6.5). Throws the CryptoError of steps 1 to 4; a
   * duplicate or fork is returned as a status, and then nothing is recorded. For a duplicate,
   * `seenAtSeq` is the sequence number the first copy came with: the same one means the device is
   * reading history it has read before, another one means the server delivered it twice.
   */
  open(bytes: Uint8Array, identityKeyOf: IdentityKeyLookup, seq = 0): OpenResult {
    const message = openMessage(bytes, {
      roomId: this.roomIdBytes,
      identityKeyOf,
      senderIsMember: (senderId, epoch) => isMemberAtEpoch(this.states, epoch, senderId),
      roomKeyOf: (epoch) => this.epochKeys.get(epoch),
    });
    const { header, messageHash } = message;
    const senderId = toHex(header.senderId);
    const memory = this.senders.get(senderId) ?? { highest: 0, seen: new Map() };
    const senderState: SenderState = {
      highest: memory.highest,
      hashes: new Map([...memory.seen].map(([counter, [hash]]) => [counter, hash])),
    };
    let { status } = classifyMessage(senderState, header, messageHash);
    // classifyMessage checks a message against the one before it; arriving late (history paged
    // backwards), it must also be the one the next message names as its predecessor.
    const next = memory.seen.get(header.counter + 1);
    if (status === 'out-of-order' && next !== undefined && !equalBytes(next[1], messageHash)) {
      status = 'fork';
    }
    const result: OpenResult = { message, status };
    if (status === 'duplicate') result.seenAtSeq = memory.seen.get(header.counter)?.[2];
    if (status === 'gap') result.missing = { from: memory.highest + 1, to: header.counter - 1 };
    if (status === 'new' || status === 'gap' || status === 'out-of-order') {
      memory.seen.set(header.counter, [messageHash, header.prevHash, seq]);
      memory.highest = Math.max(memory.highest, header.counter);
      prune(memory);
      this.senders.set(senderId, memory);
    }
    return result;
  }

  /** Counter and prevHash for this device's next message in the room. */
  nextOutgoing(myId: string): { counter: number; prevHash: Uint8Array | undefined } {
    // A restored device learns its own last message from history (it arrives like anyone's).
    const seen = this.senders.get(myId);
    if (seen !== undefined && seen.highest > this.own.counter) {
      const last = seen.seen.get(seen.highest);
      if (last !== undefined) this.own = { counter: seen.highest, lastHash: last[0] };
    }
    return { counter: this.own.counter + 1, prevHash: this.own.lastHash };
  }

  recordOutgoing(counter: number, messageHash: Uint8Array): void {
    this.own = { counter, lastHash: messageHash.slice() };
  }

  /** Notes a processed sequence number; returns false when it was processed already. */
  noteSeq(seq: number): boolean {
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    return true;
  }

  hold(message: HeldMessage): void {
    if (this.held.some((held) => held.seq === message.seq)) return;
    this.held.push({ ...message, envelope: message.envelope.slice() });
    this.held.sort((a, b) => a.seq - b.seq);
    if (this.held.length > MAX_HELD_MESSAGES)
      this.held.splice(0, this.held.length - MAX_HELD_MESSAGES);
  }

  /** Takes out the held messages (the caller holds again those that still cannot be opened). */
  /**
   * What the room's timer made disappear by `now` (PROTOCOL.md §6.6): held messages the server
   * stored more than the timer ago, and the keys of epochs that ended more than the timer ago (no
   * message this device may still show needs them). Returns whether anything went.
   */
  forgetDisappeared(now: number): boolean {
    const timer = this.timer;
    if (timer === 0) return false;
    const cutoff = now - timer * 1000;
    const heldBefore = this.held.length;
    this.held = this.held.filter(
      (held) => held.sentAt === undefined || Date.parse(held.sentAt) > cutoff,
    );
    let forgotten = heldBefore - this.held.length;
    for (const epoch of [...this.epochKeys.keys()]) {
      if (epoch >= this.epoch) continue;
      // The epoch ended at the first position of the next one.
      const end = this.states.find((state) => state.epoch > epoch);
      const endedAt = end === undefined ? undefined : this.chainTimes.get(end.position);
      if (endedAt !== undefined && Date.parse(endedAt) <= cutoff) {
        this.epochKeys.delete(epoch);
        forgotten++;
      }
    }
    return forgotten > 0;
  }

  takeHeld(): HeldMessage[] {
    const held = this.held;
    this.held = [];
    return held;
  }

  get heldCount(): number {
    return this.held.length;
  }

  // ----- persistence -----

  toRecord(): StoredValue {
    return encodeRoom({
      roomId: this.roomId,
      info: this.info,
      lastSeq: this.lastSeq,
      chain: this.entries,
      checkpoint: this.checkpoint,
      epochKeys: this.epochKeys,
      senders: this.senders,
      own: this.own,
      held: this.held,
      chainTimes: this.chainTimes,
    });
  }

  /**
   * Rebuilds a room from its record, re-verifying the stored chain with the pinned keys. A chain
   * that no longer verifies is dropped (the checkpoint stays, so a refetch must agree with it).
   */
  static fromRecord(value: StoredValue, identityKeyOf: IdentityKeyLookup): RoomState {
    const stored = decodeRoom(value);
    const room = new RoomState(stored.roomId);
    room.info = stored.info;
    room.lastSeq = stored.lastSeq;
    room.checkpoint = stored.checkpoint;
    for (const [epoch, key] of stored.epochKeys) room.epochKeys.set(epoch, key);
    for (const [sender, memory] of stored.senders) room.senders.set(sender, memory);
    room.own = stored.own;
    room.held = stored.held;
    for (const [position, at] of stored.chainTimes) room.chainTimes.set(position, at);
    try {
      room.applyChain(stored.chain, identityKeyOf);
    } catch {
      room.entries = [];
      room.states = [];
    }
    return room;
  }
}

function prune(memory: SenderMemory): void {
  if (memory.seen.size <= REMEMBERED_COUNTERS) return;
  const counters = [...memory.seen.keys()].sort((a, b) => a - b);
  for (const counter of counters.slice(0, counters.length - REMEMBERED_COUNTERS)) {
    memory.seen.delete(counter);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
