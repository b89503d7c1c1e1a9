// The encrypted backup (PROTOCOL.md §7): the account's seeds and the verified contacts, sealed
// under a key stretched from a passphrase the server never sees, so that a new device can restore
// the account. The passphrase is judged (zxcvbn, and never the password) before anything is sealed;
// a blob is checked as this account's before Argon2id runs, so a planted one costs nothing.
import {
  BACKUP_PARAMS,
  BACKUP_SALT_BYTES,
  checkBackupBlob,
  estimatePassphraseStrength,
  fromBase64Url,
  fromHex,
  openBackupWithKey,
  sealBackupWithKey,
  toBase64Url,
  utf8,
  type PassphraseStrength,
} from '@parley/crypto';
import type { ServerApi } from './api';
import { ClientError } from './errors';
import type { DeriveBackupKey } from './options';
import type { TrustStore } from './trust';

/** The zxcvbn score a backup passphrase needs (3: "safely unguessable", about 10^10 guesses). */
export const MIN_PASSPHRASE_SCORE = 3;

/** What a backup holds of the account. */
export interface BackedUpAccount {
  userId: string;
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  keyVersion: number;
}

export interface BackupDeps {
  api: ServerApi;
  trust: TrustStore;
  deriveBackupKey: DeriveBackupKey;
}

export function checkPassphrase(
  passphrase: string,
  userInputs: string[] = [],
): PassphraseStrength & { acceptable: boolean } {
  const strength = estimatePassphraseStrength(passphrase, userInputs);
  return { ...strength, acceptable: strength.score >= MIN_PASSPHRASE_SCORE };
}

export class Backup {
  constructor(private readonly deps: BackupDeps) {}

  assertPassphrase(
    passphrase: string,
    context: { username: string; password?: string | undefined },
    operation: string,
  ): void {
    if (
      context.password !== undefined &&
      passphrase.normalize('NFKC') === context.password.normalize('NFKC')
    ) {
      throw new ClientError(
        'PASSPHRASE_IS_PASSWORD',
        operation,
        'the backup passphrase must differ from the password (the server sees the password)',
      );
    }
    const strength = checkPassphrase(passphrase, [context.username]);
    if (!strength.acceptable) {
      throw new ClientError(
        'PASSPHRASE_TOO_WEAK',
        operation,
        strength.warning ?? 'choose a longer passphrase, for example four or more unrelated words',
      );
    }
  }

  /** Seals the account (and the verified contacts) under `passphrase` and stores it. */
  async store(passphrase: string, account: BackedUpAccount): Promise<void> {
    const salt = crypto.getRandomValues(new Uint8Array(BACKUP_SALT_BYTES));
    const key = await this.deps.deriveBackupKey(passphrase, salt, BACKUP_PARAMS);
    const blob = sealBackupWithKey({
      userId: fromHex(account.userId),
      key,
      salt,
      params: BACKUP_PARAMS,
      secrets: {
        identitySeed: account.identitySeed,
        encryptionSeed: account.encryptionSeed,
        keyVersion: account.keyVersion,
        extra: utf8(JSON.stringify({ verified: this.deps.trust.exportVerified() })),
      },
    });
    key.fill(0);
    await this.deps.api.storeBackup(toBase64Url(blob));
  }

  /** The secrets in `blob`, with every check of §7; the planted blob is refused before Argon2id. */
  async open(blob: Uint8Array, userId: string, passphrase: string) {
    const { salt, params } = checkBackupBlob(blob, fromHex(userId));
    const key = await this.deps.deriveBackupKey(passphrase, salt, params);
    try {
      return openBackupWithKey(blob, fromHex(userId), key);
    } finally {
      key.fill(0);
    }
  }

  /** The stored backup blob; BACKUP_NOT_FOUND (404) when the account never stored one. */
  async fetch(): Promise<Uint8Array> {
    const answer = await this.deps.api.fetchBackup();
    try {
      return fromBase64Url(answer.blob);
    } catch (error) {
      throw new ClientError('BAD_RESPONSE', 'fetchBackup', 'the backup is not base64url', {
        cause: error,
      });
    }
  }
}

/** The verified contacts a backup carries (nothing, if its extra part is not what we wrote). */
export function parseBackupExtra(extra: Uint8Array): { verified: string[] } {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(extra)) as { verified?: unknown };
    return {
      verified: Array.isArray(parsed.verified)
        ? parsed.verified.filter((item): item is string => typeof item === 'string')
        : [],
    };
  } catch {
    return { verified: [] };
  }
}
