// Contacts' keys as this device has seen them (PROTOCOL.md §3, THREAT-MODEL "substitute a user's
// public key"): the first keys seen for a user are pinned; a later identity key that differs is a
// change the user must accept before anything is sealed to it; an encryption key rotated under the
// pinned identity key's signature is accepted silently (that is what the signature is for).
import {
  compareSafetyQr,
  fromBase64Url,
  fromHex,
  safetyNumber,
  toBase64Url,
  toHex,
  verifyEncryptionKeyBinding,
  type SafetyNumber,
} from '@parley/crypto';
import { ClientError, fromCryptoError } from './errors';
import type { KeyStore, StoredValue } from './key-store/key-store';

/** A user's keys as the directory publishes them. */
export interface PublishedKeys {
  userId: string;
  username: string;
  identityKey: Uint8Array;
  encryptionKey: Uint8Array;
  keyVersion: number;
  /** The identity key's signature over the encryption key (§3.2). */
  signature: Uint8Array;
}

export interface PinnedKeys {
  identityKey: Uint8Array;
  encryptionKey: Uint8Array;
  keyVersion: number;
}

export interface Contact extends PinnedKeys {
  userId: string;
  username: string;
  /** The user compared safety numbers with this contact (or scanned its code). */
  verified: boolean;
  pinnedAt: number;
  /** Keys the directory now serves that differ from the pinned ones, waiting for the user. */
  pendingChange: (PinnedKeys & { seenAt: number }) | undefined;
}

export type ObserveStatus =
  /** First sight: pinned now. */
  | 'pinned'
  /** Same keys as pinned. */
  | 'unchanged'
  /** A newer encryption key signed by the pinned identity key: pinned now. */
  | 'rotated'
  /** An older encryption key than the pinned one: ignored, the pin stays. */
  | 'stale'
  /** Keys that differ from the pin: kept aside until the user accepts them. */
  | 'changed';

export interface ObserveResult {
  status: ObserveStatus;
  contact: Contact;
}

const PREFIX = 'contact:';

export class TrustStore {
  private readonly contacts = new Map<string, Contact>();

  private constructor(
    private readonly store: KeyStore,
    private readonly now: () => number,
  ) {}

  static async load(store: KeyStore, now: () => number): Promise<TrustStore> {
    const trust = new TrustStore(store, now);
    for (const key of await store.keys(PREFIX)) {
      const record = await store.get(key);
      if (record !== undefined) {
        const contact = decodeContact(record);
        trust.contacts.set(contact.userId, contact);
      }
    }
    return trust;
  }

  get(userId: string): Contact | undefined {
    return this.contacts.get(userId);
  }

  list(): Contact[] {
    return [...this.contacts.values()].sort((a, b) => a.username.localeCompare(b.username));
  }

  /** The pinned identity key of a user id, in the shape @parley/crypto's lookups take. */
  readonly identityKeyOf = (userId: Uint8Array): Uint8Array | undefined =>
    this.contacts.get(toHex(userId))?.identityKey;

  /**
   * Checks the binding signature (IDENTITY_MALFORMED / IDENTITY_BAD_SIGNATURE as a ClientError) and
   * compares the keys with the pin. The caller reports a `changed` result to the user.
   */
  async observe(keys: PublishedKeys): Promise<ObserveResult> {
    try {
      verifyEncryptionKeyBinding({
        userId: fromHex(keys.userId),
        identityPublicKey: keys.identityKey,
        encryptionPublicKey: keys.encryptionKey,
        version: keys.keyVersion,
        signature: keys.signature,
      });
    } catch (error) {
      throw fromCryptoError(error, 'TrustStore.observe');
    }
    const seen: PinnedKeys = {
      identityKey: keys.identityKey,
      encryptionKey: keys.encryptionKey,
      keyVersion: keys.keyVersion,
    };
    const pinned = this.contacts.get(keys.userId);
    if (pinned === undefined) {
      const contact: Contact = {
        userId: keys.userId,
        username: keys.username,
        ...seen,
        verified: false,
        pinnedAt: this.now(),
        pendingChange: undefined,
      };
      await this.save(contact);
      return { status: 'pinned', contact };
    }
    if (sameKeys(pinned, seen)) {
      // The directory went back to the pinned keys: whatever was pending is moot.
      if (pinned.pendingChange === undefined) return { status: 'unchanged', contact: pinned };
      const contact = { ...pinned, pendingChange: undefined };
      await this.save(contact);
      return { status: 'unchanged', contact };
    }
    if (equalBytes(pinned.identityKey, seen.identityKey)) {
      // The binding verified under the pinned identity key, so a higher version is the user's own
      // rotation. The same version with another key means the identity key signed two: equivocation.
      if (seen.keyVersion > pinned.keyVersion) {
        const contact = { ...pinned, ...seen, username: keys.username, pendingChange: undefined };
        await this.save(contact);
        return { status: 'rotated', contact };
      }
      if (seen.keyVersion < pinned.keyVersion) return { status: 'stale', contact: pinned };
    }
    if (pinned.pendingChange !== undefined && sameKeys(pinned.pendingChange, seen)) {
      return { status: 'changed', contact: pinned };
    }
    const contact = { ...pinned, pendingChange: { ...seen, seenAt: this.now() } };
    await this.save(contact);
    return { status: 'changed', contact };
  }

  /**
   * The key to seal room keys to. Refuses (KEY_CHANGE_PENDING) while a change waits for the user,
   * so that a server handing out its own key gets nothing sealed to it.
   */
  encryptionKeyFor(userId: string): Uint8Array {
    const contact = this.contacts.get(userId);
    if (contact === undefined) {
      throw new ClientError('UNKNOWN_CONTACT', 'encryptionKeyFor', `${userId} is not pinned`);
    }
    if (contact.pendingChange !== undefined) {
      throw new ClientError(
        'KEY_CHANGE_PENDING',
        'encryptionKeyFor',
        `${contact.username}'s keys changed; accept the change before sending them room keys`,
      );
    }
    return contact.encryptionKey;
  }

  /** The user accepts the changed keys: they become the pin, and verification starts over. */
  async acceptChange(userId: string): Promise<Contact> {
    const contact = this.require(userId, 'acceptChange');
    if (contact.pendingChange === undefined) return contact;
    const { seenAt: _seenAt, ...keys } = contact.pendingChange;
    const accepted: Contact = {
      ...contact,
      ...keys,
      verified: false,
      pinnedAt: this.now(),
      pendingChange: undefined,
    };
    await this.save(accepted);
    return accepted;
  }

  async setVerified(userId: string, verified: boolean): Promise<Contact> {
    const contact = { ...this.require(userId, 'setVerified'), verified };
    await this.save(contact);
    return contact;
  }

  /** The safety number of this account and a contact's pinned identity key (§3.3). */
  safetyNumber(me: { userId: string; identityKey: Uint8Array }, userId: string): SafetyNumber {
    const contact = this.require(userId, 'safetyNumber');
    return safetyNumber(
      { userId: fromHex(me.userId), identityPublicKey: me.identityKey },
      { userId: fromHex(contact.userId), identityPublicKey: contact.identityKey },
    );
  }

  /**
   * Compares a scanned QR payload with the local computation in constant time and marks the
   * contact verified; SAFETY_NUMBER_MISMATCH when they differ (nothing changes then).
   */
  async verifyScannedCode(
    me: { userId: string; identityKey: Uint8Array },
    userId: string,
    scanned: string,
  ): Promise<Contact> {
    try {
      compareSafetyQr(scanned, this.safetyNumber(me, userId));
    } catch (error) {
      throw fromCryptoError(error, 'verifyScannedCode');
    }
    return this.setVerified(userId, true);
  }

  /** Verified contacts, as a backup carries them so a restored device keeps the verification. */
  exportVerified(): string[] {
    return this.list()
      .filter((contact) => contact.verified)
      .map((contact) => `${contact.userId}:${toBase64Url(contact.identityKey)}`);
  }

  /**
   * Marks verified the contacts whose pinned identity key is the one a backup vouched for; `pin`
   * pins one not pinned yet first (one that cannot be looked up any more is skipped).
   */
  async importVerified(
    entries: readonly string[],
    pin: (userId: string) => Promise<void> = async () => {},
  ): Promise<void> {
    for (const entry of entries) {
      const [userId, identityKey] = entry.split(':');
      if (userId === undefined || !/^[0-9a-f]{32}$/.test(userId)) continue;
      if (!this.contacts.has(userId)) await pin(userId).catch(() => undefined);
      const contact = this.contacts.get(userId);
      if (contact !== undefined && identityKey === toBase64Url(contact.identityKey)) {
        await this.setVerified(contact.userId, true);
      }
    }
  }

  private require(userId: string, operation: string): Contact {
    const contact = this.contacts.get(userId);
    if (contact === undefined) {
      throw new ClientError('UNKNOWN_CONTACT', operation, `${userId} is not pinned`);
    }
    return contact;
  }

  private async save(contact: Contact): Promise<void> {
    await this.store.set(PREFIX + contact.userId, encodeContact(contact));
    this.contacts.set(contact.userId, contact);
  }
}

function sameKeys(a: PinnedKeys, b: PinnedKeys): boolean {
  return (
    equalBytes(a.identityKey, b.identityKey) &&
    equalBytes(a.encryptionKey, b.encryptionKey) &&
    a.keyVersion === b.keyVersion
  );
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

function encodeKeys(keys: PinnedKeys): { [key: string]: StoredValue } {
  return {
    identityKey: toBase64Url(keys.identityKey),
    encryptionKey: toBase64Url(keys.encryptionKey),
    keyVersion: keys.keyVersion,
  };
}

function decodeKeys(record: Record<string, StoredValue>): PinnedKeys {
  return {
    identityKey: fromBase64Url(String(record.identityKey)),
    encryptionKey: fromBase64Url(String(record.encryptionKey)),
    keyVersion: Number(record.keyVersion),
  };
}

function encodeContact(contact: Contact): StoredValue {
  return {
    userId: contact.userId,
    username: contact.username,
    ...encodeKeys(contact),
    verified: contact.verified,
    pinnedAt: contact.pinnedAt,
    pendingChange:
      contact.pendingChange === undefined
        ? null
        : { ...encodeKeys(contact.pendingChange), seenAt: contact.pendingChange.seenAt },
  };
}

function decodeContact(value: StoredValue): Contact {
  const record = value as Record<string, StoredValue>;
  const pending = record.pendingChange as Record<string, StoredValue> | null;
  return {
    userId: String(record.userId),
    username: String(record.username),
    ...decodeKeys(record),
    verified: record.verified === true,
    pinnedAt: Number(record.pinnedAt),
    pendingChange:
      pending === null || pending === undefined
        ? undefined
        : { ...decodeKeys(pending), seenAt: Number(pending.seenAt) },
  };
}
