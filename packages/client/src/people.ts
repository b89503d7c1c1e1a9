// People: the directory (who a username or id is, and their published keys), profiles and avatars,
// and trust on first use. Every key the directory hands out goes through the trust store: pinned
// the first time, compared every time after, and a change is a `KEY_CHANGED` failure, never a
// silent replacement. Verification failures of every kind are reported from here too, with the
// severity a verified contact raises them to.
import { fromBase64Url, toHex, type SafetyNumber } from '@parley/crypto';
import type { Me as MeProfile, PublicProfile, UserKeys } from '@parley/wire';
import type { ServerApi } from './api';
import { ClientError, isClientError } from './errors';
import type { ClientEventEmitter, VerificationFailure } from './events';
import type { Logger } from './options';
import type { Contact, PublishedKeys, TrustStore } from './trust';

/** The public profile of a person (display name, status, whether an avatar is set). */
export type Profile = PublicProfile;
/** This account's own profile. */
export type OwnProfile = MeProfile;
/** A person as the directory's search lists them (public profile). */
export type PersonListing = PublicProfile;

export interface PeopleDeps {
  api: ServerApi;
  trust: TrustStore;
  events: ClientEventEmitter;
  logger: Logger;
  /** This device's account, when it holds one. */
  me(): { userId: string; identityKey: Uint8Array } | undefined;
  /** The verified contacts changed: the backup carries them to the next device. */
  verifiedChanged(): Promise<void>;
}

export class People {
  constructor(private readonly deps: PeopleDeps) {}

  // ----- profiles -----

  getProfile(userId: string): Promise<PublicProfile> {
    return this.deps.api.profile(userId);
  }

  myProfile(): Promise<MeProfile> {
    return this.deps.api.me();
  }

  updateProfile(changes: {
    displayName?: string | null;
    statusMessage?: string | null;
  }): Promise<MeProfile> {
    return this.deps.api.updateProfile(changes);
  }

  /**
   * Sets the avatar: PNG, JPEG, WebP or GIF bytes (the server checks the bytes against
   * `mediaType` and refuses an image over its limit with AVATAR_TOO_LARGE).
   */
  async setAvatar(bytes: Uint8Array, mediaType: string): Promise<void> {
    await this.deps.api.setAvatar(bytes, mediaType);
  }

  async removeAvatar(): Promise<void> {
    await this.deps.api.removeAvatar();
  }

  /**
   * Where a person's avatar is (needs no session, so an `<img src>` can show it; 404 when the
   * profile has none: check `hasAvatar` first).
   */
  avatarUrl(userId: string): string {
    return this.deps.api.avatarUrl(userId);
  }

  async avatar(userId: string): Promise<{ data: Uint8Array; mediaType: string } | undefined> {
    try {
      const { data, contentType } = await this.deps.api.avatar(userId);
      return { data, mediaType: contentType.split(';')[0]!.trim() };
    } catch (error) {
      if (isClientError(error, 'AVATAR_NOT_FOUND') || isClientError(error, 'USER_NOT_FOUND')) {
        return undefined;
      }
      throw error;
    }
  }

  // ----- directory -----

  async lookUp(username: string): Promise<Contact> {
    const answer = await this.deps.api.keysByName(username);
    const keys = decodeKeys(answer);
    if (keys.username.toLowerCase() !== username.toLowerCase()) {
      throw new ClientError('BAD_RESPONSE', 'lookUp', 'the server answered for another user');
    }
    const earlier = this.deps.trust.list().find((c) => c.username === keys.username);
    if (earlier !== undefined && earlier.userId !== keys.userId) {
      // The name now points at another account: whoever the user talked to is not this one.
      this.fail({
        code: 'KEY_CHANGED',
        severity: earlier.verified ? 'critical' : 'warning',
        userId: keys.userId,
        detail: `${keys.username} is now another account than the one pinned on this device`,
      });
    }
    return this.observeKeys(keys);
  }

  async lookUpById(userId: string): Promise<Contact> {
    const answer = await this.deps.api.keysById(userId);
    const keys = decodeKeys(answer);
    if (keys.userId !== userId) {
      throw new ClientError('BAD_RESPONSE', 'lookUpById', 'the server answered for another user');
    }
    return this.observeKeys(keys);
  }

  async searchPeople(prefix: string): Promise<PublicProfile[]> {
    const answer = await this.deps.api.searchPeople(prefix);
    return answer.users;
  }

  // ----- trust -----

  safetyNumber(userId: string): SafetyNumber {
    return this.deps.trust.safetyNumber(this.requireMe('safetyNumber'), userId);
  }

  async verifyContact(userId: string, scannedQr?: string): Promise<Contact> {
    const contact =
      scannedQr === undefined
        ? await this.deps.trust.setVerified(userId, true)
        : await this.deps.trust.verifyScannedCode(
            this.requireMe('verifyContact'),
            userId,
            scannedQr,
          );
    // The verification holds here already; a backup that could not be sealed again is retried
    // at the next change, and is no reason to tell the user it failed.
    await this.deps
      .verifiedChanged()
      .catch((error: unknown) =>
        this.deps.logger.warn('backup not sealed again', { error: String(error) }),
      );
    return contact;
  }

  /** Pinned identity keys, this account's own included, for @parley/crypto's lookups. */
  readonly identityKeyOf = (userId: Uint8Array): Uint8Array | undefined => {
    const me = this.deps.me();
    if (me !== undefined && toHex(userId) === me.userId) return me.identityKey;
    return this.deps.trust.identityKeyOf(userId);
  };

  /** Pins every user of `userIds` this device has not seen yet (trust on first use). */
  async ensurePinned(userIds: Iterable<string>): Promise<void> {
    for (const userId of userIds) {
      if (userId === this.deps.me()?.userId || this.deps.trust.get(userId) !== undefined) continue;
      await this.lookUpById(userId);
    }
  }

  fail(failure: VerificationFailure): void {
    this.deps.logger.warn('verification failed', {
      code: failure.code,
      roomId: failure.roomId,
      seq: failure.seq,
    });
    this.deps.events.emit('verification-failed', failure);
  }

  severityOf(userId: string | undefined): 'warning' | 'critical' {
    return userId !== undefined && this.deps.trust.get(userId)?.verified === true
      ? 'critical'
      : 'warning';
  }

  private async observeKeys(keys: PublishedKeys): Promise<Contact> {
    const { status, contact } = await this.deps.trust.observe(keys);
    if (status === 'changed') {
      this.fail({
        code: 'KEY_CHANGED',
        severity: contact.verified ? 'critical' : 'warning',
        userId: contact.userId,
        detail: `${contact.username}'s keys differ from the ones pinned on this device${
          contact.verified ? ' (a verified contact)' : ''
        }`,
      });
    }
    return contact;
  }

  private requireMe(operation: string): { userId: string; identityKey: Uint8Array } {
    const me = this.deps.me();
    if (me === undefined) {
      throw new ClientError('NOT_SIGNED_IN', operation, 'no account keys on this device');
    }
    return me;
  }
}

function decodeKeys(answer: UserKeys): PublishedKeys {
  try {
    return {
      userId: answer.userId,
      username: answer.username,
      identityKey: fromBase64Url(answer.identityKey),
      encryptionKey: fromBase64Url(answer.encryptionKey),
      keyVersion: answer.version,
      signature: fromBase64Url(answer.signature),
    };
  } catch (error) {
    throw new ClientError('BAD_RESPONSE', 'lookUp', 'keys are not base64url', { cause: error });
  }
}
