import fastifyWebsocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import { CloseCode } from '@parley/wire';

export interface WebsocketPluginOptions {
  /** Largest frame accepted; a larger one closes the socket with 1009 (ws does it). */
  maxFrameBytes: number;
  /** How long shutdown waits for sockets to finish their closing handshake. */
  closeGraceMs?: number;
}

/**
 * @fastify/websocket with Parley's limits, and a shutdown that tells every client to go away
 * (1001: reconnect, to another process, and resume) before the database closes.
 */
export const websocketPlugin = fp<WebsocketPluginOptions>(
  async (app, options) => {
    if (!Number.isInteger(options.maxFrameBytes) || options.maxFrameBytes <= 0) {
      throw new TypeError('websocketPlugin: options.maxFrameBytes must be a positive integer');
    }
    const grace = options.closeGraceMs ?? 1000;
    await app.register(fastifyWebsocket, {
      options: {
        maxPayload: options.maxFrameBytes,
        // Frames are small JSON; compressing each one costs more CPU than it saves.
        perMessageDeflate: false,
      },
      errorHandler: function onSocketError(error, socket, request) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') {
          // The client broke the protocol (ws closes with the matching code, 1009, 1002...) or
          // the network dropped: a warning, without a stack that would only point into ws.
          request.log.warn({ code, message: error.message }, 'websocket protocol error');
          return;
        }
        request.log.error({ err: error }, 'websocket handler failed');
        socket.terminate();
      },
      preClose: async function closeSockets() {
        const clients = [...app.websocketServer.clients];
        await Promise.all(
          clients.map(
            (client) =>
              new Promise<void>((resolve) => {
                if (client.readyState === client.CLOSED) {
                  resolve();
                  return;
                }
                const timer = setTimeout(() => {
                  client.terminate();
                  resolve();
                }, grace);
                client.once('close', () => {
                  clearTimeout(timer);
                  resolve();
                });
                client.close(CloseCode.GOING_AWAY, 'server shutting down');
              }),
          ),
        );
        await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
      },
    });
  },
  { name: 'parley-websocket', fastify: '5.x' },
);
