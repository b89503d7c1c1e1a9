import { Type, type Static } from '@sinclair/typebox';
import { BackupBlob } from './accounts';
import { Base64UrlBytes, Id } from './common';

export const IdentityKey = Base64UrlBytes(32, 'Ed25519 identity public key (32 bytes, base64url)');
export const EncryptionKey = Base64UrlBytes(
  32,
  'X25519 encryption public key (32 bytes, base64url)',
);
export const BindingSignature = Base64UrlBytes(
  64,
  'Ed25519 signature of the identity key over the §3.2 binding (64 bytes, base64url)',
);
/** Encryption-key versions start at 1 and stay below 2^53 (PROTOCOL.md §2.1, §3.1). */
export const KeyVersion = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * Publishes the caller's keys (PROTOCOL.md §3.2). The first publication sets the identity key for
 * good; later ones must repeat it and carry a higher version of the encryption key.
 */
export const PublishKeysRequest = Type.Object(
  {
    identityKey: IdentityKey,
    encryptionKey: EncryptionKey,
    version: KeyVersion,
    signature: BindingSignature,
  },
  { additionalProperties: false },
);
export type PublishKeysRequest = Static<typeof PublishKeysRequest>;

/** A user's current keys: verify the binding yourself, and pin the identity key. */
export const UserKeys = Type.Object(
  {
    userId: Id,
    username: Type.String(),
    identityKey: Type.String(),
    /** 1 for the first identity key, one more for each identity reset (§3.1). */
    identityVersion: Type.Integer({ minimum: 1 }),
    encryptionKey: Type.String(),
    version: Type.Integer(),
    signature: Type.String(),
    publishedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type UserKeys = Static<typeof UserKeys>;

export const EncryptionKeyRecord = Type.Object(
  {
    encryptionKey: Type.String(),
    version: Type.Integer(),
    signature: Type.String(),
    publishedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type EncryptionKeyRecord = Static<typeof EncryptionKeyRecord>;

/** Every encryption key the user published, oldest first. */
export const KeyHistory = Type.Object(
  {
    userId: Id,
    username: Type.String(),
    identityKey: Type.String(),
    keys: Type.Array(EncryptionKeyRecord),
  },
  { additionalProperties: false },
);
export type KeyHistory = Static<typeof KeyHistory>;

/**
 * An identity reset (PROTOCOL.md §3.4), for a user who lost every device and the backup
 * passphrase: a new identity key (one the account never published), a new encryption key bound to
 * it at a version above the current one, and the backup sealed under a new passphrase. Asks for
 * the password, so a stolen session cannot replace the keys.
 */
export const ResetIdentityRequest = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    identityKey: IdentityKey,
    encryptionKey: EncryptionKey,
    version: KeyVersion,
    signature: BindingSignature,
    backup: BackupBlob,
  },
  { additionalProperties: false },
);
export type ResetIdentityRequest = Static<typeof ResetIdentityRequest>;
