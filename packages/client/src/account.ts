// The account on this device: signing up (its keys made here, only the public ones published),
// logging in and out, restoring on a new device from the encrypted backup, and the account record
// kept in the key store. A key store holds one account: a log-in as another is refused, and a
// failed restore leaves the device as it was.
import {
  encryptionKeyPair,
  fingerprint,
  fromBase64Url,
  fromHex,
  generateIdentity,
  identityKeyPair,
  signEncryptionKey,
  toBase64Url,
  toHex,
} from '@parley/crypto';
import { normalizePassword, type AccountRules } from '@parley/wire';
import { parseBackupExtra, type Backup } from './backup';
import { ROOM_PREFIX, secretsOf, type AccountRecord, type ClientContext } from './context';
import { ClientError, fromCryptoError } from './errors';
import type { StoredValue } from './key-store/key-store';
import type { Session } from './session';

export interface Me {
  userId: string;
  username: string;
  identityKey: Uint8Array;
  encryptionKey: Uint8Array;
  /** BLAKE2b fingerprint of the identity key (§3.3), hex. */
  fingerprint: string;
}

export interface Credentials {
  username: string;
  password: string;
}

const ACCOUNT_KEY = 'account';
/** The rooms an identity reset left behind (ClientContext.leftBehind). */
const LEFT_BEHIND_KEY = 'left-behind-rooms';

export interface AccountHooks {
  /** Stops the WebSocket (a log-out ends it before the session). */
  disconnect(): void;
  /** Reads every room of the account (a restored device has none yet). */
  syncRooms(): Promise<void>;
}

export class Account {
  constructor(
    private readonly ctx: ClientContext,
    private readonly session: Session,
    private readonly backup: Backup,
    private readonly hooks: AccountHooks,
  ) {}

  /** This device's account, or undefined before sign-up, restore or log-in with stored keys. */
  get me(): Me | undefined {
    const secrets = this.ctx.secrets;
    if (secrets === undefined) return undefined;
    return {
      userId: secrets.record.userId,
      username: secrets.record.username,
      identityKey: secrets.identity.publicKey,
      encryptionKey: secrets.encryption.publicKey,
      fingerprint: toHex(fingerprint(fromHex(secrets.record.userId), secrets.identity.publicKey)),
    };
  }

  /** The account and the session the key store holds. */
  async load(): Promise<void> {
    const account = await this.ctx.store.get(ACCOUNT_KEY);
    if (account !== undefined) this.ctx.secrets = secretsOf(decodeAccount(account));
    const left = await this.ctx.store.get(LEFT_BEHIND_KEY);
    if (Array.isArray(left)) for (const id of left) this.ctx.leftBehind.add(String(id));
    await this.session.load();
  }

  /**
   * Registers, generates the identity and encryption keys on this device, publishes the public
   * ones, and (with `passphrase`) stores the encrypted backup. The passphrase is checked first, so a
   * weak one fails before anything is registered. With `email`, the server mails that address a
   * verification link (see AccountEmail).
   */
  async signUp(input: Credentials & { passphrase?: string; email?: string }): Promise<Me> {
    const operation = 'signUp';
    if (this.ctx.secrets !== undefined) {
      throw new ClientError(
        'ACCOUNT_MISMATCH',
        operation,
        'this key store already holds an account',
      );
    }
    if (input.passphrase !== undefined)
      this.backup.assertPassphrase(input.passphrase, input, operation);
    const answer = await this.ctx.api.register({
      username: input.username,
      password: normalizePassword(input.password),
      ...(input.email === undefined || input.email.trim() === '' ? {} : { email: input.email }),
    });
    await this.session.save(answer);
    const seeds = generateIdentity();
    await this.save({
      userId: answer.user.id,
      username: answer.user.username,
      identitySeed: seeds.identitySeed,
      encryptionSeed: seeds.encryptionSeed,
      keyVersion: 1,
    });
    await this.publishKeys();
    if (input.passphrase !== undefined)
      await this.backup.store(input.passphrase, this.ctx.requireSecrets(operation).record);
    return this.me!;
  }

  /**
   * Logs in. On a device that already holds this account's keys that is all; on a new device the
   * session is open but the keys must come from `restore` (or use `restore` directly).
   */
  async logIn(input: Credentials): Promise<void> {
    const answer = await this.ctx.api.logIn({
      username: input.username,
      password: normalizePassword(input.password),
    });
    const secrets = this.ctx.secrets;
    if (secrets !== undefined && secrets.record.userId !== answer.user.id) {
      throw new ClientError(
        'ACCOUNT_MISMATCH',
        'logIn',
        'this key store holds another account; use a key store of its own',
      );
    }
    await this.session.save(answer);
  }

  /**
   * A new device: logs in, fetches the backup, opens it with the passphrase (a wrong one is
   * BACKUP_DECRYPT_FAILED and changes nothing on this device), then reads every room's history.
   */
  async restore(input: Credentials & { passphrase: string }): Promise<Me> {
    const operation = 'restore';
    const hadSession = this.session.isOpen;
    await this.logIn(input);
    const userId = this.session.userId!;
    let secrets;
    try {
      const blob = await this.backup.fetch();
      secrets = await this.backup.open(blob, userId, input.passphrase);
    } catch (error) {
      // A failed restore leaves the device as it was: not even a session of its own remains.
      if (!hadSession) await this.logOut();
      throw fromCryptoError(error, operation);
    }
    await this.save({
      userId,
      username: this.session.username ?? input.username,
      identitySeed: secrets.identitySeed,
      encryptionSeed: secrets.encryptionSeed,
      keyVersion: secrets.keyVersion,
    });
    const extra = parseBackupExtra(secrets.extra);
    await this.leaveBehind(extra.leftBehind);
    await this.hooks.syncRooms();
    // Verified contacts that share no room with this account are pinned too, so none is lost.
    await this.ctx.trust.importVerified(extra.verified, (userId) =>
      this.ctx.people.ensurePinned([userId]),
    );
    return this.me!;
  }

  /**
   * An identity reset (PROTOCOL.md §3.4), for a user signed in who lost every device and the
   * backup passphrase: new identity and encryption keys made here, published (with the password,
   * as the next identity version and an encryption-key version above the current one), and a new
   * backup under `passphrase`, checked first. Every contact's device then shows a key change
   * (KEY_CHANGED) when the server's `keys` frame or its next look-up tells it, and must accept it before sealing anything to the new keys.
   * The rooms the account was in stay unreadable here: their keys were sealed to the old keys.
   */
  async resetIdentity(input: { password: string; passphrase: string }): Promise<Me> {
    const operation = 'resetIdentity';
    const { userId, username } = this.session;
    if (!this.session.isOpen || userId === undefined || username === undefined) {
      throw new ClientError('NOT_SIGNED_IN', operation, 'log in first');
    }
    this.backup.assertPassphrase(
      input.passphrase,
      { username, password: input.password },
      operation,
    );
    const published = await this.ctx.api.keysById(userId);
    const seeds = generateIdentity();
    const record: AccountRecord = {
      userId,
      username,
      identitySeed: seeds.identitySeed,
      encryptionSeed: seeds.encryptionSeed,
      keyVersion: published.version + 1,
    };
    const identity = identityKeyPair(record.identitySeed);
    const encryption = encryptionKeyPair(record.encryptionSeed);
    const signature = signEncryptionKey(identity, {
      userId: fromHex(userId),
      encryptionPublicKey: encryption.publicKey,
      version: record.keyVersion,
    });
    const { rooms } = await this.ctx.api.rooms();
    const left = [
      ...new Set([...this.ctx.leftBehind, ...this.ctx.rooms.keys(), ...rooms.map((r) => r.id)]),
    ];
    const sealed = await this.backup.prepare(input.passphrase, record, left);
    await this.ctx.api.resetIdentity({
      password: normalizePassword(input.password),
      identityKey: toBase64Url(identity.publicKey),
      encryptionKey: toBase64Url(encryption.publicKey),
      version: record.keyVersion,
      signature: toBase64Url(signature),
      backup: sealed.blob,
    });
    // Published: from here on this device is the new identity. What the old one held goes.
    this.hooks.disconnect();
    for (const key of await this.ctx.store.keys(ROOM_PREFIX)) await this.ctx.store.delete(key);
    await this.leaveBehind(left);
    this.ctx.rooms.clear();
    await this.save(record);
    await sealed.keep();
    return this.me!;
  }

  private async leaveBehind(roomIds: readonly string[]): Promise<void> {
    if (roomIds.length === 0) return;
    for (const id of roomIds) this.ctx.leftBehind.add(id);
    await this.ctx.store.set(LEFT_BEHIND_KEY, [...this.ctx.leftBehind]);
  }

  async setUpBackup(passphrase: string, password?: string): Promise<void> {
    const { record } = this.ctx.requireSecrets('setUpBackup');
    this.backup.assertPassphrase(
      passphrase,
      { username: record.username, password },
      'setUpBackup',
    );
    await this.backup.store(passphrase, record);
  }

  async changePassphrase(current: string, next: string): Promise<void> {
    const secrets = this.ctx.requireSecrets('changePassphrase');
    this.backup.assertPassphrase(next, { username: secrets.record.username }, 'changePassphrase');
    const blob = await this.backup.fetch();
    try {
      await this.backup.open(blob, secrets.record.userId, current);
    } catch (error) {
      throw fromCryptoError(error, 'changePassphrase');
    }
    await this.backup.store(next, secrets.record);
  }

  /**
   * Ends the session on the server and stops the connection. With `forget`, also erases this
   * device's key store (keys, contacts, rooms): only a backup can bring them back.
   */
  async logOut(options: { forget?: boolean } = {}): Promise<void> {
    const { ctx } = this;
    this.hooks.disconnect();
    const tokens = this.session.current();
    if (tokens !== undefined) {
      await ctx.api
        .logOut(tokens.refreshToken)
        .catch((error: unknown) => ctx.logger.warn('logout failed', { error: String(error) }));
    }
    await this.session.clear();
    if (options.forget === true) {
      await ctx.store.clear();
      ctx.secrets = undefined;
      ctx.rooms.clear();
      ctx.leftBehind.clear();
    }
  }

  /**
   * Ends every session of this account (all devices and browsers: their refresh tokens are
   * revoked and their sockets closed), then this one's as `logOut` does.
   */
  async logOutEverywhere(options: { forget?: boolean } = {}): Promise<number> {
    const { sessionsEnded } = await this.ctx.api.logOutAll();
    await this.logOut(options);
    return sessionsEnded;
  }

  accountRules(): Promise<AccountRules> {
    return this.ctx.api.accountRules();
  }

  private async save(record: AccountRecord): Promise<void> {
    await this.ctx.store.set(ACCOUNT_KEY, encodeAccount(record));
    this.ctx.secrets = secretsOf(record);
  }

  /** Publishes the public keys, the encryption key signed by the identity key (§3.2). */
  private async publishKeys(): Promise<void> {
    const secrets = this.ctx.requireSecrets('publishKeys');
    const signature = signEncryptionKey(secrets.identity, {
      userId: fromHex(secrets.record.userId),
      encryptionPublicKey: secrets.encryption.publicKey,
      version: secrets.record.keyVersion,
    });
    await this.ctx.api.publishKeys({
      identityKey: toBase64Url(secrets.identity.publicKey),
      encryptionKey: toBase64Url(secrets.encryption.publicKey),
      version: secrets.record.keyVersion,
      signature: toBase64Url(signature),
    });
  }
}

function encodeAccount(record: AccountRecord): StoredValue {
  return {
    userId: record.userId,
    username: record.username,
    identitySeed: toBase64Url(record.identitySeed),
    encryptionSeed: toBase64Url(record.encryptionSeed),
    keyVersion: record.keyVersion,
  };
}

function decodeAccount(value: StoredValue): AccountRecord {
  const record = value as Record<string, StoredValue>;
  return {
    userId: String(record.userId),
    username: String(record.username),
    identitySeed: fromBase64Url(String(record.identitySeed)),
    encryptionSeed: fromBase64Url(String(record.encryptionSeed)),
    keyVersion: Number(record.keyVersion),
  };
}
