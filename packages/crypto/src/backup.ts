// Key backup (PROTOCOL.md §7): the identity and encryption seeds (and whatever else a new device
// needs) encrypted under a key derived from a passphrase with Argon2id, with the user id, version and
// KDF parameters bound as associated data. Also the passphrase-strength estimate the UI shows.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEnglish from '@zxcvbn-ts/language-en';
import {
  ID_BYTES,
  assertBytes,
  assertString,
  assertU64,
  bytesEqual,
  canon,
  decodeCanon,
  expectLength,
  readU64,
  u64,
  utf8,
} from './encoding';
import { CryptoError, withOperation } from './errors';
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  SEED_BYTES,
  aeadDecrypt,
  aeadEncrypt,
  argon2id,
  memzero,
  randomBytes,
} from './sodium';

export const BACKUP_VERSION = 1;
export const BACKUP_SALT_BYTES = 16;

export interface KdfParams {
  /** Argon2id passes. */
  opslimit: number;
  /** Argon2id memory in bytes. */
  memlimit: number;
}

/** What Parley writes: libsodium's MODERATE limits. */
export const BACKUP_PARAMS: Readonly<KdfParams> = Object.freeze({
  opslimit: 3,
  memlimit: 268435456,
});
/** Below this a client refuses to open a blob: a weaker blob could have been planted to be cracked. */
export const BACKUP_FLOOR: Readonly<KdfParams> = Object.freeze({
  opslimit: 3,
  memlimit: 268435456,
});
/** Above this a client refuses to spend the work: a server could make a device hang or crash. */
export const BACKUP_CEILING: Readonly<KdfParams> = Object.freeze({
  opslimit: 16,
  memlimit: 1073741824,
});

export const LABEL_BACKUP = 'parley/v1/backup';
export const LABEL_BACKUP_SECRETS = 'parley/v1/backup-secrets';
export const LABEL_BACKUP_BLOB = 'parley/v1/backup-blob';

export interface BackupSecrets {
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  /** The encryption key's version (§3.1). */
  keyVersion: number;
  /** Application data a new device needs (for example verified contacts); may be empty. */
  extra: Uint8Array;
}

export interface BackupBlob {
  version: number;
  userId: Uint8Array;
  salt: Uint8Array;
  params: KdfParams;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export interface SealBackupInput {
  userId: Uint8Array;
  passphrase: string;
  secrets: BackupSecrets;
  /** Defaults to BACKUP_PARAMS; must lie between the floor and the ceiling. */
  params?: KdfParams;
}

export interface PassphraseStrength {
  /** 0 (too guessable) to 4 (very unguessable), zxcvbn's scale. */
  score: 0 | 1 | 2 | 3 | 4;
  guessesLog10: number;
  warning: string | null;
  suggestions: string[];
}

/**
 * Encrypts the secrets under a fresh salt and nonce. `dangerousTestOnlyRandomness` fixes both so
 * that test vectors are reproducible; never pass it otherwise.
 */
export function sealBackup(
  input: SealBackupInput,
  dangerousTestOnlyRandomness?: { salt: Uint8Array; nonce: Uint8Array },
): Uint8Array {
  const operation = 'sealBackup';
  const params = input.params ?? BACKUP_PARAMS;
  assertParams(params, operation);
  const salt =
    dangerousTestOnlyRandomness === undefined
      ? randomBytes(BACKUP_SALT_BYTES)
      : assertBytes(dangerousTestOnlyRandomness.salt, operation, 'salt', BACKUP_SALT_BYTES);
  const key = deriveBackupKey(input.passphrase, salt, params);
  try {
    return sealBackupWithKey(
      { userId: input.userId, key, salt, params, secrets: input.secrets },
      dangerousTestOnlyRandomness?.nonce,
    );
  } finally {
    memzero(key);
  }
}

/** Opens a blob with the checks of §7 in order, deriving the key from the passphrase. */
export function openBackup(
  blob: Uint8Array,
  expected: { userId: Uint8Array; passphrase: string },
): BackupSecrets {
  const operation = 'openBackup';
  assertString(expected.passphrase, operation, 'passphrase');
  let decoded: BackupBlob;
  try {
    decoded = checkBackupBlob(blob, expected.userId);
  } catch (error) {
    throw withOperation(error, operation);
  }
  const key = deriveBackupKey(expected.passphrase, decoded.salt, decoded.params);
  try {
    return openBackupWithKey(blob, expected.userId, key);
  } catch (error) {
    throw withOperation(error, operation);
  } finally {
    memzero(key);
  }
}

/**
 * Decodes a blob and runs the checks that need no key (§7: malformed, version, user, floor,
 * ceiling), so that a client refuses a bad blob before spending the derivation on it.
 */
export function checkBackupBlob(blob: Uint8Array, userId: Uint8Array): BackupBlob {
  const operation = 'checkBackupBlob';
  assertBytes(userId, operation, 'userId', ID_BYTES);
  const decoded = decodeBackupBlob(blob);
  if (decoded.version !== BACKUP_VERSION) {
    throw new CryptoError('BACKUP_UNSUPPORTED_VERSION', operation, `version ${decoded.version}`);
  }
  if (!bytesEqual(decoded.userId, userId)) {
    throw new CryptoError('BACKUP_WRONG_USER', operation, 'the backup belongs to another account');
  }
  const { opslimit, memlimit } = decoded.params;
  if (opslimit < BACKUP_FLOOR.opslimit || memlimit < BACKUP_FLOOR.memlimit) {
    throw new CryptoError(
      'BACKUP_PARAMS_TOO_WEAK',
      operation,
      `opslimit ${opslimit}, memlimit ${memlimit} below the floor`,
    );
  }
  if (opslimit > BACKUP_CEILING.opslimit || memlimit > BACKUP_CEILING.memlimit) {
    throw new CryptoError(
      'BACKUP_PARAMS_TOO_HIGH',
      operation,
      `opslimit ${opslimit}, memlimit ${memlimit} above the ceiling`,
    );
  }
  return decoded;
}

/**
 * The backup key: Argon2id over the NFKC-normalised UTF-8 passphrase. Exposed so that a browser can
 * run this slow step in a worker and then call openBackupWithKey or sealBackupWithKey.
 */
export function deriveBackupKey(
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
): Uint8Array {
  const operation = 'deriveBackupKey';
  assertString(passphrase, operation, 'passphrase');
  if (passphrase.length === 0)
    throw new CryptoError('INVALID_ARGUMENT', operation, 'passphrase: empty');
  assertBytes(salt, operation, 'salt', BACKUP_SALT_BYTES);
  assertParams(params, operation);
  const password = utf8(passphrase.normalize('NFKC'));
  try {
    return argon2id(AEAD_KEY_BYTES, password, salt, params.opslimit, params.memlimit);
  } finally {
    memzero(password);
  }
}

/** Encrypts the secrets under a derived key; `salt` and `params` must be the ones it came from. */
export function sealBackupWithKey(
  input: {
    userId: Uint8Array;
    key: Uint8Array;
    salt: Uint8Array;
    params: KdfParams;
    secrets: BackupSecrets;
  },
  dangerousTestOnlyNonce?: Uint8Array,
): Uint8Array {
  const operation = 'sealBackupWithKey';
  assertBytes(input.userId, operation, 'userId', ID_BYTES);
  assertBytes(input.key, operation, 'key', AEAD_KEY_BYTES);
  assertBytes(input.salt, operation, 'salt', BACKUP_SALT_BYTES);
  assertParams(input.params, operation);
  const { secrets } = input;
  assertBytes(secrets?.identitySeed, operation, 'identitySeed', SEED_BYTES);
  assertBytes(secrets.encryptionSeed, operation, 'encryptionSeed', SEED_BYTES);
  assertU64(secrets.keyVersion, operation, 'keyVersion', 1);
  assertBytes(secrets.extra, operation, 'extra');
  const nonce =
    dangerousTestOnlyNonce === undefined
      ? randomBytes(AEAD_NONCE_BYTES)
      : assertBytes(dangerousTestOnlyNonce, operation, 'dangerousTestOnlyNonce', AEAD_NONCE_BYTES);
  const plaintext = canon(LABEL_BACKUP_SECRETS, [
    secrets.identitySeed,
    secrets.encryptionSeed,
    u64(secrets.keyVersion),
    secrets.extra,
  ]);
  const ciphertext = aeadEncrypt(
    plaintext,
    associatedData(input.userId, input.salt, input.params),
    nonce,
    input.key,
  );
  memzero(plaintext);
  return canon(LABEL_BACKUP_BLOB, [
    u64(BACKUP_VERSION),
    input.userId,
    input.salt,
    u64(input.params.opslimit),
    u64(input.params.memlimit),
    nonce,
    ciphertext,
  ]);
}

/** Runs every check of §7 with a key already derived from this blob's salt and parameters. */
export function openBackupWithKey(
  blob: Uint8Array,
  userId: Uint8Array,
  key: Uint8Array,
): BackupSecrets {
  const operation = 'openBackupWithKey';
  assertBytes(key, operation, 'key', AEAD_KEY_BYTES);
  let decoded: BackupBlob;
  try {
    decoded = checkBackupBlob(blob, userId);
  } catch (error) {
    throw withOperation(error, operation);
  }
  const plaintext = aeadDecrypt(
    decoded.ciphertext,
    associatedData(decoded.userId, decoded.salt, decoded.params),
    decoded.nonce,
    key,
  );
  if (plaintext === undefined) {
    // A wrong passphrase and a tampered blob are indistinguishable, by design of the AEAD.
    throw new CryptoError('BACKUP_DECRYPT_FAILED', operation, 'wrong passphrase or damaged backup');
  }
  try {
    return decodeSecrets(plaintext, operation);
  } finally {
    memzero(plaintext);
  }
}

/** Decodes the blob's structure only (BACKUP_MALFORMED). */
export function decodeBackupBlob(blob: Uint8Array): BackupBlob {
  const operation = 'decodeBackupBlob';
  const code = 'BACKUP_MALFORMED';
  assertBytes(blob, operation, 'blob');
  const [version, userId, salt, opslimit, memlimit, nonce, ciphertext] = decodeCanon(
    blob,
    LABEL_BACKUP_BLOB,
    7,
    code,
    operation,
  );
  return {
    version: readU64(version, code, operation, 'version'),
    userId: expectLength(userId, ID_BYTES, code, operation, 'userId'),
    salt: expectLength(salt, BACKUP_SALT_BYTES, code, operation, 'salt'),
    params: {
      opslimit: readU64(opslimit, code, operation, 'opslimit'),
      memlimit: readU64(memlimit, code, operation, 'memlimit'),
    },
    nonce: expectLength(nonce, AEAD_NONCE_BYTES, code, operation, 'nonce'),
    ciphertext,
  };
}

/**
 * How guessable a passphrase is, from zxcvbn's dictionaries and patterns (common and English),
 * offline. `userInputs` are words the guesser would try first (username, display name).
 */
export function estimatePassphraseStrength(
  passphrase: string,
  userInputs: readonly string[] = [],
): PassphraseStrength {
  assertString(passphrase, 'estimatePassphraseStrength', 'passphrase');
  // zxcvbn is exponential in length past a point; the first 256 characters decide the score.
  const result = estimator().check(passphrase.slice(0, 256), [...userInputs]);
  return {
    score: result.score,
    guessesLog10: result.guessesLog10,
    warning: result.feedback.warning,
    suggestions: result.feedback.suggestions,
  };
}

function associatedData(userId: Uint8Array, salt: Uint8Array, params: KdfParams): Uint8Array {
  return canon(LABEL_BACKUP, [
    userId,
    u64(BACKUP_VERSION),
    salt,
    u64(params.opslimit),
    u64(params.memlimit),
  ]);
}

function decodeSecrets(plaintext: Uint8Array, operation: string): BackupSecrets {
  const code = 'BACKUP_MALFORMED';
  const [identitySeed, encryptionSeed, keyVersion, extra] = decodeCanon(
    plaintext,
    LABEL_BACKUP_SECRETS,
    4,
    code,
    operation,
  );
  return {
    identitySeed: expectLength(identitySeed, SEED_BYTES, code, operation, 'identitySeed'),
    encryptionSeed: expectLength(encryptionSeed, SEED_BYTES, code, operation, 'encryptionSeed'),
    keyVersion: readU64(keyVersion, code, operation, 'keyVersion'),
    extra,
  };
}

function assertParams(params: KdfParams, operation: string): void {
  const opslimit = assertU64(params?.opslimit, operation, 'opslimit');
  const memlimit = assertU64(params.memlimit, operation, 'memlimit');
  if (opslimit < BACKUP_FLOOR.opslimit || memlimit < BACKUP_FLOOR.memlimit) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `KDF parameters below the floor (${opslimit}, ${memlimit})`,
    );
  }
  if (opslimit > BACKUP_CEILING.opslimit || memlimit > BACKUP_CEILING.memlimit) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `KDF parameters above the ceiling (${opslimit}, ${memlimit})`,
    );
  }
}

let zxcvbn: ZxcvbnFactory | undefined;

// Built on first use: the dictionaries take a moment to index and most callers never need them.
function estimator(): ZxcvbnFactory {
  zxcvbn ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEnglish.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEnglish.translations,
  });
  return zxcvbn;
}
