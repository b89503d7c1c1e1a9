// Throughput of the protocol operations next to the bare libsodium primitives each one calls,
// measured in the same run, so that the table shows what the protocol layer (encoding, checks,
// copies) costs on top of the cryptography.
//
//   pnpm bench:crypto
import sodium from 'libsodium-wrappers-sumo';
import {
  BACKUP_PARAMS,
  canon,
  decodeMessageEnvelope,
  deriveBackupKey,
  deriveMessageKey,
  encodePayload,
  encryptMessage,
  encryptionKeyPair,
  generateRoomKey,
  identityKeyPair,
  openMessage,
  openRoomKeyEnvelope,
  ready,
  sealRoomKey,
  u64,
  type OpenMessageContext,
} from '../src/index';

interface Measurement {
  /** Operations per second. */
  rate: number;
  /** Milliseconds per operation. */
  ms: number;
}

/** Runs `operation` for at least `minimumMs` and `minimumRuns` and reports the rate. */
function measure(operation: () => void, minimumMs: number, minimumRuns: number): Measurement {
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minimumMs || runs < minimumRuns) {
    operation();
    runs++;
    elapsed = performance.now() - started;
  }
  return { rate: (runs / elapsed) * 1000, ms: elapsed / runs };
}

/**
 * Measures the library and the bare primitives in alternating rounds and keeps each side's median,
 * so that a change in machine load during the run shifts both sides alike.
 */
function compare(
  library: () => void,
  bare: () => void,
  roundMs = 300,
  rounds = 5,
  minimumRuns = 3,
): { library: Measurement; bare: Measurement } {
  const sides: Measurement[][] = [[], []];
  // One untimed run each first, so that neither side pays for JIT warm-up or heap growth.
  library();
  bare();
  for (let round = 0; round < rounds; round++) {
    sides[0]!.push(measure(library, roundMs, minimumRuns));
    sides[1]!.push(measure(bare, roundMs, minimumRuns));
  }
  const median = (list: Measurement[]) =>
    [...list].sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)]!;
  return { library: median(sides[0]!), bare: median(sides[1]!) };
}

interface Row {
  operation: string;
  library: Measurement;
  bare: Measurement;
  primitives: string;
}

await ready();
await sodium.ready;

const roomId = crypto.getRandomValues(new Uint8Array(16));
const senderId = crypto.getRandomValues(new Uint8Array(16));
const sender = identityKeyPair(crypto.getRandomValues(new Uint8Array(32)));
const roomKey = generateRoomKey();
const text = 'x'.repeat(300); // a 300-byte message: its payload pads to the 512 bucket
const rows: Row[] = [];

// --- messages ---------------------------------------------------------------------------------
const send = () =>
  encryptMessage({
    roomId,
    epoch: 1,
    roomKey,
    senderId,
    sender,
    counter: 1,
    clientTime: 1_700_000_000_000,
    payload: { kind: 'text', text },
  });
const sealed = send();
const padded = encodePayload({ kind: 'text', text });
// The bare runs work on inputs of the same sizes as the real ones: the unpadded payload, the
// header, the signed input and the envelope.
const { headerBytes: header } = decodeMessageEnvelope(sealed.envelope);
const payloadBytes = sodium.unpad(padded, padded.length);
const messageKeyInput = canon('parley/v1/message-key', [roomId, u64(1)]);
const signedInput = new Uint8Array(sealed.envelope.length - 64 - 4 - 30);
rows.push({
  operation: 'encrypt + sign a 300-byte message',
  ...compare(send, () => {
    const plaintext = sodium.pad(payloadBytes, 512);
    const key = sodium.crypto_generichash(32, messageKeyInput, roomKey);
    const fresh = crypto.getRandomValues(new Uint8Array(24));
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, fresh, key);
    sodium.crypto_sign_detached(signedInput, sender.secretKey);
    sodium.crypto_generichash(32, sealed.envelope, null);
  }),
  primitives: 'Pad, KH, AEAD encrypt (512 B), Sign, H',
});

const context: OpenMessageContext = {
  roomId,
  identityKeyOf: () => sender.publicKey,
  senderIsMember: true,
  roomKeyOf: () => roomKey,
};
const nonce = new Uint8Array(24);
const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
  padded,
  header,
  null,
  nonce,
  deriveMessageKey(roomKey, roomId, 1),
);
const signature = sodium.crypto_sign_detached(signedInput, sender.secretKey);
rows.push({
  operation: 'verify + decrypt a 300-byte message',
  ...compare(
    () => openMessage(sealed.envelope, context),
    () => {
      sodium.crypto_sign_verify_detached(signature, signedInput, sender.publicKey);
      const key = sodium.crypto_generichash(32, messageKeyInput, roomKey);
      const plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        ciphertext,
        header,
        nonce,
        key,
      );
      sodium.unpad(plaintext, plaintext.length);
      sodium.crypto_generichash(32, sealed.envelope, null);
    },
  ),
  primitives: 'Verify, KH, AEAD decrypt, Unpad, H',
});

// --- room keys --------------------------------------------------------------------------------
const members = Array.from({ length: 1000 }, () => ({
  id: crypto.getRandomValues(new Uint8Array(16)),
  encryptionKey: encryptionKeyPair(crypto.getRandomValues(new Uint8Array(32))).publicKey,
}));
const distributorId = crypto.getRandomValues(new Uint8Array(16));
const sealToAll = () => {
  for (const member of members) {
    sealRoomKey({
      roomKey,
      roomId,
      epoch: 3,
      recipientId: member.id,
      recipientEncryptionKey: member.encryptionKey,
      distributorId,
      distributor: sender,
    });
  }
};
const sigInput = new Uint8Array(120);
rows.push({
  operation: 'seal one room key to 1,000 members',
  ...compare(
    sealToAll,
    () => {
      for (const member of members) {
        const box = sodium.crypto_box_seal(roomKey, member.encryptionKey);
        sodium.crypto_generichash(32, box, null);
        sodium.crypto_sign_detached(sigInput, sender.secretKey);
      }
    },
    1000,
    3,
    1,
  ),
  primitives: '1,000 x (crypto_box_seal, H, Sign)',
});

const recipient = encryptionKeyPair(crypto.getRandomValues(new Uint8Array(32)));
const recipientId = crypto.getRandomValues(new Uint8Array(16));
const envelope = sealRoomKey({
  roomKey,
  roomId,
  epoch: 3,
  recipientId,
  recipientEncryptionKey: recipient.publicKey,
  distributorId,
  distributor: sender,
});
const box = sodium.crypto_box_seal(roomKey, recipient.publicKey);
const boxSignature = sodium.crypto_sign_detached(sigInput, sender.secretKey);
rows.push({
  operation: 'open a room-key envelope',
  ...compare(
    () =>
      openRoomKeyEnvelope(envelope, {
        roomId,
        epoch: 3,
        recipientId,
        recipientKeyPair: recipient,
        distributorIdentityKey: sender.publicKey,
        distributorEntitled: true,
      }),
    () => {
      sodium.crypto_generichash(32, box, null);
      sodium.crypto_sign_verify_detached(boxSignature, sigInput, sender.publicKey);
      sodium.crypto_box_seal_open(box, recipient.publicKey, recipient.secretKey);
    },
  ),
  primitives: 'H, Verify, SealOpen',
});

// --- backup -----------------------------------------------------------------------------------
const salt = crypto.getRandomValues(new Uint8Array(16));
rows.push({
  operation: 'derive a backup key (MODERATE: 3 passes, 256 MiB)',
  ...compare(
    () => deriveBackupKey('correct horse battery staple', salt, BACKUP_PARAMS),
    () =>
      sodium.crypto_pwhash(
        32,
        'correct horse battery staple',
        salt,
        BACKUP_PARAMS.opslimit,
        BACKUP_PARAMS.memlimit,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
      ),
    0,
    3,
    1,
  ),
  primitives: 'crypto_pwhash Argon2id13',
});

printTable(rows);

function printTable(table: Row[]): void {
  const format = (m: Measurement) =>
    m.rate >= 10 ? `${Math.round(m.rate).toLocaleString('en')} ops/s` : `${m.ms.toFixed(0)} ms/op`;
  const header = ['operation', '@parley/crypto', 'bare libsodium', 'ratio', 'bare primitives'];
  const lines = table.map((row) => [
    row.operation,
    format(row.library),
    format(row.bare),
    `${(row.library.ms / row.bare.ms).toFixed(2)}x`,
    row.primitives,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]!.length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => (i >= 1 && i <= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ');
  console.log(`libsodium ${sodium.sodium_version_string()}, Node ${process.version}`);
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(render(line));
  console.log(
    'ratio = time per operation of @parley/crypto / time of the bare primitives it is built on',
  );
}
