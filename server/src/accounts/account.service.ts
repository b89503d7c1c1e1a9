import { createHash } from 'node:crypto';
import type { AuthResponse } from '@parley/wire';
import { isUniqueViolation, type Db } from '../db/database';
import { parleyError } from '../errors';
import type { AuthenticatedUser, SessionsRevoked } from '../plugins/auth';
import { nameSkeleton } from '../profiles/names';
import { claimNameSkeleton, nameSkeletonTaken } from '../profiles/profile.repository';
import * as repo from './account.repository';
import type { LoginThrottle } from './login-throttle';
import type { PasswordHasher } from './password-hasher';
import { canonicalUsername, checkPassword, normalizePassword } from './password-rules';

export interface AccountServiceDeps {
  db: Db;
  hasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  refreshTokenTtlSeconds: number;
  /** A spent refresh token presented again within this window rotates instead of revoking. */
  refreshReuseGraceSeconds: number;
  issueAccessToken(user: AuthenticatedUser): { token: string; expiresAt: Date };
  /** Told after sessions ended, once the change is committed. */
  onRevoked(event: SessionsRevoked): void;
}

/**
 * Registration, login, token refresh with rotation, log out and account deletion.
 *
 * A session is one logged-in device. Each refresh spends the presented refresh token and hands out
 * the next one of the same session (its "family"); presenting a spent token means it was copied,
 * so the whole session is revoked and every token of it, old or new, stops working; except within
 * a few seconds of the spend (REFRESH_REUSE_GRACE_SECONDS), where it is one client refreshing
 * twice at once, and gets a token of its own.
 */
export function createAccountService(deps: AccountServiceDeps) {
  const { db, hasher } = deps;

  return {
    /** `deviceName`: the session's name in the account's session list (device-name.ts). */
    async register(
      input: { username: string; password: string },
      deviceName: string,
    ): Promise<AuthResponse> {
      const username = canonicalUsername(input.username);
      const password = normalizePassword(input.password);
      checkPassword(password, username);
      // Checked before the expensive hash; the unique indexes still decide a race.
      if ((await repo.findUserByUsername(db, username)) !== undefined) {
        throw parleyError('USERNAME_TAKEN');
      }
      const skeleton = nameSkeleton(username);
      if (await nameSkeletonTaken(db, skeleton)) throw usernameConfusable();
      const passwordHash = await hasher.hash(password);
      const id = randomHex(16);
      try {
        await db.transaction().execute(async (trx) => {
          await repo.insertUser(trx, { id, username, password_hash: passwordHash });
          if (!(await claimNameSkeleton(trx, id, 'username', skeleton))) {
            throw usernameConfusable();
          }
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw parleyError('USERNAME_TAKEN');
        throw error;
      }
      return openSession({ id, username }, deviceName);
    },

    /**
     * Same answer, and the same Argon2 work, for an unknown user as for a wrong password.
     * `address` is the client's, for the throttle.
     */
    async login(
      input: { username: string; password: string },
      address: string,
      deviceName: string,
    ): Promise<AuthResponse> {
      const username = input.username.toLowerCase();
      const password = normalizePassword(input.password);
      await deps.loginThrottle.assertAllowed(username, address);
      const user = await repo.findUserByUsername(db, username);
      const valid =
        user === undefined
          ? await hasher.verifyDummy(password).then(() => false)
          : await hasher.verify(user.password_hash, password);
      if (user === undefined || !valid) {
        await deps.loginThrottle.recordFailure(username, address);
        throw parleyError('INVALID_CREDENTIALS');
      }
      await deps.loginThrottle.recordSuccess(username, address);
      return openSession({ id: user.id, username: user.username }, deviceName);
    },

    /** `deviceName`, when given, renames the session (the device's name may have changed). */
    async refresh(refreshToken: string, deviceName?: string): Promise<AuthResponse> {
      const tokenHash = hashToken(refreshToken);
      const outcome = await db.transaction().execute(async (trx) => {
        const token = await repo.findRefreshToken(trx, tokenHash);
        if (token === undefined || token.revoked_at !== null) return 'invalid' as const;
        const reused = { reused: { userId: token.user_id, sessionId: token.session_id } };
        const graceMs = deps.refreshReuseGraceSeconds * 1000;
        // Two tabs, or a retry after a lost answer, refresh with one token at once: within the
        // grace window the later one gets a token of its own; after it, a spent token is stolen.
        const withinGrace = (usedAt: Date) => Date.now() - usedAt.getTime() <= graceMs;
        if (token.used_at !== null && !withinGrace(token.used_at)) {
          await repo.revokeSession(trx, token.session_id);
          return reused;
        }
        if (token.expires_at.getTime() <= Date.now()) return 'invalid' as const;
        if (token.used_at === null && !(await repo.spendRefreshToken(trx, tokenHash))) {
          // Spent by a concurrent refresh that committed just now.
          if (graceMs === 0) {
            await repo.revokeSession(trx, token.session_id);
            return reused;
          }
        }
        const next = await issueRefreshToken(trx, token.session_id);
        await repo.touchSession(trx, token.session_id, deviceName);
        return {
          user: { id: token.user_id, username: token.username },
          sessionId: token.session_id,
          next,
        };
      });
      // Thrown after the transaction committed, so a detected reuse stays revoked.
      if (outcome === 'invalid') throw parleyError('REFRESH_TOKEN_INVALID');
      if ('reused' in outcome) {
        deps.onRevoked(outcome.reused);
        throw parleyError('REFRESH_TOKEN_REUSED');
      }
      return authResponse(outcome.user, outcome.sessionId, outcome.next);
    },

    /** Ends the session the refresh token belongs to. An unknown token is not an error. */
    async logout(refreshToken: string): Promise<void> {
      const token = await repo.findRefreshToken(db, hashToken(refreshToken));
      if (token === undefined || token.revoked_at !== null) return;
      await repo.revokeSession(db, token.session_id);
      deps.onRevoked({ userId: token.user_id, sessionId: token.session_id });
    },

    async logoutEverywhere(userId: string): Promise<number> {
      const ended = await repo.revokeAllSessions(db, userId);
      deps.onRevoked({ userId });
      return ended;
    },

    /**
     * Deletes the account and everything that references it, after checking the password under
     * the login throttle (a stolen access token must not become a way to guess it).
     */
    async deleteAccount(userId: string, password: string, address: string): Promise<void> {
      await this.confirmPassword(userId, password, address);
      await repo.deleteUser(db, userId);
      deps.onRevoked({ userId, accountDeleted: true });
    },

    /**
     * Checks the signed-in user's password under the login throttle, before something a stolen
     * access token alone must not do (delete the account, reset the identity). INVALID_CREDENTIALS.
     */
    async confirmPassword(userId: string, password: string, address: string): Promise<void> {
      const user = await repo.findUserById(db, userId);
      if (user === undefined) throw parleyError('USER_NOT_FOUND');
      await deps.loginThrottle.assertAllowed(user.username, address);
      if (!(await hasher.verify(user.password_hash, normalizePassword(password)))) {
        await deps.loginThrottle.recordFailure(user.username, address);
        throw parleyError('INVALID_CREDENTIALS');
      }
    },

    /** Housekeeping: drops expired tokens and dead sessions. */
    async pruneSessions(): Promise<number> {
      return repo.pruneSessions(db, deps.refreshTokenTtlSeconds);
    },

    async putBackup(userId: string, blob: Uint8Array): Promise<Date> {
      return repo.upsertBackup(db, userId, blob);
    },

    async getBackup(userId: string): Promise<{ blob: Uint8Array; updatedAt: Date }> {
      const backup = await repo.findBackup(db, userId);
      if (backup === undefined) throw parleyError('BACKUP_NOT_FOUND');
      return { blob: backup.blob, updatedAt: backup.updated_at };
    },
  };

  async function openSession(
    user: { id: string; username: string },
    deviceName: string,
  ): Promise<AuthResponse> {
    const sessionId = randomHex(16);
    const next = await db.transaction().execute(async (trx) => {
      await repo.insertSession(trx, { id: sessionId, user_id: user.id, device_name: deviceName });
      return issueRefreshToken(trx, sessionId);
    });
    return authResponse(user, sessionId, next);
  }

  async function issueRefreshToken(trx: Db, sessionId: string): Promise<IssuedRefreshToken> {
    const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    const expiresAt = new Date(Date.now() + deps.refreshTokenTtlSeconds * 1000);
    await repo.insertRefreshToken(trx, {
      token_hash: hashToken(token),
      session_id: sessionId,
      expires_at: expiresAt,
    });
    return { token, expiresAt };
  }

  function authResponse(
    user: { id: string; username: string },
    sessionId: string,
    refresh: IssuedRefreshToken,
  ): AuthResponse {
    const access = deps.issueAccessToken({ ...user, sessionId });
    return {
      user,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: refresh.token,
      refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
    };
  }
}

export type AccountService = ReturnType<typeof createAccountService>;

interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
}

function usernameConfusable() {
  return parleyError('NAME_CONFUSABLE', 'The username looks like another user’s name');
}

/** A 16-byte random identifier as 32 lowercase hex characters (PROTOCOL.md §2.1). */
export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

// Refresh tokens are 32 random bytes, so a fast hash is enough: nothing to brute-force.
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
