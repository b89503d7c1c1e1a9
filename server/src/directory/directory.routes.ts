import { ready as cryptoReady } from '@parley/crypto';
import {
  ErrorResponse,
  KeyHistory,
  PublishKeysRequest,
  SearchPeopleQuery,
  SearchPeopleResponse,
  UserKeys,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { createProfileService } from '../profiles/profile.service';
import { ByIdParams, ByUsernameParams } from '../profiles/user-params';
import { createDirectoryService } from './directory.service';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const bearer = [{ bearer: [] }];

/** Publishing keys (PUT /api/me/keys), looking them up, and searching people. */
export async function directoryRoutes(app: ParleyApp): Promise<void> {
  await cryptoReady();
  const directory = createDirectoryService(app.db);
  const profiles = createProfileService(app.db, { avatarPixels: app.config.limits.avatarPixels });
  const read = { preHandler: app.authenticate };

  app.put(
    '/me/keys',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['directory'],
        security: bearer,
        body: PublishKeysRequest,
        response: { 200: UserKeys, ...errors },
      },
    },
    async (request) => directory.publish(request.user.id, request.body),
  );

  app.get(
    '/users/by-id/:userId/keys',
    {
      ...read,
      schema: {
        tags: ['directory'],
        security: bearer,
        params: ByIdParams,
        response: { 200: UserKeys, ...errors },
      },
    },
    async (request) => directory.current({ id: request.params.userId }),
  );

  app.get(
    '/users/:username/keys',
    {
      ...read,
      schema: {
        tags: ['directory'],
        security: bearer,
        params: ByUsernameParams,
        response: { 200: UserKeys, ...errors },
      },
    },
    async (request) => directory.current({ username: request.params.username }),
  );

  app.get(
    '/users/by-id/:userId/keys/history',
    {
      ...read,
      schema: {
        tags: ['directory'],
        security: bearer,
        params: ByIdParams,
        response: { 200: KeyHistory, ...errors },
      },
    },
    async (request) => directory.history({ id: request.params.userId }),
  );

  app.get(
    '/users/:username/keys/history',
    {
      ...read,
      schema: {
        tags: ['directory'],
        security: bearer,
        params: ByUsernameParams,
        response: { 200: KeyHistory, ...errors },
      },
    },
    async (request) => directory.history({ username: request.params.username }),
  );

  app.get(
    '/users',
    {
      ...read,
      schema: {
        tags: ['directory'],
        security: bearer,
        querystring: SearchPeopleQuery,
        response: { 200: SearchPeopleResponse, ...errors },
      },
    },
    async (request) => profiles.search(request.query),
  );
}
