import { EMAIL_RULES } from '@parley/wire';
import type { Mail } from './mailer';

/**
 * The mails Parley sends. The web app routes in the URL's fragment (/#/reset-password), so a
 * link's token is in the fragment too (…/#/reset-password?token=…): a browser never sends a
 * fragment to a server, so the token stays out of access logs, proxies and Referer headers; the
 * page reads it and posts it.
 */
export function verificationMail(
  to: string,
  username: string,
  publicUrl: string,
  token: string,
): Mail {
  return {
    to,
    subject: 'Confirm your email address for Parley',
    text: [
      `Hello ${username},`,
      '',
      'Open this link to confirm that this address belongs to your Parley account:',
      '',
      `${publicUrl}/#/verify-email?token=${token}`,
      '',
      `The link works once, for ${EMAIL_RULES.verifyTtlHours} hours. Once confirmed, this address`,
      'can be used to reset your password if you forget it.',
      '',
      'If you did not add this address to a Parley account, ignore this mail.',
    ].join('\n'),
  };
}

export function passwordResetMail(
  to: string,
  username: string,
  publicUrl: string,
  token: string,
): Mail {
  return {
    to,
    subject: 'Reset your Parley password',
    text: [
      `Hello ${username},`,
      '',
      'Someone (we hope you) asked to reset the password of your Parley account. To choose a new',
      'password, open this link:',
      '',
      `${publicUrl}/#/reset-password?token=${token}`,
      '',
      `The link works once, for ${EMAIL_RULES.resetTtlMinutes} minutes. Resetting signs you out on`,
      'every device.',
      '',
      'Your messages are end-to-end encrypted, and a new password does not bring them back: after',
      'signing in, your backup passphrase restores your keys and with them your messages. Without',
      'the passphrase you can only start a new identity (new keys; your contacts are warned, and',
      'your old history stays unreadable).',
      '',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
  };
}
