import { Type } from '@sinclair/typebox';
import {
  ErrorResponse,
  Me,
  PROFILE_LIMITS,
  PublicProfile,
  UpdateProfileRequest,
} from '@parley/wire';
import type { FastifyError } from 'fastify';
import type { ParleyApp } from '../app';
import { parleyError } from '../errors';
import { sendError } from '../plugins/errors';
import { publishToRoom } from '../realtime/events';
import { memberRoomIds } from '../rooms/room.repository';
import { createProfileService } from './profile.service';
import { ByIdParams, ByUsernameParams } from './user-params';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const bearer = [{ bearer: [] }];

/** The caller's profile under /api/me and everyone's public profile under /api/users. */
export async function profileRoutes(app: ParleyApp): Promise<void> {
  const profiles = createProfileService(app.db, { avatarPixels: app.config.limits.avatarPixels });
  // The people who share a room with this account hear that its profile changed, so names,
  // status messages and pictures are current without a reload. Only the fact travels: each
  // client reads the profile itself, as it reads any profile.
  const announce = async (userId: string): Promise<void> => {
    for (const roomId of await memberRoomIds(app.db, userId)) {
      publishToRoom(
        app.bus,
        roomId,
        { t: 'relay', except: userId },
        JSON.stringify({ type: 'profile', room: roomId, user: userId }),
      );
    }
  };
  const avatarBytes = app.config.limits.avatarBytes;

  // Avatars are uploaded as the raw image, not base64 in JSON.
  app.addContentTypeParser(
    [...PROFILE_LIMITS.avatarTypes],
    { parseAs: 'buffer', bodyLimit: avatarBytes },
    (_request, body, done) => done(null, body),
  );

  app.get(
    '/me',
    {
      preHandler: app.authenticate,
      schema: { tags: ['profiles'], security: bearer, response: { 200: Me, ...errors } },
    },
    async (request) => profiles.me(request.user.id),
  );

  app.patch(
    '/me/profile',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['profiles'],
        security: bearer,
        body: UpdateProfileRequest,
        response: { 200: Me, ...errors },
      },
    },
    async (request) => {
      const me = await profiles.update(request.user.id, request.body);
      await announce(request.user.id);
      return me;
    },
  );

  app.put(
    '/me/avatar',
    {
      preHandler: app.authenticate,
      bodyLimit: avatarBytes,
      // An oversize upload is refused by the body parser before the handler runs; name it for
      // what it is.
      errorHandler: (error: FastifyError, request, reply) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          return sendError(
            reply,
            413,
            'AVATAR_TOO_LARGE',
            `The avatar exceeds ${avatarBytes} bytes`,
          );
        }
        throw error;
      },
      schema: {
        tags: ['profiles'],
        security: bearer,
        description: `The raw image (${PROFILE_LIMITS.avatarTypes.join(', ')}), at most ${avatarBytes} bytes.`,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw parleyError('UNSUPPORTED_MEDIA_TYPE');
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      await profiles.setAvatar(request.user.id, request.body, type);
      await announce(request.user.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/me/avatar',
    {
      preHandler: app.authenticate,
      schema: { tags: ['profiles'], security: bearer, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await profiles.removeAvatar(request.user.id);
      await announce(request.user.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users/by-id/:userId',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['profiles'],
        security: bearer,
        params: ByIdParams,
        response: { 200: PublicProfile, ...errors },
      },
    },
    async (request) => profiles.byId(request.params.userId),
  );

  app.get(
    '/users/:username',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['profiles'],
        security: bearer,
        params: ByUsernameParams,
        response: { 200: PublicProfile, ...errors },
      },
    },
    async (request) => profiles.byUsername(request.params.username),
  );

  // Public, so an <img> can show it without a bearer token. The stored bytes were checked to be
  // the image type they are served as, and the headers stop a browser from reading them as
  // anything else.
  app.get(
    '/users/by-id/:userId/avatar',
    {
      schema: {
        tags: ['profiles'],
        params: ByIdParams,
        response: {
          200: { description: 'The image', type: 'string', format: 'binary' },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const avatar = await profiles.avatar(request.params.userId);
      return reply
        .type(avatar.type)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'")
        .header('cache-control', 'private, max-age=300')
        .header('last-modified', avatar.updatedAt.toUTCString())
        .send(Buffer.from(avatar.bytes));
    },
  );
}
