// The account's email address and its password: adding or changing the address (the server mails
// a verification link), verifying it with the link's token, "forgot password" and the reset that
// follows, and changing the password while signed in. None of it touches keys: a password opens
// the account, and only the backup passphrase opens the keys (§7).
import { normalizePassword, type EmailStatus } from '@parley/wire';
import type { ServerApi } from './api';
import { ClientError } from './errors';

export type { EmailStatus };

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The token of a mailed link (…/#/verify-email?token=…, …/#/reset-password?token=…), or the token
 * itself; a person may paste either. Throws MAIL_TOKEN_INVALID for anything else.
 */
export function mailToken(linkOrToken: string, operation = 'mailToken'): string {
  const text = linkOrToken.trim();
  const token = /[#?&]token=([^&#\s]*)/.exec(text)?.[1] ?? text;
  if (!TOKEN.test(token)) {
    throw new ClientError(
      'MAIL_TOKEN_INVALID',
      operation,
      'this is not a link or token from a Parley mail',
    );
  }
  return token;
}

export class AccountEmail {
  constructor(private readonly api: ServerApi) {}

  /** The address, if any, and whether it is verified. */
  emailStatus = (): Promise<EmailStatus> => this.api.emailStatus();

  /** Sets or replaces the address (asks for the password); it is unverified until its link opens. */
  setEmail = (email: string, password: string): Promise<EmailStatus> =>
    this.api.setEmail(email, normalizePassword(password));

  /** Mails the verification link again (the earlier one stops working). */
  resendVerification = async (): Promise<void> => {
    await this.api.resendVerification();
  };

  /** Opens a verification link: its token, or the whole link. Needs no session. */
  verifyEmail = (linkOrToken: string): Promise<EmailStatus> =>
    this.api.verifyEmail(mailToken(linkOrToken, 'verifyEmail'));

  /**
   * "Forgot password?" for a username or an email address. The server answers the same whether
   * or not it mails anyone, so this resolves the same way too.
   */
  requestPasswordReset = async (usernameOrEmail: string): Promise<void> => {
    await this.api.forgotPassword(usernameOrEmail);
  };

  /**
   * Sets a new password with a reset link (its token or the whole link). Every session of the
   * account ends, on every device; sign in again, then restore the keys with the backup
   * passphrase.
   */
  resetPassword = async (linkOrToken: string, password: string): Promise<void> => {
    await this.api.resetPassword(
      mailToken(linkOrToken, 'resetPassword'),
      normalizePassword(password),
    );
  };

  /** Changes the password; the other sessions end, this one stays. Returns how many ended. */
  changePassword = async (current: string, next: string): Promise<number> => {
    const answer = await this.api.changePassword(
      normalizePassword(current),
      normalizePassword(next),
    );
    return answer.sessionsEnded;
  };
}
