// Email addresses, verification, password reset and change, end to end through the HTTP API, with
// the mail read from a real SMTP server in this process (mailbox.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { CloseCode, type AuthResponse } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';
import {
  expectError,
  registerUser,
  strongPassword,
  uniqueUsername,
  type TestUser,
} from './accounts';
import { createTestApp } from './helpers';
import { linkToken, startMailbox, type Mailbox } from './mailbox';
import { listen, TestSocket } from './rooms-fixtures';

const PUBLIC_URL = 'https://chat.example.org';
let app: ParleyApp;
let url: string;
let mailbox: Mailbox;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  mailbox = await startMailbox();
  app = await createTestApp({
    env: { SMTP_URL: mailbox.url, MAIL_FROM: 'Parley Test <noreply@example.org>', PUBLIC_URL },
    config: { limits: { mailPerAccountPerHour: 1000, mailPerIpPerHour: 100_000 } },
  });
  url = await listen(app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await app.close();
  await mailbox.close();
});

let addresses = 0;
/** An address no other test uses, with an upper-case domain to see it normalised. */
function newAddress(): { typed: string; canonical: string } {
  addresses += 1;
  const local = `Person.${addresses}.${Date.now()}`;
  return { typed: `  ${local}@Mail.EXAMPLE.com `, canonical: `${local}@mail.example.com` };
}

async function call(
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  payload?: object,
  user?: TestUser,
) {
  return app.inject({
    method,
    url: path,
    ...(payload === undefined ? {} : { payload }),
    headers: user === undefined ? {} : user.auth,
  });
}

async function signUpWithEmail(): Promise<TestUser & { address: string; token: string }> {
  const { typed, canonical } = newAddress();
  const username = uniqueUsername('mail');
  const password = strongPassword();
  const response = await call('POST', '/api/auth/register', { username, password, email: typed });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json<AuthResponse>();
  const mail = await mailbox.next(canonical);
  return {
    id: body.user.id,
    username,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
    address: canonical,
    token: linkToken(mail, 'verify-email'),
  };
}

async function verifiedUser() {
  const user = await signUpWithEmail();
  expect((await call('POST', '/api/auth/verify-email', { token: user.token })).statusCode).toBe(
    200,
  );
  return user;
}

async function logIn(user: { username: string; password: string }) {
  return call('POST', '/api/auth/login', { username: user.username, password: user.password });
}

async function forgot(login: string) {
  return call('POST', '/api/auth/forgot-password', { login });
}

describe('email at sign-up and its verification', () => {
  it('mails a link to the normalised address; opening it verifies the address once', async () => {
    const user = await signUpWithEmail();
    const status = await call('GET', '/api/me/email', undefined, user);
    expect(status.json()).toEqual({ address: user.address, verified: false });

    const verified = await call('POST', '/api/auth/verify-email', { token: user.token });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({ address: user.address, verified: true });
    expect((await call('GET', '/api/me/email', undefined, user)).json()).toEqual({
      address: user.address,
      verified: true,
    });
    expectError(
      await call('POST', '/api/auth/verify-email', { token: user.token }),
      410,
      'MAIL_TOKEN_USED',
    );
  });

  it('sends from MAIL_FROM with links on PUBLIC_URL, the token in the fragment', async () => {
    const { typed, canonical } = newAddress();
    await call('POST', '/api/auth/register', {
      username: uniqueUsername(),
      password: strongPassword(),
      email: typed,
    });
    const mail = await mailbox.next(canonical);
    expect(mail.from).toBe('"Parley Test" <noreply@example.org>');
    expect(mail.subject).toMatch(/confirm/i);
    expect(mail.text).toContain(`${PUBLIC_URL}/#/verify-email?token=`);
  });

  it('stores only the SHA-256 of a mailed token', async () => {
    const user = await signUpWithEmail();
    const rows = await app.db
      .selectFrom('mail_tokens')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows.map((row) => row.token_hash)).toEqual([
      createHash('sha256').update(user.token).digest('hex'),
    ]);
    const everything = JSON.stringify(await app.db.selectFrom('mail_tokens').selectAll().execute());
    expect(everything).not.toContain(user.token);
  });

  it('refuses a bad address at sign-up with EMAIL_INVALID and creates no account', async () => {
    const username = uniqueUsername();
    for (const email of [
      'not-an-address',
      'a@b',
      'two@@example.com',
      'x@exa mple.com',
      'x@-bad.com',
    ]) {
      expectError(
        await call('POST', '/api/auth/register', { username, password: strongPassword(), email }),
        400,
        'EMAIL_INVALID',
      );
    }
    expect((await registerUser(app, username)).username).toBe(username);
  });

  it('tells garbage, unknown, expired and wrong-purpose tokens apart by code', async () => {
    expectError(
      await call('POST', '/api/auth/verify-email', { token: 'garbage' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await call('POST', '/api/auth/verify-email', { token: 'A'.repeat(43) }),
      400,
      'MAIL_TOKEN_INVALID',
    );
    const user = await signUpWithEmail();
    await app.db
      .updateTable('mail_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expectError(
      await call('POST', '/api/auth/verify-email', { token: user.token }),
      410,
      'MAIL_TOKEN_EXPIRED',
    );
    // A verification link does not reset a password.
    const other = await signUpWithEmail();
    expectError(
      await call('POST', '/api/auth/reset-password', {
        token: other.token,
        password: strongPassword(),
      }),
      400,
      'MAIL_TOKEN_INVALID',
    );
  });
});

describe('email in settings', () => {
  it('sets and changes the address with the password; a link to a replaced address is void', async () => {
    const user = await registerUser(app);
    expect((await call('GET', '/api/me/email', undefined, user)).json()).toEqual({
      address: null,
      verified: false,
    });
    const first = newAddress();
    const set = await call(
      'PUT',
      '/api/me/email',
      { email: first.typed, password: user.password },
      user,
    );
    expect(set.json()).toEqual({ address: first.canonical, verified: false });
    const firstToken = linkToken(await mailbox.next(first.canonical), 'verify-email');

    const second = newAddress();
    await call('PUT', '/api/me/email', { email: second.typed, password: user.password }, user);
    const secondToken = linkToken(await mailbox.next(second.canonical), 'verify-email');
    // The newest link is the only one that works.
    expectError(
      await call('POST', '/api/auth/verify-email', { token: firstToken }),
      410,
      'MAIL_TOKEN_USED',
    );
    expect((await call('POST', '/api/auth/verify-email', { token: secondToken })).json()).toEqual({
      address: second.canonical,
      verified: true,
    });
  });

  it('refuses a wrong password, a bad address, and resends only for an unverified one', async () => {
    const user = await registerUser(app);
    expectError(
      await call(
        'PUT',
        '/api/me/email',
        { email: newAddress().typed, password: 'wrong password!' },
        user,
      ),
      403,
      'CURRENT_PASSWORD_WRONG',
    );
    expectError(
      await call('PUT', '/api/me/email', { email: 'nope', password: user.password }, user),
      400,
      'EMAIL_INVALID',
    );
    expectError(
      await call('POST', '/api/me/email/verification', undefined, user),
      404,
      'EMAIL_NOT_SET',
    );
    expectError(await call('GET', '/api/me/email'), 401, 'UNAUTHENTICATED');

    const withEmail = await signUpWithEmail();
    expect(
      (await call('POST', '/api/me/email/verification', undefined, withEmail)).statusCode,
    ).toBe(204);
    const resent = linkToken(await mailbox.next(withEmail.address), 'verify-email');
    expect(resent).not.toBe(withEmail.token);
    await call('POST', '/api/auth/verify-email', { token: resent });
    expectError(
      await call('POST', '/api/me/email/verification', undefined, withEmail),
      409,
      'EMAIL_ALREADY_VERIFIED',
    );
  });

  it('an address is verified by one account at most; the second learns it from the link', async () => {
    const owner = await verifiedUser();
    const other = await registerUser(app);
    const set = await call(
      'PUT',
      '/api/me/email',
      { email: owner.address, password: other.password },
      other,
    );
    // Setting it tells nothing about other accounts.
    expect(set.json()).toEqual({ address: owner.address, verified: false });
    const token = linkToken(await mailbox.next(owner.address), 'verify-email');
    expectError(await call('POST', '/api/auth/verify-email', { token }), 409, 'EMAIL_TAKEN');
  });
});

describe('forgot password and reset', () => {
  it('answers the same for a verified account, an unverified one and nobody; mails only the first', async () => {
    const verified = await verifiedUser();
    const unverified = await signUpWithEmail();
    const answers = await Promise.all([
      forgot(verified.username),
      forgot(unverified.username),
      forgot(unverified.address),
      forgot('nobody-at-all'),
      forgot('nobody@example.com'),
      forgot('not an address@'),
    ]);
    for (const answer of answers) {
      expect({ status: answer.statusCode, body: answer.body }).toEqual({
        status: 202,
        body: '{"accepted":true}',
      });
    }
    expect((await mailbox.next(verified.address)).subject).toMatch(/reset/i);
    await mailbox.nothingFor(unverified.address, 300);
  });

  it('resets with the mailed link: every session and socket ends, keys and backup stay', async () => {
    const user = await verifiedUser();
    const backup = await call('PUT', '/api/me/backup', { blob: 'c2VhbGVkLWJhY2t1cA' }, user);
    expect(backup.statusCode, backup.body).toBe(200);
    const socket = await TestSocket.authenticated(url, user);
    sockets.push(socket);

    // Case is ignored in the whole address when looking it up.
    await forgot(` ${user.address.toUpperCase()} `);
    const mail = await mailbox.next(user.address);
    expect(mail.text).toContain(`${PUBLIC_URL}/#/reset-password?token=`);
    expect(mail.text).toMatch(/backup passphrase/);
    expect(mail.text).toMatch(/new identity/);
    const token = linkToken(mail, 'reset-password');

    // A refused password leaves the link usable.
    expectError(
      await call('POST', '/api/auth/reset-password', { token, password: 'short' }),
      400,
      'PASSWORD_TOO_SHORT',
    );
    const password = strongPassword();
    const reset = await call('POST', '/api/auth/reset-password', { token, password });
    expect(reset.statusCode, reset.body).toBe(204);

    expect(await socket.closed).toEqual({
      code: CloseCode.SESSION_ENDED,
      reason: 'SESSION_REVOKED',
    });
    expectError(
      await call('POST', '/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    expectError(await logIn(user), 401, 'INVALID_CREDENTIALS');
    const fresh = await logIn({ username: user.username, password });
    expect(fresh.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${fresh.json<AuthResponse>().accessToken}` };
    const kept = await app.inject({ method: 'GET', url: '/api/me/backup', headers: auth });
    expect(kept.json()).toMatchObject({ blob: 'c2VhbGVkLWJhY2t1cA' });

    expectError(
      await call('POST', '/api/auth/reset-password', { token, password: strongPassword() }),
      410,
      'MAIL_TOKEN_USED',
    );
  });

  it('an expired reset link is refused', async () => {
    const user = await verifiedUser();
    await forgot(user.username);
    const token = linkToken(await mailbox.next(user.address), 'reset-password');
    await app.db
      .updateTable('mail_tokens')
      .set({ expires_at: new Date(Date.now() - 1) })
      .where('purpose', '=', 'reset')
      .where('user_id', '=', user.id)
      .execute();
    expectError(
      await call('POST', '/api/auth/reset-password', { token, password: strongPassword() }),
      410,
      'MAIL_TOKEN_EXPIRED',
    );
    expectError(
      await call('POST', '/api/auth/reset-password', {
        token: '!'.repeat(43),
        password: strongPassword(),
      }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('a token used twice at once', () => {
  it('resets once: one request wins, the other is told the link was used', async () => {
    const user = await verifiedUser();
    await forgot(user.username);
    const token = linkToken(await mailbox.next(user.address), 'reset-password');
    const answers = await Promise.all(
      [strongPassword(), strongPassword()].map((password) =>
        call('POST', '/api/auth/reset-password', { token, password }),
      ),
    );
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([204, 410]);
    expectError(
      answers.find((answer) => answer.statusCode === 410)!,
      410,
      'MAIL_TOKEN_USED',
    );
  });
});

describe('a relay that is down', () => {
  it('still signs up; a resend says MAIL_NOT_SENT', async () => {
    // A port nothing listens on: the mailbox of a test that has closed.
    const gone = await startMailbox();
    await gone.close();
    const down = await createTestApp({ env: { SMTP_URL: gone.url } });
    try {
      const register = await down.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: uniqueUsername(), password: strongPassword(), email: 'x@example.com' },
      });
      expect(register.statusCode, register.body).toBe(201);
      const auth = { authorization: `Bearer ${register.json<AuthResponse>().accessToken}` };
      expectError(
        await down.inject({ method: 'POST', url: '/api/me/email/verification', headers: auth }),
        503,
        'MAIL_NOT_SENT',
      );
    } finally {
      await down.close();
    }
  });
});

describe('password change', () => {
  it('needs the current password; ends the other sessions and keeps this one', async () => {
    const user = await verifiedUser();
    const phone = (await logIn(user)).json<AuthResponse>();
    const phoneSocket = await TestSocket.authenticated(url, {
      ...user,
      accessToken: phone.accessToken,
    });
    sockets.push(phoneSocket);
    await forgot(user.username);
    const resetToken = linkToken(await mailbox.next(user.address), 'reset-password');

    expectError(
      await call(
        'POST',
        '/api/me/password',
        { currentPassword: 'not the password', newPassword: strongPassword() },
        user,
      ),
      403,
      'CURRENT_PASSWORD_WRONG',
    );
    expectError(
      await call(
        'POST',
        '/api/me/password',
        { currentPassword: user.password, newPassword: 'short' },
        user,
      ),
      400,
      'PASSWORD_TOO_SHORT',
    );
    const newPassword = strongPassword();
    const changed = await call(
      'POST',
      '/api/me/password',
      { currentPassword: user.password, newPassword },
      user,
    );
    expect(changed.json()).toEqual({ sessionsEnded: 1 });

    expect(await phoneSocket.closed).toEqual({
      code: CloseCode.SESSION_ENDED,
      reason: 'SESSION_REVOKED',
    });
    expectError(
      await call('POST', '/api/auth/refresh', { refreshToken: phone.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    expect((await call('GET', '/api/me/email', undefined, user)).statusCode).toBe(200);
    expect(
      (await call('POST', '/api/auth/refresh', { refreshToken: user.refreshToken })).statusCode,
    ).toBe(200);
    expect((await logIn({ username: user.username, password: newPassword })).statusCode).toBe(200);
    // A reset link mailed before the change cannot undo it.
    expectError(
      await call('POST', '/api/auth/reset-password', {
        token: resetToken,
        password: strongPassword(),
      }),
      410,
      'MAIL_TOKEN_USED',
    );
  });
});

describe('mail rate limits', () => {
  let limited: ParleyApp;
  let limitedMailbox: Mailbox;
  beforeAll(async () => {
    limitedMailbox = await startMailbox();
    limited = await createTestApp({
      env: { SMTP_URL: limitedMailbox.url },
      config: { limits: { mailPerAccountPerHour: 2, mailPerIpPerHour: 3 } },
    });
  });
  afterAll(async () => {
    await limited.close();
    await limitedMailbox.close();
  });

  it('sends an account a few mails an hour and takes a few mail requests from one address', async () => {
    const address = `limit.${Date.now()}@example.com`;
    const username = uniqueUsername();
    const register = await limited.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username, password: strongPassword(), email: address },
    });
    const auth = { authorization: `Bearer ${register.json<AuthResponse>().accessToken}` };
    const resend = () =>
      limited.inject({ method: 'POST', url: '/api/me/email/verification', headers: auth });
    expect((await resend()).statusCode).toBe(204);
    expectError(await resend(), 429, 'RATE_LIMITED');
    // Past the account's budget a reset request is still answered, and sends nothing.
    const forgotHere = () =>
      limited.inject({
        method: 'POST',
        url: '/api/auth/forgot-password',
        payload: { login: username },
      });
    expect((await forgotHere()).statusCode).toBe(202);
    expectError(await forgotHere(), 429, 'RATE_LIMITED');
    expect(limitedMailbox.received.filter((mail) => mail.to === address)).toHaveLength(2);
  });
});

describe('mail without SMTP_URL', () => {
  it('writes each mail as an .eml file to the outbox folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    // An empty MAIL_OUTBOX_DIR is unset: the default folder under DATA_DIR.
    const local = await createTestApp({ env: { DATA_DIR: dataDir, MAIL_OUTBOX_DIR: '' } });
    try {
      const address = `outbox.${Date.now()}@example.com`;
      await local.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: uniqueUsername(), password: strongPassword(), email: address },
      });
      const outbox = join(dataDir, 'outbox');
      const files = readdirSync(outbox);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      const mail = await simpleParser(readFileSync(join(outbox, files[0] ?? '')));
      expect(mail.headers.get('to')).toMatchObject({ text: address });
      expect(mail.text).toMatch(
        /http:\/\/localhost:3000\/#\/verify-email\?token=[A-Za-z0-9_-]{43}/,
      );
    } finally {
      await local.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads SMTP_URL, MAIL_FROM, PUBLIC_URL and MAIL_OUTBOX_DIR, and refuses bad ones', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-mail-config-'));
    try {
      const defaults = loadConfig({
        DATA_DIR: dataDir,
        JWT_SECRET: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz0123',
      });
      expect(defaults.mail).toEqual({
        smtpUrl: undefined,
        outboxDir: join(dataDir, 'outbox'),
        from: 'Parley <parley@localhost>',
        publicUrl: 'http://localhost:3000',
      });
      expect(() =>
        loadConfig({
          DATA_DIR: dataDir,
          SMTP_URL: 'http://mail.example.com',
          PUBLIC_URL: 'chat.example.org/x',
        }),
      ).toThrow(ConfigError);
      try {
        loadConfig({ DATA_DIR: dataDir, SMTP_URL: 'http://mail.example.com', PUBLIC_URL: 'nope' });
      } catch (error) {
        const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
        expect(problems.sort()).toEqual(['PUBLIC_URL', 'SMTP_URL']);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
