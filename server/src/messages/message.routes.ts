import { Type } from '@sinclair/typebox';
import {
  ErrorResponse,
  HistoryPage,
  HistoryQuery,
  PostReceiptsRequest,
  ReceiptList,
  RoomParams,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { toBase64Url } from '../codec';
import { parleyError } from '../errors';
import { findRoom } from '../rooms/room.repository';
import { requireMember } from '../rooms/room.service';
import { messagesAfter, messagesBefore } from './message.repository';

const NoContent = Type.Null({ description: 'No content' });
const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const security = [{ bearer: [] }];
const tags = ['messages'];

/** History by keyset on the sequence number, and delivered/read markers. Members only. */
export async function messageRoutes(app: ParleyApp): Promise<void> {
  const auth = { preHandler: app.authenticate };

  app.get(
    '/rooms/:id/messages',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        querystring: HistoryQuery,
        response: { 200: HistoryPage, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { before, after } = request.query;
      if (before !== undefined && after !== undefined) {
        throw parleyError('VALIDATION_FAILED', 'querystring: give before or after, not both');
      }
      await requireMember(app.db, id, request.user.id);
      const limit = request.query.limit ?? 50;
      // One more than asked tells whether there is more.
      const rows =
        after !== undefined
          ? await messagesAfter(app.db, id, after, limit + 1)
          : (await messagesBefore(app.db, id, before, limit + 1)).reverse();
      const more = rows.length > limit;
      const page = more ? (after !== undefined ? rows.slice(0, limit) : rows.slice(1)) : rows;
      const room = await findRoom(app.db, id);
      return {
        messages: page.map((row) => ({
          seq: row.seq,
          envelope: toBase64Url(row.envelope),
          sentAt: row.sent_at.toISOString(),
        })),
        headSeq: room?.head_seq ?? 0,
        more,
      };
    },
  );

  app.post(
    '/rooms/:id/receipts',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: PostReceiptsRequest,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await requireMember(app.db, request.params.id, request.user.id);
      await app.realtime.receipts.recordNow(request.params.id, request.user.id, request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/rooms/:id/receipts',
    {
      ...auth,
      schema: { tags, security, params: RoomParams, response: { 200: ReceiptList, ...errors } },
    },
    async (request) => {
      await requireMember(app.db, request.params.id, request.user.id);
      // Markers recorded over the socket are written on a short timer; include them.
      await app.realtime.receipts.flush();
      const rows = await app.db
        .selectFrom('room_members')
        .select(['user_id', 'delivered_seq', 'read_seq'])
        .where('room_id', '=', request.params.id)
        .orderBy('user_id')
        .execute();
      return {
        receipts: rows.map((row) => ({
          userId: row.user_id,
          deliveredSeq: row.delivered_seq,
          readSeq: row.read_seq,
        })),
      };
    },
  );
}
