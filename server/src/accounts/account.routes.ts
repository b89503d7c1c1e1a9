import { Type } from '@sinclair/typebox';
import {
  AccountRules,
  AuthResponse,
  BackupResponse,
  DeleteAccountRequest,
  ErrorResponse,
  LoginRequest,
  LogoutRequest,
  PutBackupRequest,
  RefreshRequest,
  RegisterRequest,
  ResetIdentityRequest,
  UserKeys,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { fromBase64Url, toBase64Url } from '../codec';
import { createDirectoryService } from '../directory/directory.service';
import { publishToRoom } from '../realtime/events';
import { memberRoomIds } from '../rooms/room.repository';
import { createAccountService } from './account.service';
import { deviceNameFor } from './device-name';
import { loginThrottleFor } from './login-throttle';
import type { PasswordHasher } from './password-hasher';
import { accountRules } from './password-rules';

export interface AccountRoutesOptions {
  hasher: PasswordHasher;
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const bearer = [{ bearer: [] }];
const SESSION_PRUNE_INTERVAL_MS = 60 * 60_000;
const NoContent = Type.Null({ description: 'No content' });

/** /api/auth/* (register, log in, refresh, log out) and the account itself under /api/me. */
export async function accountRoutes(app: ParleyApp, options: AccountRoutesOptions): Promise<void> {
  const { limits } = app.config;

  // One counter per client IP across register, login, refresh and log out; and failed logins per
  // account, so a botnet guessing one account's password from many addresses is stopped too.
  const perIp = app.rateLimit({
    max: limits.authPerIpPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `ip:${request.ip}`,
  });
  const loginThrottle = loginThrottleFor(app);
  const accounts = createAccountService({
    db: app.db,
    hasher: options.hasher,
    loginThrottle,
    refreshTokenTtlSeconds: app.config.refreshTokenTtlSeconds,
    refreshReuseGraceSeconds: app.config.refreshReuseGraceSeconds,
    issueAccessToken: app.issueAccessToken,
    onRevoked: (event) => app.sessionEvents.emit('revoked', event),
  });

  const directory = createDirectoryService(app.db);

  // The first unknown-user login must not be the one that pays for creating the dummy hash.
  app.addHook('onReady', () => options.hasher.verifyDummy('warm up'));

  const prune = setInterval(() => {
    accounts.pruneSessions().then(
      (ended) => {
        if (ended > 0) app.log.info({ ended }, 'pruned sessions');
      },
      (error: unknown) => app.log.warn({ err: error }, 'pruning sessions failed'),
    );
  }, SESSION_PRUNE_INTERVAL_MS);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));

  app.get(
    '/auth/rules',
    { schema: { tags: ['accounts'], response: { 200: AccountRules } } },
    async () => accountRules,
  );

  app.post(
    '/auth/register',
    {
      preHandler: perIp,
      schema: {
        tags: ['accounts'],
        body: RegisterRequest,
        response: { 201: AuthResponse, ...errors },
      },
    },
    async (request, reply) => {
      // Checked before the account exists, so a bad address creates nothing.
      const email =
        request.body.email === undefined ? undefined : app.emails.parse(request.body.email);
      const answer = await accounts.register(
        request.body,
        deviceNameFor(request.body.deviceName, request.headers['user-agent']),
      );
      if (email !== undefined) await app.emails.addAtSignUp(answer.user, email);
      return reply.code(201).send(answer);
    },
  );

  app.post(
    '/auth/login',
    {
      preHandler: perIp,
      schema: {
        tags: ['accounts'],
        body: LoginRequest,
        response: { 200: AuthResponse, ...errors },
      },
    },
    async (request) =>
      accounts.login(
        request.body,
        request.ip,
        deviceNameFor(request.body.deviceName, request.headers['user-agent']),
      ),
  );

  app.post(
    '/auth/refresh',
    {
      preHandler: perIp,
      schema: {
        tags: ['accounts'],
        body: RefreshRequest,
        response: { 200: AuthResponse, ...errors },
      },
    },
    async (request) =>
      accounts.refresh(
        request.body.refreshToken,
        request.body.deviceName === undefined
          ? undefined
          : deviceNameFor(request.body.deviceName, request.headers['user-agent']),
      ),
  );

  // Holding the refresh token is enough to end its session: a client whose access token expired
  // can still log out.
  app.post(
    '/auth/logout',
    {
      preHandler: perIp,
      schema: { tags: ['accounts'], body: LogoutRequest, response: { 204: NoContent, ...errors } },
    },
    async (request, reply) => {
      await accounts.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/logout-all',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        security: bearer,
        response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), ...errors },
      },
    },
    async (request) => ({ sessionsEnded: await accounts.logoutEverywhere(request.user.id) }),
  );

  app.delete(
    '/me',
    {
      preHandler: [app.authenticate, perIp],
      schema: {
        tags: ['accounts'],
        security: bearer,
        body: DeleteAccountRequest,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await accounts.deleteAccount(request.user.id, request.body.password, request.ip);
      return reply.code(204).send(null);
    },
  );

  // An identity reset (PROTOCOL.md §3.4): new keys and a new backup for a user who lost both the
  // devices and the passphrase. The password is asked because a stolen access token must not be
  // enough to swap the keys every contact encrypts to.
  app.post(
    '/me/identity/reset',
    {
      preHandler: [app.authenticate, perIp],
      bodyLimit: 96 * 1024,
      schema: {
        tags: ['directory'],
        security: bearer,
        body: ResetIdentityRequest,
        response: { 200: UserKeys, ...errors },
      },
    },
    async (request) => {
      const { password, backup, ...keys } = request.body;
      const blob = fromBase64Url(backup, 'backup');
      await accounts.confirmPassword(request.user.id, password, request.ip);
      const answer = await directory.resetIdentity(request.user.id, keys, blob);
      // Everyone sharing a room hears of it at once; their clients look the keys up again and
      // show the change to accept (who does not hear it sees it at their next look-up).
      for (const roomId of await memberRoomIds(app.db, request.user.id)) {
        publishToRoom(
          app.bus,
          roomId,
          { t: 'relay', except: request.user.id },
          JSON.stringify({ type: 'keys', room: roomId, user: request.user.id }),
        );
      }
      return answer;
    },
  );

  app.put(
    '/me/backup',
    {
      preHandler: app.authenticate,
      bodyLimit: 96 * 1024,
      schema: {
        tags: ['accounts'],
        security: bearer,
        body: PutBackupRequest,
        response: { 200: Type.Object({ updatedAt: Type.String() }), ...errors },
      },
    },
    async (request) => {
      const blob = fromBase64Url(request.body.blob, 'blob');
      const updatedAt = await accounts.putBackup(request.user.id, blob);
      return { updatedAt: updatedAt.toISOString() };
    },
  );

  app.get(
    '/me/backup',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        security: bearer,
        response: { 200: BackupResponse, ...errors },
      },
    },
    async (request) => {
      const backup = await accounts.getBackup(request.user.id);
      return {
        blob: toBase64Url(backup.blob),
        updatedAt: backup.updatedAt.toISOString(),
      };
    },
  );
}
