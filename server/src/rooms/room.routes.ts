import { Type } from '@sinclair/typebox';
import { ready as cryptoReady } from '@parley/crypto';
import {
  AppendChainRequest,
  AppendChainResponse,
  BanList,
  BanParams,
  BanRequest,
  ChainPage,
  ChainQuery,
  ChannelPage,
  ChannelQuery,
  CreateRoomRequest,
  ErrorResponse,
  JoinRequestBody,
  JoinRequestItem,
  JoinRequestList,
  PendingJoinList,
  KeysQuery,
  PostKeysRequest,
  PostKeysResponse,
  Room,
  RoomKeyList,
  RoomList,
  RoomParams,
  UpdateRoomRequest,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { startRoomSweeper } from './room-sweeper';
import { createRoomService } from './room.service';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const security = [{ bearer: [] }];
const tags = ['rooms'];

/** Key rotations of large channels carry one envelope per member. */
const KEYS_BODY_BYTES = 1024 * 1024;

/** Rooms, channel browsing, membership chains, join requests and room-key envelopes. */
export async function roomRoutes(app: ParleyApp): Promise<void> {
  await cryptoReady();
  const rooms = createRoomService(app.db, app.bus);
  const sweeper = startRoomSweeper({
    db: app.db,
    bus: app.bus,
    intervalMs: app.config.roomSweepIntervalMs,
    log: app.log,
  });
  app.addHook('onClose', async () => sweeper.stop());
  const auth = { preHandler: app.authenticate };

  app.post(
    '/rooms',
    {
      ...auth,
      schema: { tags, security, body: CreateRoomRequest, response: { 201: Room, ...errors } },
    },
    async (request, reply) =>
      reply.code(201).send(await rooms.create(request.user.id, request.body)),
  );

  app.get(
    '/rooms',
    { ...auth, schema: { tags, security, response: { 200: RoomList, ...errors } } },
    async (request) => ({ rooms: await rooms.listMine(request.user.id) }),
  );

  app.get(
    '/rooms/:id',
    { ...auth, schema: { tags, security, params: RoomParams, response: { 200: Room, ...errors } } },
    async (request) => rooms.get(request.user.id, request.params.id),
  );

  app.patch(
    '/rooms/:id',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: UpdateRoomRequest,
        response: { 200: Room, ...errors },
      },
    },
    async (request) => rooms.update(request.user.id, request.params.id, request.body),
  );

  app.delete(
    '/rooms/:id',
    {
      ...auth,
      schema: { tags, security, params: RoomParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await rooms.remove(request.user.id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/channels',
    {
      ...auth,
      schema: {
        tags,
        security,
        querystring: ChannelQuery,
        response: { 200: ChannelPage, ...errors },
      },
    },
    async (request) => rooms.browse(request.user.id, request.query),
  );

  app.get(
    '/rooms/:id/chain',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        querystring: ChainQuery,
        response: { 200: ChainPage, ...errors },
      },
    },
    async (request) =>
      rooms.chain(
        request.user.id,
        request.params.id,
        request.query.after,
        request.query.limit ?? 1000,
      ),
  );

  app.post(
    '/rooms/:id/chain',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: AppendChainRequest,
        response: { 201: AppendChainResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await rooms.append(request.user.id, request.params.id, request.body.entry)),
  );

  app.post(
    '/rooms/:id/join-requests',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: JoinRequestBody,
        response: { 202: JoinRequestItem, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await rooms.requestJoin(request.user.id, request.user.username, request.params.id)),
  );

  app.delete(
    '/rooms/:id/join-requests',
    {
      ...auth,
      schema: { tags, security, params: RoomParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await rooms.cancelJoin(request.user.id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/rooms/:id/bans',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: BanRequest,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await rooms.ban(request.user.id, request.params.id, request.body.userId);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/rooms/:id/bans/:userId',
    {
      ...auth,
      schema: { tags, security, params: BanParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await rooms.unban(request.user.id, request.params.id, request.params.userId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/rooms/:id/bans',
    {
      ...auth,
      schema: { tags, security, params: RoomParams, response: { 200: BanList, ...errors } },
    },
    async (request) => ({ bans: await rooms.bans(request.user.id, request.params.id) }),
  );

  app.get(
    '/join-requests',
    { ...auth, schema: { tags, security, response: { 200: PendingJoinList, ...errors } } },
    async (request) => ({ requests: await rooms.myJoinRequests(request.user.id) }),
  );

  app.get(
    '/rooms/:id/join-requests',
    {
      ...auth,
      schema: { tags, security, params: RoomParams, response: { 200: JoinRequestList, ...errors } },
    },
    async (request) => ({ requests: await rooms.joinRequests(request.user.id, request.params.id) }),
  );

  app.post(
    '/rooms/:id/keys',
    {
      ...auth,
      bodyLimit: KEYS_BODY_BYTES,
      schema: {
        tags,
        security,
        params: RoomParams,
        body: PostKeysRequest,
        response: { 201: PostKeysResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send({
        stored: await rooms.postKeys(request.user.id, request.params.id, request.body.envelopes),
      }),
  );

  app.get(
    '/rooms/:id/keys',
    {
      ...auth,
      schema: {
        tags,
        security,
        params: RoomParams,
        querystring: KeysQuery,
        response: { 200: RoomKeyList, ...errors },
      },
    },
    async (request) => ({
      envelopes: await rooms.myKeys(request.user.id, request.params.id, request.query.epoch),
    }),
  );
}
