// The independent checker of the protocol test vectors: runs every case of a vector file through
// the noble-based implementation of this folder and reports, per case, whether a valid case was
// accepted with every listed output reproduced, or an invalid case rejected with exactly its code.
import type { CaseResult, VectorCase, VectorFile } from '../types';
import { equalBytes, fromHex, toHex } from './encoding';
import { boxKeyPair, hash, sign, signKeyPair } from './primitives';
import {
  ChainFailure,
  ProtocolFailure,
  bindingInput,
  checkScannedSafetyNumber,
  classifyMessage,
  decryptAttachment,
  fingerprint,
  openBackup,
  openDeviceSeal,
  openMessage,
  openRoomKeyEnvelope,
  replayMembershipChain,
  safetyNumber,
  sealBackup,
  sealDeviceSeal,
  sealMessage,
  verifyEncryptionKeyBinding,
  type MessageHeader,
  type MessagePayload,
} from './protocol';

export async function checkVectors(operation: string, file: VectorFile): Promise<CaseResult[]> {
  const operationCheck = OPERATION_CHECKS[operation];
  const results: CaseResult[] = [];
  // One case at a time: a backup case holds 256 MiB or more for its Argon2id derivation.
  for (const vector of file.cases) {
    if (operationCheck === undefined) {
      results.push({ id: vector.id, ok: false, detail: `no checker for operation ${operation}` });
    } else if (file.operation !== operation) {
      results.push({ id: vector.id, ok: false, detail: `file is for ${file.operation}` });
    } else {
      results.push(await runCase(vector, operationCheck));
    }
  }
  return results;
}

/**
 * Checks one case: returns the list of expected outputs that were not reproduced (empty when all
 * were), or throws a ProtocolFailure when the implementation rejects the input.
 */
type CaseCheck = (vector: CaseReader) => Promise<string[]> | string[];

interface OperationCheck {
  check: CaseCheck;
  /** Every field a case may carry besides id, comment, result and error. */
  fields: readonly string[];
}

const OPERATION_CHECKS: Record<string, OperationCheck> = {
  identity: {
    check: checkIdentity,
    fields: [
      'userId',
      'identityPublicKey',
      'encryptionPublicKey',
      'version',
      'signature',
      'identitySeed',
      'encryptionSeed',
    ],
  },
  fingerprint: {
    check: checkFingerprint,
    fields: [
      'userIdA',
      'identityPublicKeyA',
      'userIdB',
      'identityPublicKeyB',
      'fingerprintA',
      'fingerprintB',
      'safetyNumber',
      'qrPayload',
      'scannedQrPayload',
    ],
  },
  'room-key': {
    check: checkRoomKey,
    fields: [
      'expectedRoomId',
      'expectedEpoch',
      'recipientId',
      'recipientEncryptionSeed',
      'distributorIdentityPublicKey',
      'distributorEntitled',
      'envelope',
      'roomKey',
    ],
  },
  membership: {
    check: checkMembership,
    fields: ['roomId', 'identityKeys', 'entries', 'states', 'failedAt'],
  },
  message: {
    check: checkMessage,
    fields: [
      'roomId',
      'senderId',
      'senderIdentityPublicKey',
      'epoch',
      'roomKey',
      'senderIsMember',
      'envelope',
      'header',
      'payload',
      'messageHash',
      'senderIdentitySeed',
      'nonce',
      'seen',
      'status',
    ],
  },
  backup: {
    check: checkBackup,
    fields: [
      'userId',
      'passphrase',
      'blob',
      'identitySeed',
      'encryptionSeed',
      'keyVersion',
      'extra',
    ],
  },
  attachment: {
    check: checkAttachment,
    fields: ['fileKey', 'expectedHash', 'size', 'blob', 'plaintextHash', 'plaintext'],
  },
  'device-seal': {
    check: checkDeviceSeal,
    fields: ['key', 'purpose', 'userId', 'blob', 'plaintext'],
  },
};

const COMMON_FIELDS = ['id', 'comment', 'result', 'error'];

async function runCase(vector: VectorCase, { check, fields }: OperationCheck): Promise<CaseResult> {
  const id = vector.id;
  // A field this checker does not know would be an expected output it silently never compared.
  const unknown = Object.keys(vector).filter(
    (key) => !COMMON_FIELDS.includes(key) && !fields.includes(key),
  );
  if (unknown.length > 0) return { id, ok: false, detail: `unknown fields: ${unknown.join(', ')}` };
  try {
    const mismatches = await check(new CaseReader(vector));
    if (vector.result === 'invalid') {
      return { id, ok: false, detail: `accepted, expected rejection with ${vector.error}` };
    }
    if (mismatches.length > 0) return { id, ok: false, detail: mismatches.join('; ') };
    return { id, ok: true };
  } catch (error) {
    if (!(error instanceof ProtocolFailure)) {
      return { id, ok: false, detail: `checker error: ${String(error)}` };
    }
    if (vector.result === 'valid') return { id, ok: false, detail: `rejected: ${error.message}` };
    if (error.code !== vector.error) {
      return { id, ok: false, detail: `rejected with ${error.message}, expected ${vector.error}` };
    }
    if (
      error instanceof ChainFailure &&
      typeof vector['failedAt'] === 'number' &&
      vector['failedAt'] !== error.failedAt
    ) {
      return {
        id,
        ok: false,
        detail: `${error.code} at entry ${error.failedAt}, expected at ${vector['failedAt']}`,
      };
    }
    return { id, ok: true };
  }
}

// §3.2
function checkIdentity(v: CaseReader): string[] {
  const binding = {
    userId: v.bytes('userId'),
    identityPublicKey: v.bytes('identityPublicKey'),
    encryptionPublicKey: v.bytes('encryptionPublicKey'),
    version: v.number('version'),
    signature: v.bytes('signature'),
  };
  verifyEncryptionKeyBinding(binding);
  const out = new Mismatches();
  const identitySeed = v.optionalBytes('identitySeed');
  if (identitySeed !== undefined) {
    out.bytes('identityPublicKey', signKeyPair(identitySeed).publicKey, binding.identityPublicKey);
    out.bytes('signature', sign(identitySeed, bindingInput(binding)), binding.signature);
  }
  const encryptionSeed = v.optionalBytes('encryptionSeed');
  if (encryptionSeed !== undefined) {
    out.bytes(
      'encryptionPublicKey',
      boxKeyPair(encryptionSeed).publicKey,
      binding.encryptionPublicKey,
    );
  }
  return out.list;
}

// §3.3
function checkFingerprint(v: CaseReader): string[] {
  const fingerprintA = fingerprint(v.bytes('userIdA'), v.bytes('identityPublicKeyA'));
  const fingerprintB = fingerprint(v.bytes('userIdB'), v.bytes('identityPublicKeyB'));
  const computed = safetyNumber(fingerprintA, fingerprintB);
  const scanned = v.optionalString('scannedQrPayload');
  if (scanned !== undefined) checkScannedSafetyNumber(computed, scanned);
  const out = new Mismatches();
  out.optionalBytes('fingerprintA', fingerprintA, v.optionalBytes('fingerprintA'));
  out.optionalBytes('fingerprintB', fingerprintB, v.optionalBytes('fingerprintB'));
  out.optionalValue('safetyNumber', computed.digits, v.optionalString('safetyNumber'));
  out.optionalValue('qrPayload', computed.qrPayload, v.optionalString('qrPayload'));
  return out.list;
}

// §4
function checkRoomKey(v: CaseReader): string[] {
  const roomKey = openRoomKeyEnvelope(v.bytes('envelope'), {
    expectedRoomId: v.bytes('expectedRoomId'),
    expectedEpoch: v.number('expectedEpoch'),
    recipientId: v.bytes('recipientId'),
    recipientEncryptionSeed: v.bytes('recipientEncryptionSeed'),
    distributorIdentityPublicKey: v.bytes('distributorIdentityPublicKey'),
    distributorEntitled: v.boolean('distributorEntitled'),
  });
  const out = new Mismatches();
  out.optionalBytes('roomKey', roomKey, v.optionalBytes('roomKey'));
  return out.list;
}

// §5
function checkMembership(v: CaseReader): string[] {
  const identityKeys = v.record('identityKeys');
  const states = replayMembershipChain(
    v.bytes('roomId'),
    v.array('entries').map((entry) => fromHex(String(entry))),
    (userIdHex) => {
      const key = identityKeys[userIdHex];
      return typeof key === 'string' ? fromHex(key) : undefined;
    },
  );
  const out = new Mismatches();
  const expectedStates = v.optionalArray('states');
  if (expectedStates !== undefined) {
    const actual = states.map((state) => ({
      position: state.position,
      hash: toHex(state.hash),
      epoch: state.epoch,
      members: Object.fromEntries([...state.members].sort(([a], [b]) => (a < b ? -1 : 1))),
      timer: state.timer,
    }));
    const expected = expectedStates.map((state) => {
      const s = state as { members: Record<string, string> } & Record<string, unknown>;
      return {
        position: s['position'],
        hash: s['hash'],
        epoch: s['epoch'],
        members: Object.fromEntries(Object.entries(s.members).sort(([a], [b]) => (a < b ? -1 : 1))),
        timer: s['timer'],
      };
    });
    out.value('states', JSON.stringify(actual), JSON.stringify(expected));
  }
  return out.list;
}

// §6
function checkMessage(v: CaseReader): string[] {
  const envelope = v.bytes('envelope');
  const roomKey = v.optionalBytes('roomKey');
  const opened = openMessage(envelope, {
    roomId: v.bytes('roomId'),
    senderId: v.bytes('senderId'),
    senderIdentityPublicKey: v.bytes('senderIdentityPublicKey'),
    senderIsMember: v.boolean('senderIsMember'),
    epoch: v.number('epoch'),
    roomKey,
  });
  const out = new Mismatches();
  const { header, payload } = opened;
  out.optionalValue('header', JSON.stringify(headerJson(header)), v.optionalJson('header'));
  out.optionalValue('payload', JSON.stringify(payloadJson(payload)), v.optionalJson('payload'));
  out.optionalBytes('messageHash', opened.messageHash, v.optionalBytes('messageHash'));

  const seed = v.optionalBytes('senderIdentitySeed');
  const nonce = v.optionalBytes('nonce');
  if (seed !== undefined && nonce !== undefined && roomKey !== undefined) {
    out.bytes(
      'senderIdentityPublicKey',
      signKeyPair(seed).publicKey,
      v.bytes('senderIdentityPublicKey'),
    );
    out.bytes('nonce', opened.nonce, nonce);
    out.bytes('envelope', sealMessage(header, payload, roomKey, nonce, seed), envelope);
  }

  const expectedStatus = v.optionalString('status');
  if (expectedStatus !== undefined) {
    const seen = new Map<number, Uint8Array>();
    for (const item of v.optionalArray('seen') ?? []) {
      const entry = item as { counter: number; hash: string };
      seen.set(entry.counter, fromHex(entry.hash));
    }
    const status = classifyMessage(header.counter, header.prevHash, opened.messageHash, seen);
    out.value('status', status, expectedStatus);
  }
  return out.list;
}

// §7
async function checkBackup(v: CaseReader): Promise<string[]> {
  const blobBytes = v.bytes('blob');
  const passphrase = v.string('passphrase');
  const { blob, secrets } = await openBackup(blobBytes, v.bytes('userId'), passphrase);
  const out = new Mismatches();
  out.optionalBytes('identitySeed', secrets.identitySeed, v.optionalBytes('identitySeed'));
  out.optionalBytes('encryptionSeed', secrets.encryptionSeed, v.optionalBytes('encryptionSeed'));
  out.optionalValue('keyVersion', secrets.keyVersion, v.optionalNumber('keyVersion'));
  out.optionalBytes('extra', secrets.extra, v.optionalBytes('extra'));
  if (v.has('identitySeed') && v.has('encryptionSeed') && v.has('keyVersion') && v.has('extra')) {
    const rebuilt = await sealBackup(
      {
        identitySeed: v.bytes('identitySeed'),
        encryptionSeed: v.bytes('encryptionSeed'),
        keyVersion: v.number('keyVersion'),
        extra: v.bytes('extra'),
      },
      passphrase,
      blob,
    );
    out.bytes('blob', rebuilt, blobBytes);
  }
  return out.list;
}

// §7.1
function checkDeviceSeal(v: CaseReader): string[] {
  const expected = { key: v.bytes('key'), purpose: v.string('purpose'), userId: v.bytes('userId') };
  const blob = v.bytes('blob');
  const { plaintext, nonce } = openDeviceSeal(blob, expected);
  const out = new Mismatches();
  out.optionalBytes('plaintext', plaintext, v.optionalBytes('plaintext'));
  out.bytes('blob', sealDeviceSeal(plaintext, expected, nonce), blob);
  return out.list;
}

// §8
function checkAttachment(v: CaseReader): string[] {
  const plaintext = decryptAttachment(
    v.bytes('blob'),
    v.bytes('fileKey'),
    v.bytes('expectedHash'),
    v.number('size'),
  );
  const out = new Mismatches();
  out.optionalBytes('plaintextHash', hash(plaintext), v.optionalBytes('plaintextHash'));
  out.optionalBytes('plaintext', plaintext, v.optionalBytes('plaintext'));
  return out.list;
}

function headerJson(header: MessageHeader) {
  return {
    version: header.version,
    roomId: toHex(header.roomId),
    epoch: header.epoch,
    senderId: toHex(header.senderId),
    counter: header.counter,
    messageId: toHex(header.messageId),
    clientTime: header.clientTime,
    prevHash: toHex(header.prevHash),
  };
}

function payloadJson(payload: MessagePayload) {
  return {
    kind: payload.kind,
    text: payload.text,
    replyTo: toHex(payload.replyTo),
    target: toHex(payload.target),
    attachments: payload.attachments.map(toHex),
    extra: toHex(payload.extra),
  };
}

/** Typed access to a case's fields; a missing or mistyped field is a broken vector file. */
class CaseReader {
  constructor(private readonly vector: VectorCase) {}

  has(name: string): boolean {
    return this.vector[name] !== undefined;
  }

  bytes(name: string): Uint8Array {
    return fromHex(this.string(name));
  }

  optionalBytes(name: string): Uint8Array | undefined {
    return this.has(name) ? this.bytes(name) : undefined;
  }

  string(name: string): string {
    return this.typed(name, 'string');
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  number(name: string): number {
    return this.typed(name, 'number');
  }

  optionalNumber(name: string): number | undefined {
    return this.has(name) ? this.number(name) : undefined;
  }

  boolean(name: string): boolean {
    return this.typed(name, 'boolean');
  }

  array(name: string): unknown[] {
    const value = this.vector[name];
    if (!Array.isArray(value))
      throw new TypeError(`case ${this.vector.id}: ${name} is not an array`);
    return value;
  }

  optionalArray(name: string): unknown[] | undefined {
    return this.has(name) ? this.array(name) : undefined;
  }

  record(name: string): Record<string, unknown> {
    return this.typed(name, 'object') as Record<string, unknown>;
  }

  /** An object field in a stable form for comparison: keys in the order the checker writes. */
  optionalJson(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const value = this.record(name);
    const ordered = name === 'header' ? HEADER_KEYS : PAYLOAD_KEYS;
    return JSON.stringify(Object.fromEntries(ordered.map((key) => [key, value[key]])));
  }

  private typed<T extends 'string' | 'number' | 'boolean' | 'object'>(
    name: string,
    type: T,
  ): T extends 'string'
    ? string
    : T extends 'number'
      ? number
      : T extends 'boolean'
        ? boolean
        : object {
    const value = this.vector[name];
    if (typeof value !== type || value === null) {
      throw new TypeError(`case ${this.vector.id}: ${name} is not a ${type}`);
    }
    return value as never;
  }
}

const HEADER_KEYS = [
  'version',
  'roomId',
  'epoch',
  'senderId',
  'counter',
  'messageId',
  'clientTime',
  'prevHash',
];
const PAYLOAD_KEYS = ['kind', 'text', 'replyTo', 'target', 'attachments', 'extra'];

/** Collects the expected outputs a case lists but the implementation did not reproduce. */
class Mismatches {
  readonly list: string[] = [];

  bytes(name: string, actual: Uint8Array, expected: Uint8Array): void {
    if (!equalBytes(actual, expected)) {
      this.list.push(
        `${name}: got ${shorten(toHex(actual))}, expected ${shorten(toHex(expected))}`,
      );
    }
  }

  optionalBytes(name: string, actual: Uint8Array, expected: Uint8Array | undefined): void {
    if (expected !== undefined) this.bytes(name, actual, expected);
  }

  value<T extends string | number>(name: string, actual: T, expected: T): void {
    if (actual !== expected) {
      this.list.push(
        `${name}: got ${shorten(String(actual))}, expected ${shorten(String(expected))}`,
      );
    }
  }

  optionalValue<T extends string | number>(name: string, actual: T, expected: T | undefined): void {
    if (expected !== undefined) this.value(name, actual, expected);
  }
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
