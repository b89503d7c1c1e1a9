import { ErrorResponse, IceServersResponse } from '@parley/wire';
import type { ParleyApp } from '../app';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

/**
 * Calls need nothing from the server but the relay of their (encrypted) signalling, which travels
 * as ordinary messages, and where to find STUN and TURN: that is all this serves.
 */
export async function callRoutes(app: ParleyApp): Promise<void> {
  const answer = {
    iceServers: app.config.iceServers.map((server) => ({ ...server, urls: [...server.urls] })),
  };
  app.get(
    '/calls/ice-servers',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['calls'],
        security: [{ bearer: [] }],
        response: { 200: IceServersResponse, ...errors },
      },
    },
    async () => answer,
  );
}
