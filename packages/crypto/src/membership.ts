// The membership chain (PROTOCOL.md §5): signed entries, each holding the hash of the one before,
// from which clients derive the member list instead of trusting the server's.
import {
  ID_BYTES,
  ascii,
  assertBytes,
  assertOneOf,
  assertU64,
  bytesEqual,
  canon,
  decodeCanon,
  expectLength,
  readAscii,
  readU64,
  toHex,
  u64,
  type CanonFields,
} from './encoding';
import { CryptoError } from './errors';
import { assertIdentityKeyPair, type IdentityKeyPair } from './identity';
import type { IdentityKeyLookup } from './room-keys';
import { HASH_BYTES, SIGNATURE_BYTES, SIGN_PUBLIC_BYTES, hash, sign, verify } from './sodium';

export const ROOM_KINDS = ['channel', 'group', 'direct'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];
export type Role = 'admin' | 'member';
export const MEMBERSHIP_OPS = [
  'genesis',
  'add',
  'admit',
  'remove',
  'promote',
  'demote',
  'leave',
  'set-timer',
] as const;
export type MembershipOp = (typeof MEMBERSHIP_OPS)[number];

/** The longest message timer a `set-timer` entry may set: a year, in seconds. */
export const MAX_MESSAGE_TIMER_SECONDS = 365 * 24 * 60 * 60;

export const LABEL_ROOM_POLICY = 'parley/v1/room-policy';
export const LABEL_MEMBERSHIP = 'parley/v1/membership';
export const LABEL_MEMBERSHIP_ENTRY = 'parley/v1/membership-entry';
export const LABEL_MEMBERSHIP_HASH = 'parley/v1/membership-hash';
export const LABEL_MESSAGE_TIMER = 'parley/v1/message-timer';

export interface MembershipEntry {
  roomId: Uint8Array;
  position: number;
  /** Empty for the genesis entry, else 32 bytes. */
  prevHash: Uint8Array;
  actorId: Uint8Array;
  op: MembershipOp;
  /** Empty for genesis, else 16 bytes. */
  subjectId: Uint8Array;
  data: Uint8Array;
  /** The signed body, as it was encoded. */
  body: Uint8Array;
  signature: Uint8Array;
}

export interface MembershipState {
  position: number;
  /** hash(entry) of the entry at this position. */
  hash: Uint8Array;
  epoch: number;
  kind: RoomKind;
  /** User id (lowercase hex) to role. */
  members: ReadonlyMap<string, Role>;
  /** Seconds after which messages disappear (`set-timer`); 0 for never. */
  timer: number;
}

/** The position and hash of the newest entry a client verified before (§5.3). */
export interface ChainCheckpoint {
  position: number;
  hash: Uint8Array;
}

export interface GenesisInput {
  roomId: Uint8Array;
  kind: RoomKind;
  /** The other party of a direct conversation; absent for channels and groups. */
  peerId?: Uint8Array;
  actorId: Uint8Array;
  actor: IdentityKeyPair;
}

export interface MembershipEntryInput {
  roomId: Uint8Array;
  /** The entry this one follows. */
  previous: ChainCheckpoint;
  actorId: Uint8Array;
  actor: IdentityKeyPair;
  op: Exclude<MembershipOp, 'genesis'>;
  subjectId: Uint8Array;
  /** For `set-timer` only: the new message timer in seconds (0 turns it off). */
  timer?: number;
}

export function createGenesis(input: GenesisInput): Uint8Array {
  const operation = 'createGenesis';
  assertBytes(input.roomId, operation, 'roomId', ID_BYTES);
  const kind = assertOneOf(input.kind, ROOM_KINDS, operation, 'kind');
  assertBytes(input.actorId, operation, 'actorId', ID_BYTES);
  assertIdentityKeyPair(input.actor, operation);
  let peerId: Uint8Array = new Uint8Array();
  if (kind === 'direct') {
    peerId = assertBytes(input.peerId, operation, 'peerId', ID_BYTES);
    if (bytesEqual(peerId, input.actorId)) {
      throw new CryptoError(
        'INVALID_ARGUMENT',
        operation,
        'peerId: a direct conversation needs two people',
      );
    }
  } else if (input.peerId !== undefined) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `peerId: only a direct conversation has a peer`,
    );
  }
  const data = canon(LABEL_ROOM_POLICY, [ascii(kind), peerId]);
  return signEntry(
    input.roomId,
    0,
    new Uint8Array(),
    input.actorId,
    'genesis',
    new Uint8Array(),
    data,
    input.actor,
  );
}

export function createMembershipEntry(input: MembershipEntryInput): Uint8Array {
  const operation = 'createMembershipEntry';
  assertBytes(input.roomId, operation, 'roomId', ID_BYTES);
  assertU64(input.previous?.position, operation, 'previous.position');
  assertBytes(input.previous.hash, operation, 'previous.hash', HASH_BYTES);
  assertBytes(input.actorId, operation, 'actorId', ID_BYTES);
  assertIdentityKeyPair(input.actor, operation);
  const op = assertOneOf(input.op, MEMBERSHIP_OPS.slice(1), operation, 'op');
  assertBytes(input.subjectId, operation, 'subjectId', ID_BYTES);
  if ((op === 'leave' || op === 'set-timer') && !bytesEqual(input.subjectId, input.actorId)) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `subjectId: ${op} names the actor as its subject`,
    );
  }
  let data: Uint8Array = new Uint8Array();
  if (op === 'set-timer') {
    const timer = assertU64(input.timer, operation, 'timer');
    if (timer > MAX_MESSAGE_TIMER_SECONDS) {
      throw new CryptoError('INVALID_ARGUMENT', operation, 'timer: at most a year');
    }
    data = canon(LABEL_MESSAGE_TIMER, [u64(timer)]);
  } else if (input.timer !== undefined) {
    throw new CryptoError('INVALID_ARGUMENT', operation, `timer: only set-timer sets a timer`);
  }
  return signEntry(
    input.roomId,
    input.previous.position + 1,
    input.previous.hash,
    input.actorId,
    op,
    input.subjectId,
    data,
    input.actor,
  );
}

/**
 * The timer a `set-timer` entry sets, in seconds; CHAIN_MALFORMED unless its data is a
 * `parley/v1/message-timer` of at most a year.
 */
export function messageTimerOf(entry: Pick<MembershipEntry, 'data'>): number {
  const operation = 'messageTimerOf';
  const code = 'CHAIN_MALFORMED';
  const [seconds] = decodeCanon(entry.data, LABEL_MESSAGE_TIMER, 1, code, operation);
  const timer = readU64(seconds, code, operation, 'timer');
  if (timer > MAX_MESSAGE_TIMER_SECONDS) {
    throw new CryptoError(code, operation, 'set-timer: a timer of more than a year');
  }
  return timer;
}

/** Decodes an entry and its body (step 1 of §5.3): CHAIN_MALFORMED or CHAIN_UNKNOWN_ENTRY_TYPE. */
export function decodeMembershipEntry(bytes: Uint8Array): MembershipEntry {
  const operation = 'decodeMembershipEntry';
  assertBytes(bytes, operation, 'entry');
  const code = 'CHAIN_MALFORMED';
  const [body, signature] = decodeCanon(bytes, LABEL_MEMBERSHIP_ENTRY, 2, code, operation);
  const [roomId, position, prevHash, actorId, op, subjectId, data] = decodeCanon(
    body,
    LABEL_MEMBERSHIP,
    7,
    code,
    operation,
  );
  const entry = {
    roomId: expectLength(roomId, ID_BYTES, code, operation, 'roomId'),
    position: readU64(position, code, operation, 'position'),
    prevHash: expectLength(prevHash, [0, HASH_BYTES], code, operation, 'prevHash'),
    actorId: expectLength(actorId, ID_BYTES, code, operation, 'actorId'),
    subjectId: expectLength(subjectId, [0, ID_BYTES], code, operation, 'subjectId'),
    data,
    body,
    signature: expectLength(signature, SIGNATURE_BYTES, code, operation, 'signature'),
  };
  const opName = readAscii(op);
  if (opName === undefined || !(MEMBERSHIP_OPS as readonly string[]).includes(opName)) {
    throw new CryptoError('CHAIN_UNKNOWN_ENTRY_TYPE', operation, 'unknown entry type');
  }
  if (opName === 'set-timer') {
    if (entry.subjectId.length !== ID_BYTES) {
      throw new CryptoError(code, operation, 'set-timer: needs a 16-byte subject');
    }
    messageTimerOf(entry);
  } else if (opName !== 'genesis' && (entry.subjectId.length !== ID_BYTES || data.length !== 0)) {
    throw new CryptoError(code, operation, `${opName}: needs a 16-byte subject and no data`);
  }
  return { ...entry, op: opName as MembershipOp };
}

export function membershipEntryHash(entry: Uint8Array): Uint8Array {
  assertBytes(entry, 'membershipEntryHash', 'entry');
  return hash(canon(LABEL_MEMBERSHIP_HASH, [entry]));
}

/**
 * Verifies a chain from its genesis (§5.3) and returns the state after every entry. A failure is a
 * CryptoError whose `position` is the index of the first entry that fails. With `checkpoint`, the
 * entry at that position must have the hash verified before, or the chain is a fork; the entries
 * up to it are not checked against today's keys again (their hash is).
 */
export function verifyMembershipChain(
  entries: readonly Uint8Array[],
  roomId: Uint8Array,
  identityKeyOf: IdentityKeyLookup,
  checkpoint?: ChainCheckpoint,
): MembershipState[] {
  const operation = 'verifyMembershipChain';
  if (!Array.isArray(entries))
    throw new CryptoError('INVALID_ARGUMENT', operation, 'entries: expected an array');
  assertBytes(roomId, operation, 'roomId', ID_BYTES);
  if (typeof identityKeyOf !== 'function') {
    throw new CryptoError('INVALID_ARGUMENT', operation, 'identityKeyOf: expected a function');
  }
  if (checkpoint !== undefined) {
    assertU64(checkpoint.position, operation, 'checkpoint.position');
    assertBytes(checkpoint.hash, operation, 'checkpoint.hash', HASH_BYTES);
  }
  const states: MembershipState[] = [];
  entries.forEach((bytes, index) => {
    const fail = (code: CryptoError['code'], detail: string): never => {
      throw new CryptoError(code, operation, `entry ${index}: ${detail}`, { position: index });
    };
    const previous = states.at(-1);

    // 1. decode
    let entry: MembershipEntry;
    try {
      entry = decodeMembershipEntry(assertBytes(bytes, operation, `entries[${index}]`));
    } catch (error) {
      if (error instanceof CryptoError && error.code !== 'INVALID_ARGUMENT') {
        fail(error.code, error.message.replace(/^[^:]*: /, ''));
      }
      throw error;
    }

    // 2. room, fork, link, genesis
    if (!bytesEqual(entry.roomId, roomId)) fail('CHAIN_MALFORMED', 'names another room');
    let kind: RoomKind;
    if (previous === undefined) {
      kind =
        genesisKind(entry) ?? fail('CHAIN_BAD_GENESIS', 'the first entry is not a valid genesis');
    } else {
      kind = previous.kind;
      if (entry.position <= previous.position) {
        fail('CHAIN_FORK', `a second entry at position ${entry.position}`);
      }
      if (entry.position !== previous.position + 1 || !bytesEqual(entry.prevHash, previous.hash)) {
        fail('CHAIN_BROKEN_LINK', 'does not follow the previous entry');
      }
    }

    // 3. the actor's pinned key and signature. An entry up to the checkpoint was verified before,
    // and the checkpoint's hash (linked back through every prevHash) proves these are the same
    // bytes: checking it again under today's pins would only break a history whose signer has
    // since changed identity keys (an accepted key change after an identity reset).
    const verifiedBefore = checkpoint !== undefined && index <= checkpoint.position;
    if (!verifiedBefore) {
      const actorKey = identityKeyOf(entry.actorId);
      if (actorKey === undefined)
        fail('CHAIN_UNKNOWN_ACTOR', `no identity key for ${toHex(entry.actorId)}`);
      assertBytes(actorKey, operation, 'identity key', SIGN_PUBLIC_BYTES);
      if (!verifyMembershipEntrySignature(entry, actorKey!))
        fail('CHAIN_BAD_SIGNATURE', 'signature does not verify');
    }

    // 4. the rules of §5.2
    const members = new Map(previous?.members ?? []);
    const effect = applyMembershipRule(entry, kind, members, previous === undefined);
    if (effect === 'not-allowed')
      fail('CHAIN_ACTOR_NOT_ALLOWED', `${entry.op} is not allowed here`);
    const entryHash = membershipEntryHash(bytes);
    if (
      checkpoint !== undefined &&
      checkpoint.position === index &&
      !bytesEqual(entryHash, checkpoint.hash)
    ) {
      fail('CHAIN_FORK', `differs from the entry verified before at position ${index}`);
    }
    states.push({
      position: entry.position,
      hash: entryHash,
      epoch: (previous?.epoch ?? 0) + (effect === 'new-epoch' ? 1 : 0),
      kind,
      members,
      timer: entry.op === 'set-timer' ? messageTimerOf(entry) : (previous?.timer ?? 0),
    });
  });
  if (checkpoint !== undefined && checkpoint.position >= states.length) {
    // The server served a chain shorter than one already seen: a rollback is a fork of history.
    throw new CryptoError(
      'CHAIN_FORK',
      operation,
      `the chain ends before position ${checkpoint.position}`,
      {
        position: states.length,
      },
    );
  }
  return states;
}

/** §5.1: does the entry's signature verify under the actor's identity key? */
export function verifyMembershipEntrySignature(
  entry: MembershipEntry,
  actorIdentityKey: Uint8Array,
): boolean {
  return verify(entry.signature, entry.body, actorIdentityKey);
}

/**
 * §5.4: may `distributorId` hand the key of `epoch` to `recipientId`? True when some position of
 * that epoch has both as members.
 */
export function mayDistribute(
  states: readonly MembershipState[],
  epoch: number,
  distributorId: Uint8Array,
  recipientId: Uint8Array,
): boolean {
  assertU64(epoch, 'mayDistribute', 'epoch');
  const distributor = toHex(assertBytes(distributorId, 'mayDistribute', 'distributorId', ID_BYTES));
  const recipient = toHex(assertBytes(recipientId, 'mayDistribute', 'recipientId', ID_BYTES));
  return states.some(
    (state) =>
      state.epoch === epoch && state.members.has(distributor) && state.members.has(recipient),
  );
}

/** Whether `userId` is a member at some position of `epoch` (who may send in that epoch, §6.5). */
export function isMemberAtEpoch(
  states: readonly MembershipState[],
  epoch: number,
  userId: Uint8Array,
): boolean {
  assertU64(epoch, 'isMemberAtEpoch', 'epoch');
  const member = toHex(assertBytes(userId, 'isMemberAtEpoch', 'userId', ID_BYTES));
  return states.some((state) => state.epoch === epoch && state.members.has(member));
}

function signEntry(
  roomId: Uint8Array,
  position: number,
  prevHash: Uint8Array,
  actorId: Uint8Array,
  op: MembershipOp,
  subjectId: Uint8Array,
  data: Uint8Array,
  actor: IdentityKeyPair,
): Uint8Array {
  const body = canon(LABEL_MEMBERSHIP, [
    roomId,
    u64(position),
    prevHash,
    actorId,
    ascii(op),
    subjectId,
    data,
  ]);
  return canon(LABEL_MEMBERSHIP_ENTRY, [body, sign(body, actor.secretKey)]);
}

interface RoomPolicy {
  kind: RoomKind;
  peerId: Uint8Array;
}

/** The room kind of a valid genesis entry (step 2 of §5.3), or undefined. */
function genesisKind(entry: MembershipEntry): RoomKind | undefined {
  return genesisPolicy(entry)?.kind;
}

function genesisPolicy(entry: MembershipEntry): RoomPolicy | undefined {
  if (entry.op !== 'genesis' || entry.position !== 0) return undefined;
  if (entry.prevHash.length !== 0 || entry.subjectId.length !== 0) return undefined;
  let fields: CanonFields<2>;
  try {
    fields = decodeCanon(entry.data, LABEL_ROOM_POLICY, 2, 'CHAIN_BAD_GENESIS', 'genesisPolicy');
  } catch {
    return undefined;
  }
  const [kindBytes, peerId] = fields;
  const kind = readAscii(kindBytes);
  if (kind === undefined || !(ROOM_KINDS as readonly string[]).includes(kind)) return undefined;
  if (kind === 'direct') {
    if (peerId.length !== ID_BYTES || bytesEqual(peerId, entry.actorId)) return undefined;
  } else if (peerId.length !== 0) {
    return undefined;
  }
  return { kind: kind as RoomKind, peerId };
}

/**
 * Applies the table of §5.2 to `members` (user id hex → role) in place: 'new-epoch' for a removal
 * or leave, 'not-allowed' (members untouched) when the actor may not make this entry. Exported so
 * that the server's first-line check applies the very rules clients verify the chain with.
 */
export function applyMembershipRule(
  entry: MembershipEntry,
  kind: RoomKind,
  members: Map<string, Role>,
  isFirst = false,
): 'ok' | 'new-epoch' | 'not-allowed' {
  const actor = toHex(entry.actorId);
  const subject = toHex(entry.subjectId);
  const actorRole = members.get(actor);
  const subjectRole = members.get(subject);
  const administered = kind === 'channel' || kind === 'group';
  const byAdmin = administered && actorRole === 'admin';
  switch (entry.op) {
    case 'genesis': {
      const policy = isFirst ? genesisPolicy(entry) : undefined;
      if (policy === undefined) return 'not-allowed';
      if (policy.kind === 'direct') {
        members.set(actor, 'member');
        members.set(toHex(policy.peerId), 'member');
      } else {
        members.set(actor, 'admin');
      }
      return 'ok';
    }
    case 'add':
      if (!byAdmin || subjectRole !== undefined) return 'not-allowed';
      members.set(subject, 'member');
      return 'ok';
    case 'admit':
      if (kind !== 'channel' || actorRole === undefined || subjectRole !== undefined)
        return 'not-allowed';
      members.set(subject, 'member');
      return 'ok';
    case 'remove':
      if (!byAdmin || subjectRole === undefined || subject === actor) return 'not-allowed';
      members.delete(subject);
      return 'new-epoch';
    case 'promote':
      if (!byAdmin || subjectRole === undefined) return 'not-allowed';
      members.set(subject, 'admin');
      return 'ok';
    case 'demote':
      if (!byAdmin || subjectRole !== 'admin' || subject === actor) return 'not-allowed';
      members.set(subject, 'member');
      return 'ok';
    case 'leave':
      if (actorRole === undefined || subject !== actor) return 'not-allowed';
      members.delete(actor);
      return 'new-epoch';
    case 'set-timer':
      // An admin decides for a channel or group; in a direct conversation, either party.
      if (subject !== actor || !(byAdmin || (kind === 'direct' && actorRole !== undefined)))
        return 'not-allowed';
      return 'ok';
  }
}
