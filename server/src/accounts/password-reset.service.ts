import type { FastifyBaseLogger } from 'fastify';
import { normalizeEmail } from '@parley/wire';
import type { Db } from '../db/database';
import { parleyError } from '../errors';
import type { SessionsRevoked } from '../plugins/auth';
import * as accounts from './account.repository';
import * as repo from './email.repository';
import type { EmailService } from './email.service';
import type { LoginThrottle } from './login-throttle';
import { checkMailToken, spendMailToken } from './mail-token';
import type { PasswordHasher } from './password-hasher';
import { checkPassword, normalizePassword } from './password-rules';

export interface PasswordServiceDeps {
  db: Db;
  hasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  emails: EmailService;
  log: FastifyBaseLogger;
  /** Told after sessions ended, once the change is committed. */
  onRevoked(event: SessionsRevoked): void;
}

/**
 * Forgotten passwords (a link mailed to the verified address), resets, and changes by a signed-in
 * user. A password opens the account, never its keys: neither touches the key directory or the
 * encrypted backup, which only the backup passphrase opens.
 */
export function createPasswordService(deps: PasswordServiceDeps) {
  const { db, hasher } = deps;

  /** The account to mail for a username or an address; only a verified address counts. */
  async function resetTarget(login: string) {
    const trimmed = login.trim();
    if (trimmed.includes('@')) {
      const address = normalizeEmail(trimmed);
      return address === undefined ? undefined : repo.findUserByVerifiedEmail(db, address);
    }
    return repo.findVerifiedEmailOfUsername(db, trimmed.toLowerCase());
  }

  /**
   * Checks a signed-in user's password for a sensitive change, under the login throttle (a
   * stolen access token must not become a way to guess it). Throws CURRENT_PASSWORD_WRONG.
   */
  async function checkCurrent(userId: string, password: string, address: string) {
    const user = await accounts.findUserById(db, userId);
    if (user === undefined) throw parleyError('USER_NOT_FOUND');
    await deps.loginThrottle.assertAllowed(user.username, address);
    if (!(await hasher.verify(user.password_hash, normalizePassword(password)))) {
      await deps.loginThrottle.recordFailure(user.username, address);
      throw parleyError('CURRENT_PASSWORD_WRONG');
    }
    return user;
  }

  return {
    checkCurrent,

    /**
     * "Forgot password?". Resolves the same way, at once, whatever `login` names: the mail is
     * sent after the answer, so neither its content nor its timing tells an account with a
     * verified address from one without, or from none.
     */
    async forgot(login: string): Promise<void> {
      const target = await resetTarget(login);
      if (target === undefined) return;
      deps.emails.mailPasswordReset(target).catch((error: unknown) => {
        deps.log.warn({ err: error }, 'password reset mail not sent');
      });
    },

    /**
     * Sets a new password with a reset link. Every session ends (whoever had the old password is
     * out) and every socket closes; keys and backup stay as they are.
     */
    async reset(token: string, password: string): Promise<void> {
      const next = normalizePassword(password);
      // A dead link and a refused password fail before the costly hash, and a refused password
      // leaves the link usable. The hash is made outside the transaction (PGlite has one
      // connection); the transaction checks the token again and spends it.
      checkPassword(next, (await checkMailToken(db, token, 'reset')).username);
      const passwordHash = await hasher.hash(next);
      const userId = await db.transaction().execute(async (trx) => {
        const row = await spendMailToken(trx, token, 'reset');
        await repo.setPasswordHash(trx, row.user_id, passwordHash);
        await repo.voidMailTokens(trx, row.user_id, 'reset');
        await accounts.revokeAllSessions(trx, row.user_id);
        return row.user_id;
      });
      deps.onRevoked({ userId });
    },

    /** Changes the password; every other session of the account ends, this one stays. */
    async change(
      user: { id: string; sessionId: string },
      input: { currentPassword: string; newPassword: string },
      address: string,
    ): Promise<number> {
      const account = await checkCurrent(user.id, input.currentPassword, address);
      const next = normalizePassword(input.newPassword);
      checkPassword(next, account.username);
      const passwordHash = await hasher.hash(next);
      const ended = await db.transaction().execute(async (trx) => {
        await repo.setPasswordHash(trx, user.id, passwordHash);
        // A reset link mailed before the change must not undo it.
        await repo.voidMailTokens(trx, user.id, 'reset');
        return repo.revokeOtherSessions(trx, user.id, user.sessionId);
      });
      for (const sessionId of ended) deps.onRevoked({ userId: user.id, sessionId });
      return ended.length;
    },
  };
}

export type PasswordService = ReturnType<typeof createPasswordService>;
