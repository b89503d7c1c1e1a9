// The account's email address and password: `parley email …` to add, verify and show the
// address, `parley password …` to change a password, or to reset a forgotten one with the link the
// server mails. Passwords come from the prompt or PARLEY_PASSWORD / PARLEY_NEW_PASSWORD; a mailed
// link may be pasted at a prompt rather than typed as an argument (shell history keeps those).
import type { Command } from 'commander';
import { print, status } from './output';
import { clientRunner, secret } from './session';

const RESTORE_HINT =
  'Your keys are not in your password: sign in, then restore them with your backup passphrase ' +
  '(`parley restore`). Without it you can only start a new identity.';

export function registerEmailCommands(program: Command): void {
  const withClient = clientRunner(program);

  const email = program
    .command('email')
    .description('the email address for password reset (optional)');

  email
    .command('show', { isDefault: true })
    .description('the address and whether it is verified')
    .action(() =>
      withClient(async (client) => {
        const { address, verified } = await client.emailStatus();
        print(
          address === null
            ? 'No email address.'
            : `${address} (${verified ? 'verified' : 'not verified'})`,
        );
      }),
    );

  email
    .command('set <address>')
    .description('add or replace the address; a verification link is mailed to it')
    .action((address: string) =>
      withClient(async (client) => {
        const password = await secret('PARLEY_PASSWORD', 'Password: ');
        const answer = await client.setEmail(address, password);
        print(
          answer.verified
            ? `${answer.address} is verified already.`
            : `Sent a verification link to ${answer.address}; open it, or run \`parley email verify\`.`,
        );
      }),
    );

  email
    .command('resend')
    .description('mail the verification link again')
    .action(() =>
      withClient(async (client) => {
        await client.resendVerification();
        print('Sent a new verification link.');
      }),
    );

  email
    .command('verify [link]')
    .description('verify the address with the mailed link (or its token); asks for it if omitted')
    .action((link: string | undefined) =>
      withClient(async (client) => {
        const answer = await client.verifyEmail(link ?? (await mailedLink()));
        print(`${answer.address ?? ''} is verified.`);
      }),
    );

  const password = program.command('password').description('change or reset the password');

  password
    .command('change')
    .description('change the password; every other session of the account ends')
    .action(() =>
      withClient(async (client) => {
        const current = await secret('PARLEY_PASSWORD', 'Current password: ');
        const next = await newPassword();
        const ended = await client.changePassword(current, next);
        print(`Password changed; ${ended} other session(s) signed out.`);
      }),
    );

  password
    .command('forgot <username-or-email>')
    .description('mail a reset link to the account’s verified address')
    .action((login: string) =>
      withClient(async (client) => {
        await client.requestPasswordReset(login);
        // The server answers the same for every name: so does this.
        print('If that account has a verified email address, a reset link is on its way.');
      }),
    );

  password
    .command('reset [link]')
    .description('set a new password with the mailed link (or its token); signs out everywhere')
    .action((link: string | undefined) =>
      withClient(async (client) => {
        const token = link ?? (await mailedLink());
        await client.resetPassword(token, await newPassword());
        print('Password reset; every session of the account is signed out.');
        status(RESTORE_HINT);
      }),
    );
}

/** The link from the mail, pasted at a prompt (or PARLEY_MAIL_LINK for scripts). */
function mailedLink(): Promise<string> {
  return secret('PARLEY_MAIL_LINK', 'Link from the mail: ');
}

/** A new password: PARLEY_NEW_PASSWORD, or typed twice at a prompt that does not echo. */
async function newPassword(): Promise<string> {
  const fromEnvironment = process.env.PARLEY_NEW_PASSWORD;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  const first = await secret('PARLEY_NEW_PASSWORD', 'New password: ');
  const again = await secret('PARLEY_NEW_PASSWORD', 'New password again: ');
  if (first !== again) throw new Error('the two new passwords differ');
  return first;
}
