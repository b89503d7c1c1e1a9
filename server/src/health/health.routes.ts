import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ParleyApp } from '../app';
import { parleyError } from '../errors';

const Health = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

/** /healthz: the process answers. /readyz: and the database answers too. */
export async function healthRoutes(app: ParleyApp): Promise<void> {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    { schema: { tags: ['operations'], response: { 200: Health } } },
    async (request) => {
      try {
        await sql`select 1`.execute(app.db);
      } catch (error) {
        request.log.warn({ err: error }, 'database not ready');
        throw parleyError('NOT_READY', 'The database does not answer');
      }
      return { status: 'ok' as const };
    },
  );
}
