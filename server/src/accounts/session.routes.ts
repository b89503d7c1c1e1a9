import { Type } from '@sinclair/typebox';
import { ErrorResponse, SessionList, SessionParams } from '@parley/wire';
import type { ParleyApp } from '../app';
import { parleyError } from '../errors';
import { listActiveSessions, revokeSessionOf } from './session.repository';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const bearer = [{ bearer: [] }];
const NoContent = Type.Null({ description: 'No content' });

/**
 * The account's signed-in sessions (/api/me/sessions): the list, with the one asking marked, and
 * ending one of them, which closes its sockets as a password change does for the others.
 */
export async function sessionRoutes(app: ParleyApp): Promise<void> {
  app.get(
    '/me/sessions',
    {
      preHandler: app.authenticate,
      schema: { tags: ['accounts'], security: bearer, response: { 200: SessionList, ...errors } },
    },
    async (request) => {
      const rows = await listActiveSessions(app.db, request.user.id);
      return {
        sessions: rows.map((row) => ({
          id: row.id,
          deviceName: row.device_name,
          createdAt: row.created_at.toISOString(),
          lastSeenAt: row.last_seen_at.toISOString(),
          current: row.id === request.user.sessionId,
        })),
      };
    },
  );

  // Ending the current session this way is a log out; an unknown id, an ended one and another
  // user's all answer SESSION_NOT_FOUND, so the route tells nothing about others' sessions.
  app.delete(
    '/me/sessions/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        security: bearer,
        params: SessionParams,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      const userId = request.user.id;
      const sessionId = request.params.id;
      if (!(await revokeSessionOf(app.db, userId, sessionId))) {
        throw parleyError('SESSION_NOT_FOUND');
      }
      app.sessionEvents.emit('revoked', { userId, sessionId });
      return reply.code(204).send(null);
    },
  );
}
