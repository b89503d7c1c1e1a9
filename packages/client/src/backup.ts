// The encrypted backup (PROTOCOL.md §7): the account's seeds and the verified contacts, sealed
// under a key stretched from a passphrase the server never sees, so that a new device can restore
// the account. The passphrase is judged (zxcvbn, and never the password) before anything is sealed;
// a blob is checked as this account's before Argon2id runs, so a planted one costs nothing.
// The stretched key stays on this device (beside the seeds it protects), so that the backup is
// sealed again whenever the verified contacts change, without asking for the passphrase.

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
  type KdfParams,
  type PassphraseStrength,
} from '@parley/crypto';
import type { ServerApi } from './api';
import { ClientError } from './errors';
import type { KeyStore } from './key-store/key-store';
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
  /** The rooms an identity reset left behind, so a restored device leaves them alone too. */
  leftBehind(): string[];
  store: KeyStore;
  deriveBackupKey: DeriveBackupKey;
}

/** Where the key store keeps the stretched backup key, its salt and parameters. */
const SEALING_KEY = 'backup-key';

interface Sealing {
  key: Uint8Array;
  salt: Uint8Array;
  params: KdfParams;
}

export function checkPassphrase(
  passphrase: string,
  userInputs: string[] = [],
): PassphraseStrength & { acceptable: boolean } {
  const strength = estimatePassphraseStrength(passphrase, userInputs);
  return { ...strength, acceptable: strength.score >= MIN_PASSPHRASE_SCORE };
}

export class Backup {
  /** Reseals run one after the other, so the newest verified set is the one stored last. */
  private resealing: Promise<void> = Promise.resolve();

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
    const sealing = { key, salt, params: BACKUP_PARAMS };
    await this.seal(sealing, account);
    await this.keep(sealing);
  }

  /**
   * Seals the account under `passphrase` without storing it: the blob for a request that stores
   * it itself (an identity reset, which names the rooms it leaves behind), and `keep` to call once
   * that request succeeded.
   */
  async prepare(
    passphrase: string,
    account: BackedUpAccount,
    leftBehind: string[],
  ): Promise<{ blob: string; keep(): Promise<void> }> {
    const salt = crypto.getRandomValues(new Uint8Array(BACKUP_SALT_BYTES));
    const key = await this.deps.deriveBackupKey(passphrase, salt, BACKUP_PARAMS);
    const sealing = { key, salt, params: BACKUP_PARAMS };
    const blob = this.sealed(sealing, account, leftBehind);
    return { blob: toBase64Url(blob), keep: () => this.keep(sealing) };
  }

  /**
   * Seals the backup again with the key kept from the last `store` or `open` (the verified
   * contacts changed); nothing when this device never had the passphrase.
   */
  reseal(account: BackedUpAccount): Promise<void> {
    this.resealing = this.resealing.then(async () => {
      const kept = await this.deps.store.get(SEALING_KEY);
      if (kept === undefined) return;
      const record = kept as unknown as { key: string; salt: string; params: KdfParams };
      const sealing = {
        key: fromBase64Url(record.key),
        salt: fromBase64Url(record.salt),
        params: record.params,
      };
      await this.seal(sealing, account);
    });
    return this.resealing;
  }

  private async seal(sealing: Sealing, account: BackedUpAccount): Promise<void> {
    await this.deps.api.storeBackup(toBase64Url(this.sealed(sealing, account)));
  }

  private sealed(
    sealing: Sealing,
    account: BackedUpAccount,
    leftBehind = this.deps.leftBehind(),
  ): Uint8Array {
    return sealBackupWithKey({
      userId: fromHex(account.userId),
      ...sealing,
      secrets: {
        identitySeed: account.identitySeed,
        encryptionSeed: account.encryptionSeed,
        keyVersion: account.keyVersion,
        extra: utf8(
          JSON.stringify({
            verified: this.deps.trust.exportVerified(),
            leftBehind,
          }),
        ),
      },
    });
  }

  private async keep(sealing: Sealing): Promise<void> {
    await this.deps.store.set(SEALING_KEY, {
      key: toBase64Url(sealing.key),
      salt: toBase64Url(sealing.salt),
      params: { ...sealing.params },
    });
  }

  /** The secrets in `blob`, with every check of §7; the planted blob is refused before Argon2id. */
  async open(blob: Uint8Array, userId: string, passphrase: string) {
    const { salt, params } = checkBackupBlob(blob, fromHex(userId));
    const key = await this.deps.deriveBackupKey(passphrase, salt, params);
    const secrets = openBackupWithKey(blob, fromHex(userId), key);
    await this.keep({ key, salt, params });
    return secrets;
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

/**
 * The verified contacts and left-behind rooms a backup carries (nothing, if its extra part is not
 * what we wrote).
 */
export function parseBackupExtra(extra: Uint8Array): { verified: string[]; leftBehind: string[] } {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  try {
    const parsed = JSON.parse(new TextDecoder().decode(extra)) as {
      verified?: unknown;
      leftBehind?: unknown;
    };
    return { verified: strings(parsed.verified), leftBehind: strings(parsed.leftBehind) };
  } catch {
    return { verified: [], leftBehind: [] };
  }
}
