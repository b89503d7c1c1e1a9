// `parley email …` and `parley password …` against a live server that mails a real SMTP server in
// this process: sign up with an address, verify it from the link, forget the password and reset
// it from the mailed link, then change it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { link, startMailbox, type Mailbox } from '../../server/test/mailbox';
import { runCli, type CliResult } from './cli-run';
import { startServer, type LiveServer } from './harness';

describe('the parley email and password commands', () => {
  let server: LiveServer;
  let mailbox: Mailbox;
  let root: string;

  beforeAll(async () => {
    mailbox = await startMailbox();
    server = await startServer({}, { SMTP_URL: mailbox.url });
    root = await mkdtemp(join(tmpdir(), 'parley-cli-email-'));
  });

  afterAll(async () => {
    await server.close();
    await mailbox.close();
    await rm(root, { recursive: true, force: true });
  });

  async function run(
    home: string,
    env: Record<string, string>,
    ...args: string[]
  ): Promise<CliResult> {
    return runCli({ root, home, server: server.baseUrl }, env, args);
  }

  async function parley(home: string, env: Record<string, string>, ...args: string[]) {
    const result = await run(home, env, ...args);
    expect(result.code, `parley ${args.join(' ')}: ${result.err}`).toBe(0);
    return result.out;
  }

  it('verifies an address, resets a forgotten password and changes it', async () => {
    const first = { PARLEY_PASSWORD: 'erin first password' };
    await parley('erin', first, 'signup', 'erin', '--no-backup', '--email', 'Erin@Example.org');
    expect(await parley('erin', {}, 'email')).toBe('Erin@example.org (not verified)');
    const verification = link(await mailbox.next('erin@example.org'), 'verify-email');
    expect(await parley('erin', {}, 'email', 'verify', verification.href)).toBe(
      'Erin@example.org is verified.',
    );
    expect(await parley('erin', {}, 'email', 'show')).toBe('Erin@example.org (verified)');

    // Elsewhere, signed out: the same words for a name with no account.
    const forgotten = await parley('laptop', {}, 'password', 'forgot', 'erin@example.org');
    expect(await parley('laptop', {}, 'password', 'forgot', 'nobody-here')).toBe(forgotten);
    const reset = link(await mailbox.next('erin@example.org'), 'reset-password');
    const second = { PARLEY_NEW_PASSWORD: 'erin second password' };
    // The link from a prompt (here the environment), not the command line.
    expect(
      await parley('laptop', { ...second, PARLEY_MAIL_LINK: reset.href }, 'password', 'reset'),
    ).toBe('Password reset; every session of the account is signed out.');
    const signedOut = await run('erin', {}, 'email');
    expect(signedOut.code).toBe(1);
    expect(signedOut.err).toMatch(/SESSION_REVOKED|REFRESH_TOKEN_INVALID/);
    const used = await run('laptop', second, 'password', 'reset', reset.href);
    expect(used.err).toMatch(/^parley: MAIL_TOKEN_USED: .*used already/);

    await parley('erin', { PARLEY_PASSWORD: 'erin second password' }, 'login', 'erin');
    const wrong = await run(
      'erin',
      { PARLEY_PASSWORD: 'erin first password', PARLEY_NEW_PASSWORD: 'erin third password' },
      'password',
      'change',
    );
    expect(wrong.err).toMatch(/^parley: CURRENT_PASSWORD_WRONG: .*current password is wrong/);
    expect(
      await parley(
        'erin',
        { PARLEY_PASSWORD: 'erin second password', PARLEY_NEW_PASSWORD: 'erin third password' },
        'password',
        'change',
      ),
    ).toBe('Password changed; 0 other session(s) signed out.');
    expect(await parley('erin', {}, 'email')).toBe('Erin@example.org (verified)');
  });
});
