import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CloseCode } from '@parley/wire';
import { markSessionSeen } from '../accounts/session.repository';
import { TokenBuckets } from '../limits/token-bucket';
import { createMessageService, type MessageService } from '../messages/message.service';
import { createReceiptService, type ReceiptService } from '../messages/receipt.service';
import { blockPartnersOf } from '../contacts/contact.repository';
import { isMember } from '../rooms/room.repository';
import type { SessionsRevoked } from '../plugins/auth';
import { serveConnection } from './connection';
import { publishSessionEnd } from './events';
import { Hub } from './hub';
import { SocketGate, type Admission } from './socket-gate';

declare module 'fastify' {
  interface FastifyInstance {
    /** The relay: sockets, message commits, receipts. Route modules publish through it. */
    realtime: Realtime;
  }
}

export interface Realtime {
  hub: Hub;
  messages: MessageService;
  receipts: ReceiptService;
}

/** How often coalesced delivered/read markers are written. */
const RECEIPT_FLUSH_MS = 250;

/**
 * The WebSocket endpoint /ws and the services behind it. Origins are checked before anything
 * else (4003): a browser page from another site must not ride on a user's cookies or tokens.
 */
export const realtimePlugin = fp(
  async (app) => {
    const hub = new Hub(app.db, app.bus, app.log);
    const messages = createMessageService({
      db: app.db,
      bus: app.bus,
      batchSize: app.config.limits.messageBatchSize,
      onError: (error) => app.log.error({ err: error }, 'committing messages failed'),
    });
    const receipts = createReceiptService({
      db: app.db,
      bus: app.bus,
      flushIntervalMs: RECEIPT_FLUSH_MS,
      onError: (error) => app.log.error({ err: error }, 'writing receipts failed'),
    });
    app.decorate('realtime', { hub, messages, receipts });

    // Ended sessions close their sockets in every process, not only in the one that ended them.
    const onRevoked = (event: SessionsRevoked) =>
      publishSessionEnd(
        app.bus,
        event.userId,
        event.sessionId,
        event.accountDeleted === true ? 'ACCOUNT_DELETED' : 'SESSION_REVOKED',
      );
    app.sessionEvents.on('revoked', onRevoked);

    // After the sockets are closed (preClose) and before the database closes.
    app.addHook('onClose', async () => {
      app.sessionEvents.off('revoked', onRevoked);
      await messages.idle();
      await receipts.close();
      await hub.close();
    });

    const { config } = app;
    const { limits } = config;
    // Shared by every socket of an account in this process.
    const accountMessages = new TokenBuckets(limits.wsMessagesPer10SecondsPerAccount, 10_000);
    const gate = new SocketGate({
      total: config.limits.wsMaxSockets,
      perIp: config.limits.wsMaxSocketsPerIp,
      unauthenticated: config.limits.wsMaxUnauthenticated,
    });
    const admissions = new WeakMap<IncomingMessage, Admission>();
    // Counted before the upgrade, so a socket too many gets an HTTP error and costs nothing more.
    const admit = async (request: FastifyRequest) => {
      if (request.headers.upgrade?.toLowerCase() !== 'websocket') return;
      const admission = gate.admit(request.ip);
      admissions.set(request.raw, admission);
      request.raw.socket.once('close', admission.closed);
    };
    app.get(
      '/ws',
      { websocket: true, schema: { hide: true }, onRequest: admit },
      (socket, request) => {
        if (!originAllowed(request, config.allowedOrigins)) {
          socket.close(CloseCode.ORIGIN_NOT_ALLOWED, 'origin not allowed');
          return;
        }
        serveConnection(socket, {
          hub,
          bus: app.bus,
          messages,
          receipts,
          verifyAccessToken: (token) => app.verifyAccessToken(token),
          tokenExpiry: (token) => app.jwt.decode<{ exp?: number }>(token)?.exp,
          isMember: (roomId, userId) => isMember(app.db, roomId, userId),
          blockPartners: (userId) => blockPartnersOf(app.db, userId),
          log: request.log,
          authTimeoutMs: config.wsAuthTimeoutMs,
          sendBufferBytes: config.limits.wsSendBufferBytes,
          malformedFrames: config.limits.wsMalformedFrames,
          quotas: {
            messagesPer10Seconds: limits.wsMessagesPer10SecondsPerSocket,
            accountMessages,
            typingPer10Seconds: limits.wsTypingPer10Seconds,
            pingsPer10Seconds: limits.wsPingsPer10Seconds,
            pendingSends: limits.wsPendingSends,
          },
          onAuthenticated: (user) => {
            admissions.get(request.raw)?.authenticated();
            // The session list's "last seen": throttled in the query, and never worth failing for.
            markSessionSeen(app.db, user.sessionId).catch((error: unknown) =>
              request.log.warn({ err: error }, 'marking the session seen failed'),
            );
          },
        });
      },
    );
  },
  {
    name: 'parley-realtime',
    fastify: '5.x',
    dependencies: ['parley-db', 'parley-auth', 'parley-bus', 'parley-websocket'],
  },
);

/**
 * A browser always sends Origin: it must be a configured origin or the server's own (same
 * origin: the page was served from this host). Clients outside browsers (the CLI, bots, load
 * generators) send none; they cannot be driven by a hostile page, so no Origin is allowed.
 */
export function originAllowed(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
