import { dictionary } from '@zxcvbn-ts/language-common';
import { PASSWORD_RULES, USERNAME_RULES, type AccountRules } from '@parley/wire';
import { parleyError } from '../errors';

/** The rules as served at GET /api/auth/rules. */
export const accountRules: AccountRules = {
  username: {
    minLength: USERNAME_RULES.minLength,
    maxLength: USERNAME_RULES.maxLength,
    pattern: USERNAME_RULES.pattern,
    description:
      '3 to 32 characters: lower-case letters a-z, digits 0-9, dot, underscore and hyphen. ' +
      'Case is ignored: "Alice" is "alice".',
  },
  password: {
    minLength: PASSWORD_RULES.minLength,
    maxLength: PASSWORD_RULES.maxLength,
    rejectsCommonPasswords: true,
    description:
      `At least ${PASSWORD_RULES.minLength} characters, and not one of the ~50,000 most common ` +
      'passwords. A passphrase of several words works well.',
  },
};

/** The canonical form of a username, or throws USERNAME_INVALID. */
export function canonicalUsername(input: string): string {
  const username = input.toLowerCase();
  if (
    username.length < USERNAME_RULES.minLength ||
    username.length > USERNAME_RULES.maxLength ||
    !USERNAME_PATTERN.test(username)
  ) {
    throw parleyError('USERNAME_INVALID');
  }
  if (RESERVED_USERNAMES.has(username)) {
    throw parleyError('USERNAME_INVALID', `The username "${username}" is reserved`);
  }
  return username;
}

/**
 * Passwords are compared in Unicode NFKC, so that "é" typed as one code point or as e plus an
 * accent, or a full-width digit, is the same password on every keyboard (as NIST SP 800-63B
 * asks). The client sends it so normalised too (@parley/wire's normalizePassword).
 */
export { normalizePassword } from '@parley/wire';

/** Throws PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG or PASSWORD_TOO_COMMON. */
export function checkPassword(password: string, username: string): void {
  // Length in code points, so a password of emoji is not counted double.
  const length = [...password].length;
  if (length < PASSWORD_RULES.minLength) throw parleyError('PASSWORD_TOO_SHORT');
  if (length > PASSWORD_RULES.maxLength) throw parleyError('PASSWORD_TOO_LONG');
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) throw parleyError('PASSWORD_TOO_COMMON');
  // "alice" + digits is the first thing an attacker tries against alice.
  if (lower.startsWith(username) && /^\d*$/.test(lower.slice(username.length))) {
    throw parleyError('PASSWORD_TOO_COMMON', 'The password must not be the username (plus digits)');
  }
}

const USERNAME_PATTERN = new RegExp(USERNAME_RULES.pattern);

// Path segments of the directory routes and names a user could mistake for the service.
const RESERVED_USERNAMES = new Set(['by-id', 'me', 'admin', 'root', 'parley', 'system', 'support']);

// zxcvbn-ts's list of common passwords (about 49,000, from leaked-password corpora), maintained
// with the zxcvbn-ts estimator.
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  (dictionary['passwords-common'] as unknown as string[]).map((word) => word.toLowerCase()),
);
