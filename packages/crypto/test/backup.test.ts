import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BACKUP_CEILING,
  BACKUP_FLOOR,
  BACKUP_PARAMS,
  canon,
  checkBackupBlob,
  decodeBackupBlob,
  deriveBackupKey,
  estimatePassphraseStrength,
  openBackup,
  openBackupWithKey,
  sealBackup,
  sealBackupWithKey,
  u64,
  type BackupSecrets,
} from '../src/index';
import { bytes, expectCode, expectEveryFlipRefused, fieldOf, flippedU64, locate } from './helpers';

// Each MODERATE derivation costs about a second, so this file derives four times in all: the
// shared key, sealBackup, openBackup, and the wrong passphrase.
const userId = bytes(16, 0x61);
// Decomposed é and the "ﬁ" ligature: NFKC turns this into the composed text typed on another device.
const passphraseTyped = 'Cafe\u0301 \ufb01sh correct horse';
const passphraseElsewhere = 'Caf\u00e9 fish correct horse';
const salt = bytes(16, 0x62);
const nonce = bytes(24, 0x63);
const secrets: BackupSecrets = {
  identitySeed: bytes(32, 1),
  encryptionSeed: bytes(32, 2),
  keyVersion: 3,
  extra: new TextEncoder().encode('{"contacts":[]}'),
};

let key: Uint8Array;
let blob: Uint8Array;

beforeAll(() => {
  key = deriveBackupKey(passphraseTyped, salt, BACKUP_PARAMS);
  blob = sealWithKey({}, nonce);
});

/** Seals `secrets`, with `changed` fields, under the shared key; a fresh nonce unless one is given. */
function sealWithKey(changed: Partial<BackupSecrets>, fixedNonce?: Uint8Array): Uint8Array {
  return sealBackupWithKey(
    { userId, key, salt, params: BACKUP_PARAMS, secrets: { ...secrets, ...changed } },
    fixedNonce,
  );
}

/** Rebuilds a blob from fields, for structures the library never writes. */
function rawBlob(fields: {
  version?: number;
  opslimit?: number;
  memlimit?: number;
  user?: Uint8Array;
  ciphertext?: Uint8Array;
}) {
  const decoded = decodeBackupBlob(blob);
  return canon('parley/v1/backup-blob', [
    u64(fields.version ?? 1),
    fields.user ?? userId,
    decoded.salt,
    u64(fields.opslimit ?? decoded.params.opslimit),
    u64(fields.memlimit ?? decoded.params.memlimit),
    decoded.nonce,
    fields.ciphertext ?? decoded.ciphertext,
  ]);
}

describe('backup', () => {
  it('seals the canonical blob of §7', () => {
    const decoded = decodeBackupBlob(blob);
    expect(decoded).toMatchObject({
      version: 1,
      userId,
      salt,
      params: { opslimit: 3, memlimit: 268435456 },
      nonce,
    });
    const ad = canon('parley/v1/backup', [userId, u64(1), salt, u64(3), u64(268435456)]);
    const plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      decoded.ciphertext,
      ad,
      nonce,
      key,
    );
    expect(plaintext).toEqual(
      canon('parley/v1/backup-secrets', [
        secrets.identitySeed,
        secrets.encryptionSeed,
        u64(3),
        secrets.extra,
      ]),
    );
  });

  it('sealBackup derives and seals the same bytes', () => {
    expect(sealBackup({ userId, passphrase: passphraseTyped, secrets }, { salt, nonce })).toEqual(
      blob,
    );
  });

  it('opens with the passphrase typed on another device', () => {
    expect(openBackup(blob, { userId, passphrase: passphraseElsewhere })).toEqual(secrets);
  });

  it('refuses a wrong passphrase as BACKUP_DECRYPT_FAILED', () => {
    expectCode(
      () => openBackup(blob, { userId, passphrase: 'Café fish correct horsf' }),
      'BACKUP_DECRYPT_FAILED',
    );
  });

  it('rejects each check of §7 before deriving, in order', () => {
    // None of these reach Argon2: they return at once.
    const started = performance.now();
    const open =
      (b: Uint8Array, user = userId) =>
      () =>
        openBackup(b, { userId: user, passphrase: passphraseTyped });
    expectCode(open(blob.subarray(1)), 'BACKUP_MALFORMED');
    expectCode(open(new Uint8Array([...blob, 0])), 'BACKUP_MALFORMED');
    expectCode(open(rawBlob({ version: 2 })), 'BACKUP_UNSUPPORTED_VERSION');
    expectCode(open(blob, bytes(16, 0)), 'BACKUP_WRONG_USER');
    expectCode(open(rawBlob({ opslimit: 2 })), 'BACKUP_PARAMS_TOO_WEAK');
    expectCode(open(rawBlob({ memlimit: 268435456 - 1024 })), 'BACKUP_PARAMS_TOO_WEAK');
    expectCode(open(rawBlob({ opslimit: 1, memlimit: 8192 })), 'BACKUP_PARAMS_TOO_WEAK');
    expectCode(open(rawBlob({ opslimit: 17 })), 'BACKUP_PARAMS_TOO_HIGH');
    expectCode(open(rawBlob({ memlimit: 2 * 1073741824 })), 'BACKUP_PARAMS_TOO_HIGH');
    expectCode(
      open(rawBlob({ version: 2, user: bytes(16, 0), opslimit: 1 })),
      'BACKUP_UNSUPPORTED_VERSION',
    );
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('rejects malformed secrets inside a valid ciphertext', () => {
    const ad = canon('parley/v1/backup', [userId, u64(1), salt, u64(3), u64(268435456)]);
    const inner = canon('parley/v1/backup-secrets', [
      bytes(31, 1),
      bytes(32, 2),
      u64(1),
      new Uint8Array(),
    ]);
    const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      inner,
      ad,
      null,
      nonce,
      key,
    );
    expectCode(() => openBackupWithKey(rawBlob({ ciphertext }), userId, key), 'BACKUP_MALFORMED');
  });

  it('rejects every flipped byte with the code of the field it lands in', () => {
    const codeFor = (index: number, mask: number): string => {
      const { field, offset } = locate(blob, index);
      const value = (n: number) => flippedU64(fieldOf(blob, n), offset, mask);
      switch (field) {
        case -1:
          return 'BACKUP_MALFORMED';
        case 0:
          return value(0) === undefined ? 'BACKUP_MALFORMED' : 'BACKUP_UNSUPPORTED_VERSION';
        case 1:
          return 'BACKUP_WRONG_USER';
        case 3:
        case 4: {
          const v = value(field);
          const [floor, ceiling] =
            field === 3
              ? [BACKUP_FLOOR.opslimit, BACKUP_CEILING.opslimit]
              : [BACKUP_FLOOR.memlimit, BACKUP_CEILING.memlimit];
          if (v === undefined) return 'BACKUP_MALFORMED';
          if (v < floor) return 'BACKUP_PARAMS_TOO_WEAK';
          if (v > ceiling) return 'BACKUP_PARAMS_TOO_HIGH';
          return 'BACKUP_DECRYPT_FAILED';
        }
        default:
          return 'BACKUP_DECRYPT_FAILED'; // salt, nonce and ciphertext are bound by the AEAD
      }
    };
    // The shared key stands for "the right passphrase": any change must still be refused.
    expectEveryFlipRefused(
      blob,
      (tampered) => openBackupWithKey(tampered, userId, key),
      codeFor,
      300,
    );
  });

  it('checks the blob before a derivation is spent on it', () => {
    expect(checkBackupBlob(blob, userId).params).toEqual(BACKUP_PARAMS);
    expectCode(() => checkBackupBlob(rawBlob({ opslimit: 2 }), userId), 'BACKUP_PARAMS_TOO_WEAK');
  });

  it('refuses to seal or derive outside the floor and ceiling, or with an empty passphrase', () => {
    expectCode(
      () =>
        sealBackup({
          userId,
          passphrase: 'x',
          secrets,
          params: { opslimit: 2, memlimit: BACKUP_FLOOR.memlimit },
        }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () =>
        sealBackup({ userId, passphrase: 'x', secrets, params: { opslimit: 3, memlimit: 65536 } }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => deriveBackupKey('x', salt, { opslimit: 17, memlimit: BACKUP_FLOOR.memlimit }),
      'INVALID_ARGUMENT',
    );
    expectCode(() => deriveBackupKey('', salt, BACKUP_PARAMS), 'INVALID_ARGUMENT');
    expectCode(() => deriveBackupKey('x', bytes(8, 0), BACKUP_PARAMS), 'INVALID_ARGUMENT');
    expectCode(() => sealWithKey({ keyVersion: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => sealWithKey({ identitySeed: bytes(16, 0) }), 'INVALID_ARGUMENT');
  });

  it('uses a fresh nonce for every seal', () => {
    const a = decodeBackupBlob(sealWithKey({}));
    const b = decodeBackupBlob(sealWithKey({}));
    expect(a.nonce).not.toEqual(b.nonce);
  });
});

describe('passphrase strength', () => {
  it('scores common passwords low and long unusual passphrases high', () => {
    expect(estimatePassphraseStrength('password').score).toBe(0);
    expect(estimatePassphraseStrength('qwerty123').score).toBeLessThanOrEqual(1);
    const strong = estimatePassphraseStrength('vintage-quarrel-obelisk-mangrove-41');
    expect(strong.score).toBe(4);
    expect(strong.guessesLog10).toBeGreaterThan(12);
  });

  it('counts the user name against the passphrase and gives feedback', () => {
    const plain = estimatePassphraseStrength('zebulon1987');
    const named = estimatePassphraseStrength('zebulon1987', ['zebulon']);
    expect(named.guessesLog10).toBeLessThan(plain.guessesLog10);
    expect(estimatePassphraseStrength('aaaaaaaa').suggestions.length).toBeGreaterThan(0);
  });
});
