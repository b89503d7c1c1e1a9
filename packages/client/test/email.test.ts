// The email and password calls against the real server, which mails a real SMTP server in this
// process; and the same calls against a hostile server whose answers do not match their schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailbox, type Mailbox } from '../../../server/test/mailbox';
import { createClient, mailToken, type Client } from '../src/client';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { expectClientCode } from './helpers';
import { device, passwordOf, shutDown, startServer, type LiveServer } from './live';

let server: LiveServer;
let mailbox: Mailbox;

beforeAll(async () => {
  mailbox = await startMailbox();
  server = await startServer({ env: { SMTP_URL: mailbox.url } });
});
afterAll(async () => {
  await server.close();
  await mailbox.close();
});

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

async function newClient(): Promise<Client> {
  const client = await createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: new MemoryKeyStore(),
  });
  clients.push(client);
  return client;
}

const link = (text: string, page: string) =>
  new RegExp(`https?://\\S+/#/${page}\\?token=[A-Za-z0-9_-]{43}`).exec(text)?.[0] ?? '';

describe('AccountEmail', () => {
  it('signs up with an email, verifies it from the mailed link, and resets a forgotten password', async () => {
    const alice = await newClient();
    await alice.signUp({
      username: 'alice',
      password: passwordOf('alice'),
      email: 'Alice@Example.COM',
    });
    expect(await alice.emailStatus()).toEqual({ address: 'Alice@example.com', verified: false });
    const verification = await mailbox.next('alice@example.com');
    // The whole link, as pasted from the mail.
    expect(await alice.verifyEmail(link(verification.text, 'verify-email'))).toEqual({
      address: 'Alice@example.com',
      verified: true,
    });
    expect(await alice.emailStatus()).toMatchObject({ verified: true });

    // Another device, signed out, forgets the password.
    const laptop = await newClient();
    await laptop.requestPasswordReset('alice@example.com');
    const reset = await mailbox.next('alice@example.com');
    await expectClientCode(
      laptop.resetPassword(link(reset.text, 'reset-password'), 'short'),
      'PASSWORD_TOO_SHORT',
    );
    await laptop.resetPassword(link(reset.text, 'reset-password'), 'a brand new password');
    // Every session ended: the first device is signed out.
    await expectClientCode(alice.emailStatus(), 'SESSION_REVOKED');
    await laptop.logIn({ username: 'alice', password: 'a brand new password' });
    expect(await laptop.emailStatus()).toMatchObject({ verified: true });
  });

  it('sets an address with the password, resends, and changes the password keeping this session', async () => {
    const bob = await device(server, 'bob');
    const email = bob.parts.email;
    await expectClientCode(
      email.setEmail('bob@example.com', 'wrong password'),
      'CURRENT_PASSWORD_WRONG',
    );
    await expectClientCode(email.setEmail('bob@', passwordOf('bob')), 'EMAIL_INVALID');
    expect(await email.setEmail('bob@example.com', passwordOf('bob'))).toEqual({
      address: 'bob@example.com',
      verified: false,
    });
    const first = await mailbox.next('bob@example.com');
    await email.resendVerification();
    const second = await mailbox.next('bob@example.com');
    await expectClientCode(email.verifyEmail(link(first.text, 'verify-email')), 'MAIL_TOKEN_USED');
    await email.verifyEmail(mailToken(link(second.text, 'verify-email')));

    const phone = await newClient();
    await phone.logIn({ username: 'bob', password: passwordOf('bob') });
    await expectClientCode(
      email.changePassword('wrong password', 'another long password'),
      'CURRENT_PASSWORD_WRONG',
    );
    expect(await email.changePassword(passwordOf('bob'), 'another long password')).toBe(1);
    expect(await email.emailStatus()).toMatchObject({ verified: true });
    await expectClientCode(phone.emailStatus(), 'SESSION_REVOKED');
    await shutDown(bob);
  });

  it('checks every answer against its schema', async () => {
    const carol = await device(server, 'carol');
    carol.transport.rewrite = (_method, path, body) =>
      path === '/api/me/email' ? { address: 42, verified: 'yes' } : body;
    await expectClientCode(carol.parts.email.emailStatus(), 'BAD_RESPONSE');
    carol.transport.rewrite = (_method, path, body) =>
      path === '/api/me/password' ? { sessionsEnded: -1 } : body;
    await expectClientCode(
      carol.parts.email.changePassword(passwordOf('carol'), 'carol new password'),
      'BAD_RESPONSE',
    );
    await shutDown(carol);
  });

  it('takes a token or a link and refuses anything else before asking the server', () => {
    const token = 'A'.repeat(43);
    expect(mailToken(token)).toBe(token);
    expect(mailToken(` https://chat.example.org/#/reset-password?token=${token} `)).toBe(token);
    expect(() => mailToken('https://chat.example.org/#/reset-password?token=short')).toThrow(
      expect.objectContaining({ code: 'MAIL_TOKEN_INVALID' }),
    );
  });
});
