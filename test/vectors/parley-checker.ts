// Runs the protocol test vectors through @parley/crypto: every valid case must be accepted with
// each listed output reproduced, every invalid case rejected with exactly its code.
import {
  CryptoError,
  checkBackupBlob,
  classifyMessage,
  compareSafetyQr,
  decodeBackupBlob,
  decodeCanon,
  decodeMessageEnvelope,
  decryptAttachment,
  deriveBackupKey,
  encryptMessage,
  encryptionKeyPair,
  fingerprint,
  fromHex,
  identityKeyPair,
  openBackupWithKey,
  openForDevice,
  openMessage,
  openRoomKeyEnvelope,
  ready,
  safetyNumber,
  sealBackupWithKey,
  sealForDevice,
  signEncryptionKey,
  toHex,
  verifyEncryptionKeyBinding,
  verifyMembershipChain,
  type SenderState,
} from '@parley/crypto';
import sodium from 'libsodium-wrappers-sumo';
import { headerJson, payloadJson } from './message-json';
import type { CaseResult, VectorCase, VectorFile } from './types';

export async function checkVectors(operation: string, file: VectorFile): Promise<CaseResult[]> {
  await ready();
  await sodium.ready;
  const check = CHECKS[operation];
  const results: CaseResult[] = [];
  for (const vector of file.cases) {
    if (check === undefined)
      results.push({ id: vector.id, ok: false, detail: `no check for ${operation}` });
    else if (file.operation !== operation)
      results.push({ id: vector.id, ok: false, detail: `file is for ${file.operation}` });
    else results.push(runCase(vector, check));
  }
  return results;
}

/** Returns the expected outputs that were not reproduced; throws CryptoError on rejection. */
type CaseCheck = (v: Case) => string[];

const CHECKS: Record<string, CaseCheck> = {
  identity: checkIdentity,
  fingerprint: checkFingerprint,
  'room-key': checkRoomKey,
  membership: checkMembership,
  message: checkMessage,
  backup: checkBackup,
  attachment: checkAttachment,
  'device-seal': checkDeviceSeal,
};

function runCase(vector: VectorCase, check: CaseCheck): CaseResult {
  const id = vector.id;
  let mismatches: string[];
  try {
    mismatches = check(new Case(vector));
  } catch (error) {
    if (!(error instanceof CryptoError))
      return { id, ok: false, detail: `checker error: ${String(error)}` };
    if (vector.result === 'valid')
      return { id, ok: false, detail: `rejected: ${error.code}: ${error.message}` };
    if (error.code !== vector.error) {
      return {
        id,
        ok: false,
        detail: `rejected with ${error.code} (${error.message}), expected ${String(vector.error)}`,
      };
    }
    const failedAt = vector['failedAt'];
    if (typeof failedAt === 'number' && error.position !== failedAt) {
      return {
        id,
        ok: false,
        detail: `failed at entry ${String(error.position)}, expected ${failedAt}`,
      };
    }
    return { id, ok: true };
  }
  if (vector.result === 'invalid')
    return { id, ok: false, detail: `accepted, expected ${String(vector.error)}` };
  if (mismatches.length > 0) return { id, ok: false, detail: mismatches.join('; ') };
  return { id, ok: true };
}

// §3.2
function checkIdentity(v: Case): string[] {
  const binding = {
    userId: v.bytes('userId'),
    identityPublicKey: v.bytes('identityPublicKey'),
    encryptionPublicKey: v.bytes('encryptionPublicKey'),
    version: v.number('version'),
    signature: v.bytes('signature'),
  };
  verifyEncryptionKeyBinding(binding);
  const out = new Mismatches();
  if (v.has('identitySeed') && v.has('encryptionSeed')) {
    const identity = identityKeyPair(v.bytes('identitySeed'));
    const encryption = encryptionKeyPair(v.bytes('encryptionSeed'));
    out.bytes('identityPublicKey', identity.publicKey, binding.identityPublicKey);
    out.bytes('encryptionPublicKey', encryption.publicKey, binding.encryptionPublicKey);
    const signature = signEncryptionKey(identity, {
      userId: binding.userId,
      encryptionPublicKey: encryption.publicKey,
      version: binding.version,
    });
    out.bytes('signature', signature, binding.signature);
  }
  return out.list;
}

// §3.3
function checkFingerprint(v: Case): string[] {
  const a = { userId: v.bytes('userIdA'), identityPublicKey: v.bytes('identityPublicKeyA') };
  const b = { userId: v.bytes('userIdB'), identityPublicKey: v.bytes('identityPublicKeyB') };
  const fingerprintA = fingerprint(a.userId, a.identityPublicKey);
  const fingerprintB = fingerprint(b.userId, b.identityPublicKey);
  const number = safetyNumber(a, b);
  if (v.has('scannedQrPayload')) compareSafetyQr(v.string('scannedQrPayload'), number);
  const out = new Mismatches();
  if (v.has('fingerprintA')) out.bytes('fingerprintA', fingerprintA, v.bytes('fingerprintA'));
  if (v.has('fingerprintB')) out.bytes('fingerprintB', fingerprintB, v.bytes('fingerprintB'));
  if (v.has('safetyNumber')) {
    out.value('safetyNumber', number.digits, v.string('safetyNumber'));
    out.value('grouped', number.grouped.replaceAll(' ', ''), v.string('safetyNumber'));
  }
  if (v.has('qrPayload')) out.value('qrPayload', number.qrPayload, v.string('qrPayload'));
  return out.list;
}

// §4
function checkRoomKey(v: Case): string[] {
  const roomKey = openRoomKeyEnvelope(v.bytes('envelope'), {
    roomId: v.bytes('expectedRoomId'),
    epoch: v.number('expectedEpoch'),
    recipientId: v.bytes('recipientId'),
    recipientKeyPair: encryptionKeyPair(v.bytes('recipientEncryptionSeed')),
    distributorIdentityKey: v.bytes('distributorIdentityPublicKey'),
    distributorEntitled: v.boolean('distributorEntitled'),
  });
  const out = new Mismatches();
  if (v.has('roomKey')) out.bytes('roomKey', roomKey, v.bytes('roomKey'));
  return out.list;
}

// §5
function checkMembership(v: Case): string[] {
  const identityKeys = v.record('identityKeys');
  const states = verifyMembershipChain(
    v.array('entries').map((entry) => fromHex(String(entry))),
    v.bytes('roomId'),
    (userId) => {
      const key = identityKeys[toHex(userId)];
      return typeof key === 'string' ? fromHex(key) : undefined;
    },
  );
  const out = new Mismatches();
  if (v.has('states')) {
    const actual = states.map((state) => ({
      position: state.position,
      hash: toHex(state.hash),
      epoch: state.epoch,
      members: sortedObject(Object.fromEntries(state.members)),
      timer: state.timer,
    }));
    const expected = v.array('states').map((item) => {
      const state = item as {
        position: number;
        hash: string;
        epoch: number;
        members: Record<string, string>;
        timer: number;
      };
      return {
        position: state.position,
        hash: state.hash,
        epoch: state.epoch,
        members: sortedObject(state.members),
        timer: state.timer,
      };
    });
    out.value('states', JSON.stringify(actual), JSON.stringify(expected));
  }
  return out.list;
}

// §6
function checkMessage(v: Case): string[] {
  const envelope = v.bytes('envelope');
  const senderId = v.bytes('senderId');
  const senderKey = v.bytes('senderIdentityPublicKey');
  const epoch = v.number('epoch');
  const roomKey = v.has('roomKey') ? v.bytes('roomKey') : undefined;
  const opened = openMessage(envelope, {
    roomId: v.bytes('roomId'),
    identityKeyOf: (id) => (toHex(id) === toHex(senderId) ? senderKey : undefined),
    senderIsMember: v.boolean('senderIsMember'),
    roomKeyOf: (e) => (e === epoch ? roomKey : undefined),
  });
  const out = new Mismatches();
  if (v.has('header'))
    out.value('header', JSON.stringify(headerJson(opened.header)), v.json('header', HEADER_KEYS));
  if (v.has('payload'))
    out.value(
      'payload',
      JSON.stringify(payloadJson(opened.payload)),
      v.json('payload', PAYLOAD_KEYS),
    );
  if (v.has('messageHash')) out.bytes('messageHash', opened.messageHash, v.bytes('messageHash'));
  if (v.has('senderIdentitySeed') && v.has('nonce') && roomKey !== undefined) {
    const sender = identityKeyPair(v.bytes('senderIdentitySeed'));
    out.bytes('senderIdentityPublicKey', sender.publicKey, senderKey);
    out.bytes('nonce', decodeMessageEnvelope(envelope).nonce, v.bytes('nonce'));
    const { header, payload } = opened;
    const rebuilt = encryptMessage(
      {
        roomId: header.roomId,
        epoch: header.epoch,
        roomKey,
        senderId: header.senderId,
        sender,
        counter: header.counter,
        prevHash: header.prevHash,
        clientTime: header.clientTime,
        messageId: header.messageId,
        payload,
      },
      v.bytes('nonce'),
    );
    out.bytes('envelope', rebuilt.envelope, envelope);
  }
  if (v.has('status')) {
    const seen = v.array('seen').map((item) => item as { counter: number; hash: string });
    const state: SenderState = {
      highest: Math.max(0, ...seen.map((s) => s.counter)),
      hashes: new Map(seen.map((s) => [s.counter, fromHex(s.hash)])),
    };
    out.value(
      'status',
      classifyMessage(state, opened.header, opened.messageHash).status,
      v.string('status'),
    );
  }
  return out.list;
}

// §7. Derivations are cached by passphrase, salt and parameters: several cases share one.
const derivedKeys = new Map<string, Uint8Array>();

function checkBackup(v: Case): string[] {
  const blob = v.bytes('blob');
  const userId = v.bytes('userId');
  const passphrase = v.string('passphrase');
  // The checks that need no key come first (§7), so a weak or foreign blob costs no derivation.
  const decoded = checkBackupBlob(blob, userId);
  const cacheKey = [
    passphrase.normalize('NFKC'),
    toHex(decoded.salt),
    decoded.params.opslimit,
    decoded.params.memlimit,
  ].join('|');
  let key = derivedKeys.get(cacheKey);
  if (key === undefined) {
    key = deriveBackupKey(passphrase, decoded.salt, decoded.params);
    derivedKeys.set(cacheKey, key);
  }
  const secrets = openBackupWithKey(blob, userId, key);
  const out = new Mismatches();
  if (v.has('identitySeed'))
    out.bytes('identitySeed', secrets.identitySeed, v.bytes('identitySeed'));
  if (v.has('encryptionSeed'))
    out.bytes('encryptionSeed', secrets.encryptionSeed, v.bytes('encryptionSeed'));
  if (v.has('keyVersion'))
    out.value('keyVersion', String(secrets.keyVersion), String(v.number('keyVersion')));
  if (v.has('extra')) out.bytes('extra', secrets.extra, v.bytes('extra'));
  if (v.has('identitySeed') && v.has('encryptionSeed') && v.has('keyVersion') && v.has('extra')) {
    const rebuilt = sealBackupWithKey(
      {
        userId,
        key,
        salt: decoded.salt,
        params: decoded.params,
        secrets: {
          identitySeed: v.bytes('identitySeed'),
          encryptionSeed: v.bytes('encryptionSeed'),
          keyVersion: v.number('keyVersion'),
          extra: v.bytes('extra'),
        },
      },
      decodeBackupBlob(blob).nonce,
    );
    out.bytes('blob', rebuilt, blob);
  }
  return out.list;
}

// §8
function checkDeviceSeal(v: Case): string[] {
  const input = { key: v.bytes('key'), purpose: v.string('purpose'), userId: v.bytes('userId') };
  const blob = v.bytes('blob');
  const plaintext = openForDevice(blob, input);
  const out = new Mismatches();
  if (v.has('plaintext')) out.bytes('plaintext', plaintext, v.bytes('plaintext'));
  // The nonce is the third field of the blob (§7.1): sealing again under it gives the same bytes.
  const nonce = decodeCanon(
    blob,
    'parley/v1/device-seal-blob',
    4,
    'DEVICE_SEAL_MALFORMED',
    'check',
  )[2];
  out.bytes('blob', sealForDevice(plaintext, input, nonce), blob);
  return out.list;
}

function checkAttachment(v: Case): string[] {
  const plaintext = decryptAttachment(
    v.bytes('blob'),
    v.bytes('fileKey'),
    v.bytes('expectedHash'),
    v.number('size'),
  );
  const out = new Mismatches();
  if (v.has('plaintextHash')) {
    out.bytes(
      'plaintextHash',
      sodium.crypto_generichash(32, plaintext, null),
      v.bytes('plaintextHash'),
    );
  }
  if (v.has('plaintext')) out.bytes('plaintext', plaintext, v.bytes('plaintext'));
  return out.list;
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

function sortedObject(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Typed access to a case's fields; a missing or mistyped field is a broken vector file. */
class Case {
  constructor(private readonly vector: VectorCase) {}

  has(name: string): boolean {
    return this.vector[name] !== undefined;
  }

  bytes(name: string): Uint8Array {
    return fromHex(this.string(name));
  }

  string(name: string): string {
    return this.typed(name, 'string') as string;
  }

  number(name: string): number {
    return this.typed(name, 'number') as number;
  }

  boolean(name: string): boolean {
    return this.typed(name, 'boolean') as boolean;
  }

  array(name: string): unknown[] {
    const value = this.vector[name];
    if (!Array.isArray(value))
      throw new TypeError(`case ${this.vector.id}: ${name} is not an array`);
    return value;
  }

  record(name: string): Record<string, unknown> {
    return this.typed(name, 'object') as Record<string, unknown>;
  }

  /** An object field as JSON with its keys in a fixed order, for comparison. */
  json(name: string, keys: readonly string[]): string {
    const value = this.record(name);
    return JSON.stringify(Object.fromEntries(keys.map((key) => [key, value[key]])));
  }

  private typed(name: string, type: 'string' | 'number' | 'boolean' | 'object'): unknown {
    const value = this.vector[name];
    if (typeof value !== type || value === null)
      throw new TypeError(`case ${this.vector.id}: ${name} is not a ${type}`);
    return value;
  }
}

/** Collects the expected outputs a case lists but the library did not reproduce. */
class Mismatches {
  readonly list: string[] = [];

  bytes(name: string, actual: Uint8Array, expected: Uint8Array): void {
    if (toHex(actual) !== toHex(expected)) {
      this.list.push(
        `${name}: got ${shorten(toHex(actual))}, expected ${shorten(toHex(expected))}`,
      );
    }
  }

  value(name: string, actual: string, expected: string): void {
    if (actual !== expected)
      this.list.push(`${name}: got ${shorten(actual)}, expected ${shorten(expected)}`);
  }
}

function shorten(text: string): string {
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
}
