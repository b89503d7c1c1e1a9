import { EventEmitter } from 'node:events';
import fastifyJwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { findActiveSession } from '../accounts/session.repository';
import { parleyError } from '../errors';

/** Who made an authenticated request: set on `request.user` by `app.authenticate`. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  /** The session (refresh-token family) the access token was issued for. */
  sessionId: string;
}

/** The claims of an access token. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  sid: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims;
    user: AuthenticatedUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: requires `Authorization: Bearer <access token>` and sets `request.user`. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /**
     * Checks an access token outside HTTP routing (the WebSocket handshake): signature with the
     * allowed algorithm, issuer, audience, expiry, and that its session is still live.
     * Throws TOKEN_INVALID, TOKEN_EXPIRED or SESSION_REVOKED.
     */
    verifyAccessToken(token: string): Promise<AuthenticatedUser>;
    /** Signs a short-lived access token for a session. */
    issueAccessToken(user: AuthenticatedUser): { token: string; expiresAt: Date };
    /**
     * Emits 'revoked' with a SessionsRevoked when sessions end (log out, log out everywhere,
     * refresh-token reuse, account deletion), so live connections of those sessions can be closed.
     * Emitted in this process only; forward it over the bus for the others.
     */
    sessionEvents: SessionEvents;
  }
}

/** `sessionId` absent: every session of the user ended. `accountDeleted`: the user is gone. */
export interface SessionsRevoked {
  userId: string;
  sessionId?: string;
  accountDeleted?: boolean;
}

export type SessionEvents = EventEmitter<{ revoked: [SessionsRevoked] }>;

export interface AuthPluginOptions {
  secret: string;
  accessTokenTtlSeconds: number;
}

const ISSUER = 'parley';
const AUDIENCE = 'parley-access';
/** The only algorithm accepted: a token naming `none` or an asymmetric algorithm is refused. */
const ALGORITHMS = ['HS256'] as const;

export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    if (typeof options.secret !== 'string' || options.secret.length < 32) {
      throw new TypeError('authPlugin: options.secret must be at least 32 characters');
    }
    if (!Number.isInteger(options.accessTokenTtlSeconds) || options.accessTokenTtlSeconds <= 0) {
      throw new TypeError('authPlugin: options.accessTokenTtlSeconds must be a positive integer');
    }

    await app.register(fastifyJwt, {
      secret: options.secret,
      sign: {
        algorithm: ALGORITHMS[0],
        expiresIn: `${options.accessTokenTtlSeconds}s`,
        iss: ISSUER,
        aud: AUDIENCE,
      },
      verify: {
        algorithms: [...ALGORITHMS],
        allowedIss: ISSUER,
        allowedAud: AUDIENCE,
        requiredClaims: ['sub', 'sid', 'exp', 'iat'],
      },
    });

    app.decorate('sessionEvents', new EventEmitter() as SessionEvents);

    app.decorate('issueAccessToken', (user: AuthenticatedUser) => {
      const claims: AccessTokenClaims = {
        sub: user.id,
        username: user.username,
        sid: user.sessionId,
      };
      const token = app.jwt.sign(claims);
      return { token, expiresAt: new Date(Date.now() + options.accessTokenTtlSeconds * 1000) };
    });

    app.decorate('verifyAccessToken', async (token: string): Promise<AuthenticatedUser> => {
      let claims: AccessTokenClaims;
      try {
        claims = app.jwt.verify<AccessTokenClaims>(token);
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw parleyError(code === 'FAST_JWT_EXPIRED' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID');
      }
      if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') {
        throw parleyError('TOKEN_INVALID');
      }
      // One indexed lookup per request: it makes log out, log out everywhere and account deletion
      // take effect at once instead of when the access token expires.
      const session = await findActiveSession(app.db, claims.sid, claims.sub);
      if (session === undefined) throw parleyError('SESSION_REVOKED');
      return { id: session.user_id, username: session.username, sessionId: session.id };
    });

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (header === undefined) throw parleyError('UNAUTHENTICATED');
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
      if (match === null)
        throw parleyError('TOKEN_INVALID', 'Expected "Authorization: Bearer <token>"');
      request.user = await app.verifyAccessToken(match[1]!);
    });
  },
  { name: 'parley-auth', fastify: '5.x', dependencies: ['parley-db'] },
);
