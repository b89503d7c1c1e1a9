import { randomBytes } from 'node:crypto';
import {
  AttachmentLimits,
  AttachmentUploaded,
  BlobParams,
  ErrorResponse,
  RoomParams,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { parleyError } from '../errors';
import { requireMember } from '../rooms/room.service';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const security = [{ bearer: [] }];
const tags = ['attachments'];
const OCTET_STREAM = 'application/octet-stream';

/**
 * Encrypted attachment blobs (PROTOCOL.md §8): uploaded by a member into a room, downloaded by
 * its members, deleted with the room. The key and hash travel inside encrypted messages; to the
 * server a blob is opaque bytes. What an account keeps stored is bounded by its quota.
 */
export async function attachmentRoutes(app: ParleyApp): Promise<void> {
  const maxBytes = app.config.limits.attachmentBytes;
  const quotaBytes = app.config.limits.attachmentBytesPerAccount;
  app.addContentTypeParser(
    OCTET_STREAM,
    { parseAs: 'buffer', bodyLimit: maxBytes },
    (_request, body, done) => done(null, body),
  );
  const auth = { preHandler: app.authenticate };

  // So a client can say before encrypting anything whether a file fits.
  app.get(
    '/attachments/limits',
    { ...auth, schema: { tags, security, response: { 200: AttachmentLimits, ...errors } } },
    async () => ({ maxBlobBytes: maxBytes }),
  );

  app.post(
    '/rooms/:id/attachments',
    {
      ...auth,
      bodyLimit: maxBytes,
      schema: {
        tags,
        security,
        params: RoomParams,
        consumes: [OCTET_STREAM],
        response: { 201: AttachmentUploaded, ...errors },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        throw parleyError('UNSUPPORTED_MEDIA_TYPE', `Upload the blob as ${OCTET_STREAM}`);
      }
      await requireMember(app.db, request.params.id, request.user.id);
      const blobId = randomBytes(16).toString('hex');
      const blob = request.body;
      await app.db.transaction().execute(async (trx) => {
        // The uploader's row is locked so that two uploads at once cannot both fit in what is left.
        await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', request.user.id)
          .forUpdate()
          .execute();
        const { stored } = await trx
          .selectFrom('attachments')
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('stored'))
          .where('uploader_id', '=', request.user.id)
          .executeTakeFirstOrThrow();
        if (Number(stored) + blob.length > quotaBytes) {
          throw parleyError(
            'ATTACHMENT_QUOTA_EXCEEDED',
            `The account stores ${Number(stored)} attachment bytes of ${quotaBytes}`,
          );
        }
        await trx
          .insertInto('attachments')
          .values({
            id: blobId,
            room_id: request.params.id,
            uploader_id: request.user.id,
            size: blob.length,
            data: blob,
          })
          .execute();
      });
      return reply.code(201).send({ blobId, size: request.body.length });
    },
  );

  app.get(
    '/attachments/:blobId',
    { ...auth, schema: { tags, security, params: BlobParams, produces: [OCTET_STREAM] } },
    async (request, reply) => {
      const row = await app.db
        .selectFrom('attachments')
        .select(['room_id', 'data'])
        .where('id', '=', request.params.blobId)
        .executeTakeFirst();
      if (row === undefined) throw parleyError('ATTACHMENT_NOT_FOUND');
      await requireMember(app.db, row.room_id, request.user.id);
      return reply
        .type(OCTET_STREAM)
        .header('cache-control', 'private, no-store')
        .send(Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength));
    },
  );
}
