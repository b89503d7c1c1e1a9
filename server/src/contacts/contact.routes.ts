import {
  BlockList,
  ContactList,
  ContactRequestBody,
  ContactRequestParams,
  ContactUserParams,
  ErrorResponse,
  PrivacySettings,
} from '@parley/wire';
import type { ParleyApp } from '../app';
import { createContactService } from './contact.service';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const security = [{ bearer: [] }];
const tags = ['contacts'];

/**
 * Contacts and their requests (/api/contacts), blocks (/api/blocks) and who may open a direct
 * conversation with the caller (/api/me/privacy). Every change answers with the caller's list.
 */
export async function contactRoutes(app: ParleyApp): Promise<void> {
  const contacts = createContactService(app.db, app.bus);
  const auth = { preHandler: app.authenticate };
  // Asking is unsolicited: an account may ask only so many people an hour (answering is free).
  const requestsPerAccount = app.rateLimit({
    max: app.config.limits.contactRequestsPerAccountPerHour,
    timeWindow: 3600_000,
    keyGenerator: (request) => `contact-requests:${request.user.id}`,
  });
  const listed = { 200: ContactList, ...errors };
  const blocked = { 200: BlockList, ...errors };

  app.get('/contacts', { ...auth, schema: { tags, security, response: listed } }, (request) =>
    contacts.list(request.user.id),
  );

  app.post(
    '/contacts/requests',
    {
      preHandler: [app.authenticate, requestsPerAccount],
      schema: { tags, security, body: ContactRequestBody, response: listed },
    },
    (request) => contacts.request(request.user.id, request.body.userId),
  );

  app.post(
    '/contacts/requests/:id/accept',
    { ...auth, schema: { tags, security, params: ContactRequestParams, response: listed } },
    (request) => contacts.accept(request.user.id, request.params.id),
  );

  app.post(
    '/contacts/requests/:id/decline',
    { ...auth, schema: { tags, security, params: ContactRequestParams, response: listed } },
    (request) => contacts.decline(request.user.id, request.params.id),
  );

  app.delete(
    '/contacts/requests/:id',
    { ...auth, schema: { tags, security, params: ContactRequestParams, response: listed } },
    (request) => contacts.cancel(request.user.id, request.params.id),
  );

  app.delete(
    '/contacts/:userId',
    { ...auth, schema: { tags, security, params: ContactUserParams, response: listed } },
    (request) => contacts.remove(request.user.id, request.params.userId),
  );

  app.get(
    '/blocks',
    { ...auth, schema: { tags, security, response: blocked } },
    async (request) => ({
      blocked: await contacts.blocks(request.user.id),
    }),
  );

  app.post(
    '/blocks/:userId',
    { ...auth, schema: { tags, security, params: ContactUserParams, response: blocked } },
    async (request) => ({ blocked: await contacts.block(request.user.id, request.params.userId) }),
  );

  app.delete(
    '/blocks/:userId',
    { ...auth, schema: { tags, security, params: ContactUserParams, response: blocked } },
    async (request) => ({
      blocked: await contacts.unblock(request.user.id, request.params.userId),
    }),
  );

  app.get(
    '/me/privacy',
    { ...auth, schema: { tags, security, response: { 200: PrivacySettings, ...errors } } },
    (request) => contacts.privacy(request.user.id),
  );

  app.put(
    '/me/privacy',
    {
      ...auth,
      schema: {
        tags,
        security,
        body: PrivacySettings,
        response: { 200: PrivacySettings, ...errors },
      },
    },
    (request) => contacts.setPrivacy(request.user.id, request.body.directFrom),
  );
}
