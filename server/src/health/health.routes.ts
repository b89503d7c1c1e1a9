import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ParleyApp } from '../app';
import { parleyError } from '../errors';

const Health = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

const Readiness = Type.Object(
  {
    status: Type.Literal('ok'),
    database: Type.Literal('up'),
    /** `off`: no REDIS_URL, fan-out stays in this process. */
    redis: Type.Union([Type.Literal('up'), Type.Literal('off')]),
  },
  { additionalProperties: false },
);

/**
 * /healthz: the process answers. /readyz: and the database answers, and Redis too when it is
 * configured. A process cut off from Redis still delivers to its own sockets, but not to or from
 * the other processes, so it reports itself not ready: a load balancer sends new clients to a
 * process that can reach everyone.
 */
export async function healthRoutes(app: ParleyApp): Promise<void> {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    { schema: { tags: ['operations'], response: { 200: Readiness } } },
    async (request) => {
      try {
        await sql`select 1`.execute(app.db);
      } catch (error) {
        request.log.warn({ err: error }, 'database not ready');
        throw parleyError('NOT_READY', 'The database does not answer');
      }
      if (app.bus.kind === 'redis' && !app.bus.connected) {
        throw parleyError('NOT_READY', 'Redis does not answer');
      }
      return {
        status: 'ok' as const,
        database: 'up' as const,
        redis: app.bus.kind === 'redis' ? ('up' as const) : ('off' as const),
      };
    },
  );
}
