import { timingSafeEqual } from 'node:crypto';
import { isCryptoError, verifyEncryptionKeyBinding } from '@parley/crypto';
import type { KeyHistory, PublishKeysRequest, UserKeys } from '@parley/wire';
import { fromBase64Url, toBase64Url } from '../codec';
import type { Db } from '../db/database';
import { parleyError } from '../errors';
import type { EncryptionKey } from './directory.table';
import { upsertBackup } from '../accounts/account.repository';
import * as repo from './directory.repository';

export type UserSelector = { id: string } | { username: string };

/**
 * The key directory (PROTOCOL.md §3). The server checks every binding before publishing it, as a
 * first line of defence; clients verify the bindings again and pin identity keys themselves.
 */
export function createDirectoryService(db: Db) {
  return {
    /**
     * Publishes the caller's keys. The first call sets the identity key; after that a new
     * encryption key needs a binding by that same identity key and a version above the current.
     * Only an identity reset (below) replaces the identity key.
     */
    async publish(userId: string, request: PublishKeysRequest): Promise<UserKeys> {
      const { identityKey, encryptionKey, signature } = verifiedBinding(userId, request);
      await db.transaction().execute(async (trx) => {
        await repo.lockUserForKeyUpdate(trx, userId);
        const current = await repo.findIdentityKey(trx, userId);
        if (current === undefined) {
          await repo.insertIdentityKey(trx, userId, identityKey);
        } else if (!sameBytes(current.public_key, identityKey)) {
          throw parleyError('IDENTITY_KEY_IMMUTABLE');
        }
        const latest = await repo.findCurrentEncryptionKey(trx, userId);
        if (latest !== undefined && request.version <= latest.version) {
          throw parleyError(
            'KEY_VERSION_NOT_HIGHER',
            `The encryption-key version must be above ${latest.version}`,
          );
        }
        await repo.insertEncryptionKey(trx, {
          user_id: userId,
          version: request.version,
          public_key: encryptionKey,
          signature,
        });
      });
      return this.current({ id: userId });
    },

    /**
     * An identity reset (PROTOCOL.md §3.4): appends the new identity key as the next version, its
     * encryption key, and replaces the backup, in one transaction. The key must be one the account
     * never published (IDENTITY_KEY_NOT_NEW) and the version above the current encryption key's;
     * the caller has checked the password. The route tells the rooms' other members.
     */
    async resetIdentity(
      userId: string,
      request: PublishKeysRequest,
      backup: Uint8Array,
    ): Promise<UserKeys> {
      const { identityKey, encryptionKey, signature } = verifiedBinding(userId, request);
      await db.transaction().execute(async (trx) => {
        await repo.lockUserForKeyUpdate(trx, userId);
        const current = await repo.findIdentityKey(trx, userId);
        if (current === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
        if (await repo.identityKeyEverUsed(trx, userId, identityKey)) {
          throw parleyError('IDENTITY_KEY_NOT_NEW');
        }
        const latest = await repo.findCurrentEncryptionKey(trx, userId);
        if (latest !== undefined && request.version <= latest.version) {
          throw parleyError(
            'KEY_VERSION_NOT_HIGHER',
            `The encryption-key version must be above ${latest.version}`,
          );
        }
        await repo.insertIdentityKey(trx, userId, identityKey, current.version + 1);
        await repo.insertEncryptionKey(trx, {
          user_id: userId,
          version: request.version,
          public_key: encryptionKey,
          signature,
        });
        await upsertBackup(trx, userId, backup);
      });
      return this.current({ id: userId });
    },

    async current(selector: UserSelector): Promise<UserKeys> {
      const { user, identity } = await findPublished(selector);
      const key = await repo.findCurrentEncryptionKey(db, user.id);
      if (key === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
      return {
        userId: user.id,
        username: user.username,
        identityKey: toBase64Url(identity.public_key),
        identityVersion: identity.version,
        ...toRecord(key),
      };
    },

    async history(selector: UserSelector): Promise<KeyHistory> {
      const { user, identity } = await findPublished(selector);
      const keys = await repo.listEncryptionKeys(db, user.id);
      return {
        userId: user.id,
        username: user.username,
        identityKey: toBase64Url(identity.public_key),
        keys: keys.map(toRecord),
      };
    },
  };

  async function findPublished(selector: UserSelector) {
    const user = await repo.findUser(db, selector);
    if (user === undefined) throw parleyError('USER_NOT_FOUND');
    const identity = await repo.findIdentityKey(db, user.id);
    if (identity === undefined) throw parleyError('KEYS_NOT_PUBLISHED');
    return { user, identity };
  }
}

/** The request's keys, once its binding verifies under the identity key it names (§3.2). */
function verifiedBinding(userId: string, request: PublishKeysRequest) {
  const identityKey = fromBase64Url(request.identityKey, 'identityKey', 32);
  const encryptionKey = fromBase64Url(request.encryptionKey, 'encryptionKey', 32);
  const signature = fromBase64Url(request.signature, 'signature', 64);
  try {
    verifyEncryptionKeyBinding({
      userId: Buffer.from(userId, 'hex'),
      identityPublicKey: identityKey,
      encryptionPublicKey: encryptionKey,
      version: request.version,
      signature,
    });
  } catch (error) {
    if (isCryptoError(error) && error.code === 'IDENTITY_MALFORMED') {
      throw parleyError('KEY_MALFORMED', error.message, error);
    }
    if (isCryptoError(error)) throw parleyError('KEY_BINDING_INVALID', undefined, error);
    throw error;
  }
  return { identityKey, encryptionKey, signature };
}

function toRecord(key: EncryptionKey) {
  return {
    encryptionKey: toBase64Url(key.public_key),
    version: key.version,
    signature: toBase64Url(key.signature),
    publishedAt: key.published_at.toISOString(),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
