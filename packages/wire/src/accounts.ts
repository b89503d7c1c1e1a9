import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common';
import { DeviceName } from './sessions';

/**
 * Username and password rules. The server enforces them and serves them at GET /api/auth/rules so
 * a UI can show them while the user types.
 */
export const USERNAME_RULES = {
  minLength: 3,
  maxLength: 32,
  /** Lower-case letters, digits, dot, underscore and hyphen. Usernames ignore case. */
  pattern: '^[a-z0-9._-]+$',
} as const;

export const PASSWORD_RULES = {
  minLength: 10,
  /** Bounds the work a single login can ask of the server. */
  maxLength: 256,
} as const;

/**
 * The form a password is sent and compared in: Unicode NFKC, so a password typed with composed
 * or decomposed accents, or full-width digits, is the same password on every keyboard (NIST SP
 * 800-63B). Clients send it so; the server normalises again, so an older client still matches.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Input may use upper case; the server stores and compares the lower-case form. */
export const Username = Type.String({
  minLength: USERNAME_RULES.minLength,
  maxLength: USERNAME_RULES.maxLength,
  pattern: '^[A-Za-z0-9._-]+$',
  description: '3 to 32 of a-z 0-9 . _ -; case is ignored',
});

// The schema bounds the size only; the rules (length, common passwords) are checked by the server
// so each failure gets its own error code.
const PasswordInput = Type.String({ minLength: 1, maxLength: 1024 });

/** An opaque refresh token (32 random bytes, base64url). */
export const RefreshTokenString = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

export const Credentials = Type.Object(
  { username: Username, password: PasswordInput },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

/** Sign-up: the credentials and, optionally, an email address for password reset. */
export const RegisterRequest = Type.Object(
  {
    username: Username,
    password: PasswordInput,
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    deviceName: Type.Optional(DeviceName),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;
/** Log in: the credentials and, optionally, the name the device goes by in the session list. */
export const LoginRequest = Type.Object(
  { username: Username, password: PasswordInput, deviceName: Type.Optional(DeviceName) },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

/** A refresh may rename the device (a client whose name changed, or one that gave none before). */
export const RefreshRequest = Type.Object(
  { refreshToken: RefreshTokenString, deviceName: Type.Optional(DeviceName) },
  { additionalProperties: false },
);
export type RefreshRequest = Static<typeof RefreshRequest>;

export const LogoutRequest = Type.Object(
  { refreshToken: RefreshTokenString },
  { additionalProperties: false },
);
export type LogoutRequest = Static<typeof LogoutRequest>;

export const DeleteAccountRequest = Type.Object(
  { password: PasswordInput },
  { additionalProperties: false },
);
export type DeleteAccountRequest = Static<typeof DeleteAccountRequest>;

export const UserRef = Type.Object(
  { id: Id, username: Type.String() },
  { additionalProperties: false },
);
export type UserRef = Static<typeof UserRef>;

/** The answer to register, log in and refresh. */
export const AuthResponse = Type.Object(
  {
    user: UserRef,
    accessToken: Type.String(),
    /** ISO 8601; refresh before it. */
    accessTokenExpiresAt: Type.String(),
    refreshToken: Type.String(),
    refreshTokenExpiresAt: Type.String(),
  },
  { additionalProperties: false },
);
export type AuthResponse = Static<typeof AuthResponse>;

export const AccountRules = Type.Object(
  {
    username: Type.Object(
      {
        minLength: Type.Integer(),
        maxLength: Type.Integer(),
        pattern: Type.String(),
        description: Type.String(),
      },
      { additionalProperties: false },
    ),
    password: Type.Object(
      {
        minLength: Type.Integer(),
        maxLength: Type.Integer(),
        rejectsCommonPasswords: Type.Boolean(),
        description: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type AccountRules = Static<typeof AccountRules>;

/** A stored key backup (PROTOCOL.md §7): opaque to the server. */
export const BACKUP_MAX_BYTES = 64 * 1024;

export const BackupBlob = Type.String({
  pattern: '^[A-Za-z0-9_-]+$',
  minLength: 1,
  maxLength: Math.ceil((BACKUP_MAX_BYTES * 4) / 3),
  description: 'the PROTOCOL.md §7 backup blob as unpadded base64url, at most 64 KiB',
});

export const PutBackupRequest = Type.Object({ blob: BackupBlob }, { additionalProperties: false });
export type PutBackupRequest = Static<typeof PutBackupRequest>;

export const BackupResponse = Type.Object(
  { blob: Type.String(), updatedAt: Type.String() },
  { additionalProperties: false },
);
export type BackupResponse = Static<typeof BackupResponse>;
