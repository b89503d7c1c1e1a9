import { Type } from '@sinclair/typebox';
import {
  ChangePasswordRequest,
  EmailStatus,
  ErrorResponse,
  ForgotPasswordAccepted,
  ForgotPasswordRequest,
  PasswordChanged,
  ResetPasswordRequest,
  SetEmailRequest,
  VerifyEmailRequest,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { findUserById } from './account.repository';
import { pruneMailTokens } from './email.repository';
import { loginThrottleFor } from './login-throttle';
import type { PasswordHasher } from './password-hasher';
import { createPasswordService } from './password-reset.service';
import { parleyError } from '../errors';

export interface EmailRoutesOptions {
  hasher: PasswordHasher;
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const bearer = [{ bearer: [] }];
const NoContent = Type.Null({ description: 'No content' });
const PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * The account's email address (/api/me/email), its verification, "forgot password" and reset
 * (/api/auth/*), and password change (/api/me/password).
 */
export async function emailRoutes(app: ParleyApp, options: EmailRoutesOptions): Promise<void> {
  const { limits } = app.config;
  const { emails } = app;
  const passwords = createPasswordService({
    db: app.db,
    hasher: options.hasher,
    loginThrottle: loginThrottleFor(app),
    emails,
    log: app.log,
    onRevoked: (event) => app.sessionEvents.emit('revoked', event),
  });

  // Requests that send mail, per client IP per hour: on top of the per-account budget, so one
  // address cannot mail many accounts (or strangers' mailboxes through many sign-ups).
  const mailPerIp = app.rateLimit({
    max: limits.mailPerIpPerHour,
    timeWindow: 3600_000,
    keyGenerator: (request) => `mail-ip:${request.ip}`,
  });
  const perIp = app.rateLimit({
    max: limits.authPerIpPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `mail-auth-ip:${request.ip}`,
  });

  const prune = setInterval(() => {
    pruneMailTokens(app.db).catch((error: unknown) =>
      app.log.warn({ err: error }, 'pruning mail tokens failed'),
    );
  }, PRUNE_INTERVAL_MS);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));

  const signedIn = async (userId: string) => {
    const user = await findUserById(app.db, userId);
    if (user === undefined) throw parleyError('USER_NOT_FOUND');
    return user;
  };

  app.get(
    '/me/email',
    {
      preHandler: app.authenticate,
      schema: { tags: ['accounts'], security: bearer, response: { 200: EmailStatus, ...errors } },
    },
    async (request) => emails.status(request.user.id),
  );

  // Asks for the password: with only a stolen access token, nobody points resets elsewhere.
  app.put(
    '/me/email',
    {
      preHandler: [app.authenticate, mailPerIp],
      schema: {
        tags: ['accounts'],
        security: bearer,
        body: SetEmailRequest,
        response: { 200: EmailStatus, ...errors },
      },
    },
    async (request) => {
      const address = emails.parse(request.body.email);
      const user = await passwords.checkCurrent(request.user.id, request.body.password, request.ip);
      return emails.setAddress(user, address);
    },
  );

  app.post(
    '/me/email/verification',
    {
      preHandler: [app.authenticate, mailPerIp],
      schema: {
        tags: ['accounts'],
        security: bearer,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await emails.resendVerification(await signedIn(request.user.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/verify-email',
    {
      preHandler: perIp,
      schema: {
        tags: ['accounts'],
        body: VerifyEmailRequest,
        response: { 200: EmailStatus, ...errors },
      },
    },
    async (request) => emails.verify(request.body.token),
  );

  app.post(
    '/auth/forgot-password',
    {
      preHandler: mailPerIp,
      schema: {
        tags: ['accounts'],
        body: ForgotPasswordRequest,
        response: { 202: ForgotPasswordAccepted, ...errors },
      },
    },
    async (request, reply) => {
      await passwords.forgot(request.body.login);
      return reply.code(202).send({ accepted: true });
    },
  );

  app.post(
    '/auth/reset-password',
    {
      preHandler: perIp,
      schema: {
        tags: ['accounts'],
        body: ResetPasswordRequest,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await passwords.reset(request.body.token, request.body.password);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/password',
    {
      preHandler: [app.authenticate, perIp],
      schema: {
        tags: ['accounts'],
        security: bearer,
        body: ChangePasswordRequest,
        response: { 200: PasswordChanged, ...errors },
      },
    },
    async (request) => ({
      sessionsEnded: await passwords.change(request.user, request.body, request.ip),
    }),
  );
}
