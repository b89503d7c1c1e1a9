import type { IncomingMessage, ServerResponse } from 'node:http';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawServerDefault,
} from 'fastify';
import { accountRoutes } from './accounts/account.routes';
import { emailPlugin } from './accounts/email.plugin';
import { emailRoutes } from './accounts/email.routes';
import { sessionRoutes } from './accounts/session.routes';
import {
  createPasswordHasher,
  PRODUCTION_ARGON2,
  TEST_ONLY_ARGON2,
} from './accounts/password-hasher';
import { loadConfig, type Config, type ConfigOverrides } from './config';
import { openDatabase, type DatabaseHandle } from './db/database';
import { contactRoutes } from './contacts/contact.routes';
import { directoryRoutes } from './directory/directory.routes';
import { healthRoutes } from './health/health.routes';
import { mailPlugin } from './mail/mail.plugin';
import { profileRoutes } from './profiles/profile.routes';
import { attachmentRoutes } from './attachments/attachment.routes';
import { callRoutes } from './calls/call.routes';
import { messageRoutes } from './messages/message.routes';
import { authPlugin } from './plugins/auth';
import { busPlugin } from './plugins/bus';
import { connectionLimitsPlugin } from './plugins/connection-limits';
import { websocketPlugin } from './plugins/websocket';
import { realtimePlugin } from './realtime/realtime.plugin';
import { roomRoutes } from './rooms/room.routes';
import { dbPlugin } from './plugins/db';
import { clientErrorHandler, errorsPlugin, frameworkErrorHandler } from './plugins/errors';
import { openapiPlugin } from './plugins/openapi';
import { rateLimitPlugin } from './plugins/rate-limit';
import { resolveWebRoot, webPlugin } from './plugins/web';

/** The Fastify instance with the TypeBox type provider: route handlers get typed bodies. */
export type ParleyApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated, frozen configuration this app was built with. */
    config: Config;
  }
}

export interface BuildOptions {
  /** Overrides applied on top of the environment (tests set limits, secrets, ...). */
  config?: ConfigOverrides;
  /** The environment to read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** An open database; default: opened from the configuration. The app closes it on close. */
  database?: DatabaseHandle;
  /** Where logs go; default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Skip migrations at start (they already ran). */
  skipMigrations?: boolean;
  /**
   * Cheap Argon2 parameters so test suites can create many accounts quickly. Refused when
   * NODE_ENV is production.
   */
  dangerouslyLowerPasswordHashingCostForTests?: boolean;
  /**
   * The built web app to serve at `/`; default: the repository's web/build when it exists.
   * `false` serves no app (API only).
   */
  webRoot?: string | false;
}

const CONNECTION_CHECK_INTERVAL_MS = 1000;

/** Builds the whole app without listening: `await app.listen(...)` or `app.inject(...)` it. */
export async function build(options: BuildOptions = {}): Promise<ParleyApp> {
  const config = loadConfig(options.env ?? process.env, options.config);
  if (
    options.dangerouslyLowerPasswordHashingCostForTests === true &&
    config.nodeEnv === 'production'
  ) {
    throw new TypeError(
      'build: dangerouslyLowerPasswordHashingCostForTests is refused when NODE_ENV is production',
    );
  }
  const hasher = createPasswordHasher({
    parameters:
      options.dangerouslyLowerPasswordHashingCostForTests === true
        ? TEST_ONLY_ARGON2
        : PRODUCTION_ARGON2,
    maxConcurrent: config.limits.passwordHashConcurrency,
    maxWaiting: config.limits.passwordHashQueue,
  });
  const database = options.database ?? (await openDatabase(config));

  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: config.limits.bodyBytes,
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    // Errors before any route runs answer in the `{ error }` shape too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // A request must arrive whole in time, so a body trickling in a byte at a time cannot hold a
    // connection; checked every second rather than Node's default 30.
    requestTimeout: config.limits.requestTimeoutMs,
    http: {
      requestTimeout: config.limits.requestTimeoutMs,
      headersTimeout: config.limits.headersTimeoutMs,
      connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS,
    },
    // Bodies are validated strictly (no coercion, unknown fields refused); query strings and path
    // parameters are converted from strings first.
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // The API speaks JSON; routes that take raw bytes (avatars, attachments) add their own parser.
  app.removeContentTypeParser('text/plain');

  try {
    app.decorate('config', config);
    await app.register(errorsPlugin);
    await app.register(connectionLimitsPlugin, {
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerIp: config.trustProxy ? undefined : config.limits.maxConnectionsPerIp,
    });
    await app.register(dbPlugin, { database, migrate: options.skipMigrations !== true });
    await app.register(authPlugin, {
      secret: config.jwtSecret,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    await app.register(rateLimitPlugin);
    await app.register(openapiPlugin);

    await app.register(healthRoutes);
    await app.register(mailPlugin);
    await app.register(emailPlugin);
    await app.register(accountRoutes, { prefix: '/api', hasher });
    await app.register(emailRoutes, { prefix: '/api', hasher });
    await app.register(sessionRoutes, { prefix: '/api' });
    await app.register(profileRoutes, { prefix: '/api' });
    await app.register(directoryRoutes, { prefix: '/api' });
    await app.register(busPlugin, {
      redisUrl: config.redisUrl,
      channelPrefix: config.redisChannelPrefix,
    });
    await app.register(websocketPlugin, { maxFrameBytes: config.limits.wsFrameBytes });
    await app.register(realtimePlugin);
    await app.register(roomRoutes, { prefix: '/api' });
    await app.register(messageRoutes, { prefix: '/api' });
    await app.register(attachmentRoutes, { prefix: '/api' });
    await app.register(callRoutes, { prefix: '/api' });
    await app.register(contactRoutes, { prefix: '/api' });
    await app.register(webPlugin, { root: resolveWebRoot(options.webRoot) });
  } catch (error) {
    await app.close().catch(() => {});
    await database.close();
    throw error;
  }
  return app;
}

/**
 * pino through Fastify, with secrets kept out: authorization headers, cookies, any field named
 * like a password or token, and token query parameters (the WebSocket handshake may carry one).
 */
function loggerOptions(
  config: Config,
  stream?: NodeJS.WritableStream,
): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream === undefined ? {} : { stream }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["sec-websocket-protocol"]',
        'res.headers["set-cookie"]',
        'password',
        'token',
        'accessToken',
        'refreshToken',
        '*.password',
        '*.token',
        '*.accessToken',
        '*.refreshToken',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(request) {
        return {
          method: request.method,
          url: redactQuery(request.url),
          remoteAddress: request.ip,
        };
      },
    },
  };
}

const SECRET_QUERY_PARAMETER = /([?&](?:token|access_token|refresh_token)=)[^&]*/gi;

export function redactQuery(url: string): string {
  return url.replace(SECRET_QUERY_PARAMETER, '$1[redacted]');
}
