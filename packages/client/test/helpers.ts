import {
  encryptionKeyPair,
  generateId,
  generateIdentity,
  identityKeyPair,
  signEncryptionKey,
  toHex,
  type EncryptionKeyPair,
  type IdentityKeyPair,
} from '@parley/crypto';
import { expect } from 'vitest';
import { ClientError, type ClientErrorCode } from '../src/errors';
import type { PublishedKeys } from '../src/trust';

/** A user as the tests need one: ids, key pairs, and what the directory would publish. */
export interface TestUser {
  userId: string;
  username: string;
  identity: IdentityKeyPair;
  encryption: EncryptionKeyPair;
  published: PublishedKeys;
}

export function makeUser(username: string, keyVersion = 1): TestUser {
  const seeds = generateIdentity();
  const userIdBytes = generateId();
  const identity = identityKeyPair(seeds.identitySeed);
  const encryption = encryptionKeyPair(seeds.encryptionSeed);
  return {
    userId: toHex(userIdBytes),
    username,
    identity,
    encryption,
    published: publish(toHex(userIdBytes), username, identity, encryption.publicKey, keyVersion),
  };
}

export function publish(
  userId: string,
  username: string,
  identity: IdentityKeyPair,
  encryptionKey: Uint8Array,
  keyVersion: number,
): PublishedKeys {
  const userIdBytes = Uint8Array.from(Buffer.from(userId, 'hex'));
  return {
    userId,
    username,
    identityKey: identity.publicKey,
    encryptionKey,
    keyVersion,
    signature: signEncryptionKey(identity, {
      userId: userIdBytes,
      encryptionPublicKey: encryptionKey,
      version: keyVersion,
    }),
  };
}

export async function expectClientCode(
  action: Promise<unknown> | (() => unknown),
  code: ClientErrorCode,
): Promise<ClientError> {
  let thrown: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(ClientError);
  expect((thrown as ClientError).code, (thrown as Error).message).toBe(code);
  return thrown as ClientError;
}
