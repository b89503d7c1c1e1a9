import { Type, type Static } from '@sinclair/typebox';

/**
 * Email addresses, their verification, password reset by email and password change.
 *
 * An address is optional. It is used only once verified (a link with a single-use token mailed
 * to it), and then only to mail a password-reset link; a reset never touches keys.
 */
export const EMAIL_RULES = {
  /** RFC 5321's limit on a forward path. */
  maxLength: 254,
  /** How long a verification link works, and a reset link. */
  verifyTtlHours: 24,
  resetTtlMinutes: 60,
} as const;

// The HTML standard's "valid e-mail address" (what <input type=email> accepts), with a dot in the
// domain: the browser's check and the server's agree, and an intranet name is refused.
const LOCAL_PART = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN_RAW = /^[^\s/?#:@\\[\]%]+$/;

/**
 * The canonical form of an address, or undefined when it is not one: trimmed, the domain
 * lower-cased and in its ASCII (punycode) form by the URL parser (the same in browsers and Node).
 * The local part is kept as typed: RFC 5321 leaves its case to the receiving server.
 */
export function normalizeEmail(input: string): string | undefined {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return undefined;
  const local = trimmed.slice(0, at);
  const rawDomain = trimmed.slice(at + 1);
  if (!LOCAL_PART.test(local) || !DOMAIN_RAW.test(rawDomain)) return undefined;
  let domain: string;
  try {
    domain = new URL(`http://${rawDomain}`).hostname;
  } catch {
    return undefined;
  }
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return undefined;
  const address = `${local}@${domain}`;
  return address.length <= EMAIL_RULES.maxLength ? address : undefined;
}

const EmailInput = Type.String({ minLength: 3, maxLength: 320, description: 'an email address' });
const PasswordInput = Type.String({ minLength: 1, maxLength: 1024 });

/** A mailed token: 32 random bytes, base64url. */
export const MailToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

/** Adding or changing the address asks for the password: a stolen session cannot redirect resets. */
export const SetEmailRequest = Type.Object(
  { email: EmailInput, password: PasswordInput },
  { additionalProperties: false },
);
export type SetEmailRequest = Static<typeof SetEmailRequest>;

/** GET /api/me/email: the address (null when none) and whether it is verified. */
export const EmailStatus = Type.Object(
  { address: Type.Union([Type.String(), Type.Null()]), verified: Type.Boolean() },
  { additionalProperties: false },
);
export type EmailStatus = Static<typeof EmailStatus>;

export const VerifyEmailRequest = Type.Object(
  { token: MailToken },
  { additionalProperties: false },
);
export type VerifyEmailRequest = Static<typeof VerifyEmailRequest>;

/** "Forgot password?": a username or an email address. The answer is the same either way. */
export const ForgotPasswordRequest = Type.Object(
  { login: Type.String({ minLength: 1, maxLength: 320 }) },
  { additionalProperties: false },
);
export type ForgotPasswordRequest = Static<typeof ForgotPasswordRequest>;

export const ResetPasswordRequest = Type.Object(
  { token: MailToken, password: PasswordInput },
  { additionalProperties: false },
);
export type ResetPasswordRequest = Static<typeof ResetPasswordRequest>;

export const ChangePasswordRequest = Type.Object(
  { currentPassword: PasswordInput, newPassword: PasswordInput },
  { additionalProperties: false },
);
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;

/** The answer to a password change: the other sessions it ended (this one stays). */
export const PasswordChanged = Type.Object(
  { sessionsEnded: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type PasswordChanged = Static<typeof PasswordChanged>;

/** The answer to "forgot password", whatever the account: nothing in it tells one apart. */
export const ForgotPasswordAccepted = Type.Object(
  { accepted: Type.Literal(true) },
  { additionalProperties: false },
);
export type ForgotPasswordAccepted = Static<typeof ForgotPasswordAccepted>;
