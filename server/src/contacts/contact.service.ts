import type { BlockItem, ContactChange, ContactList, DirectFrom } from '@parley/wire';
import { isUniqueViolation, type Db } from '../db/database';
import { parleyError } from '../errors';
import type { Bus } from '../plugins/bus';
import { publishBlockChange, publishToUser } from '../realtime/events';
import { userExists } from '../rooms/room.repository';
import {
  areContacts,
  blocksOf,
  contactsOf,
  deleteBlock,
  deleteContactPair,
  deleteRequest,
  deleteRequestsBetween,
  directFromOf,
  findRequest,
  findRequestBetween,
  incomingOf,
  insertBlock,
  insertContactPair,
  insertRequest,
  isBlocking,
  outgoingOf,
  setDirectFrom,
} from './contact.repository';

/**
 * Contacts as the server keeps them: a request, its answer, and blocks. The server knows this
 * graph (it decides who may reach whom); the keys of a contact are the client's matter (its trust
 * store). A blocked person is never told of the block: a request to the blocker is taken as if
 * delivered and kept hidden, and a direct conversation or message to the blocker is refused with
 * DIRECT_REFUSED, the answer a contacts-only setting gives too. Every change answers with the
 * caller's list and sends a `contact` frame to both parties (to the blocker alone for a block).
 */
export function createContactService(db: Db, bus: Bus) {
  /** The `contact` frame to `to`'s sockets: its list changed concerning `about`. */
  const tell = (to: string, about: string, change: ContactChange) =>
    publishToUser(bus, to, JSON.stringify({ type: 'contact', user: about, change }));

  /** Both parties hear of it, unless `other` blocked `me`: a blocked person changes nothing there. */
  const tellBoth = async (me: string, other: string, change: ContactChange) => {
    tell(me, other, change);
    if (!(await isBlocking(db, other, me))) tell(other, me, change);
  };

  const requireUser = async (me: string, userId: string) => {
    if (userId === me) throw parleyError('CONTACT_SELF');
    if (!(await userExists(db, userId))) throw parleyError('USER_NOT_FOUND');
  };

  /** A request addressed to `me` that `me` can see (not from someone `me` blocked). */
  const incomingRequest = async (me: string, requestId: string) => {
    const request = await findRequest(db, requestId);
    if (
      request === undefined ||
      request.to_user !== me ||
      (await isBlocking(db, me, request.from_user))
    ) {
      throw parleyError('CONTACT_REQUEST_NOT_FOUND');
    }
    return request;
  };

  const becomeContacts = async (a: string, b: string) => {
    await db.transaction().execute(async (trx) => {
      await deleteRequestsBetween(trx, a, b);
      await insertContactPair(trx, a, b);
    });
  };

  const service = {
    async list(me: string): Promise<ContactList> {
      const [contacts, incoming, outgoing] = await Promise.all([
        contactsOf(db, me),
        incomingOf(db, me),
        outgoingOf(db, me),
      ]);
      return {
        contacts: contacts.map((row) => ({ ...row, since: row.since.toISOString() })),
        incoming: incoming.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() })),
        outgoing: outgoing.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() })),
      };
    },

    /**
     * Asks `userId` to be a contact. When they asked `me` already, this answers their request
     * instead: both asked, so both agree.
     */
    async request(me: string, userId: string): Promise<ContactList> {
      await requireUser(me, userId);
      if (await isBlocking(db, me, userId)) throw parleyError('USER_BLOCKED');
      if (await areContacts(db, me, userId)) throw parleyError('ALREADY_CONTACTS');
      if ((await findRequestBetween(db, me, userId)) !== undefined) {
        throw parleyError('CONTACT_REQUEST_EXISTS');
      }
      const theirs = await findRequestBetween(db, userId, me);
      if (theirs !== undefined) {
        await becomeContacts(me, userId);
        await tellBoth(me, userId, 'accepted');
        return service.list(me);
      }
      const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
      await insertRequest(db, { id, from_user: me, to_user: userId }).catch((error: unknown) => {
        if (isUniqueViolation(error)) throw parleyError('CONTACT_REQUEST_EXISTS');
        throw error;
      });
      await tellBoth(me, userId, 'requested');
      return service.list(me);
    },

    async accept(me: string, requestId: string): Promise<ContactList> {
      const request = await incomingRequest(me, requestId);
      await becomeContacts(me, request.from_user);
      await tellBoth(me, request.from_user, 'accepted');
      return service.list(me);
    },

    async decline(me: string, requestId: string): Promise<ContactList> {
      const request = await incomingRequest(me, requestId);
      await deleteRequest(db, request.id);
      await tellBoth(me, request.from_user, 'declined');
      return service.list(me);
    },

    /** Withdraws one of `me`'s own requests. */
    async cancel(me: string, requestId: string): Promise<ContactList> {
      const request = await findRequest(db, requestId);
      if (request === undefined || request.from_user !== me) {
        throw parleyError('CONTACT_REQUEST_NOT_FOUND');
      }
      await deleteRequest(db, request.id);
      await tellBoth(me, request.to_user, 'cancelled');
      return service.list(me);
    },

    async remove(me: string, userId: string): Promise<ContactList> {
      if (!(await deleteContactPair(db, me, userId))) throw parleyError('NOT_A_CONTACT');
      await tellBoth(me, userId, 'removed');
      return service.list(me);
    },

    /**
     * Blocks `userId`: they stop being a contact, requests between the two go, and neither sees the
     * other's presence or typing from now on. Blocking again changes nothing.
     */
    async block(me: string, userId: string): Promise<BlockItem[]> {
      await requireUser(me, userId);
      const { isNew, touched } = await db.transaction().execute(async (trx) => {
        const isNew = await insertBlock(trx, me, userId);
        const wereContacts = await deleteContactPair(trx, me, userId);
        const requests = await deleteRequestsBetween(trx, me, userId);
        return { isNew, touched: wereContacts || requests > 0 };
      });
      if (isNew) {
        tell(me, userId, 'blocked');
        // What the blocked person sees is their own list losing the contact or request, as if
        // removed or declined; nothing says "blocked".
        if (touched) tell(userId, me, 'removed');
        publishBlockChange(bus, me, userId, true);
      }
      return service.blocks(me);
    },

    async unblock(me: string, userId: string): Promise<BlockItem[]> {
      if (!(await deleteBlock(db, me, userId))) throw parleyError('NOT_BLOCKED');
      tell(me, userId, 'unblocked');
      // A block the other way keeps the two hidden from each other.
      if (!(await isBlocking(db, userId, me))) publishBlockChange(bus, me, userId, false);
      return service.blocks(me);
    },

    async blocks(me: string): Promise<BlockItem[]> {
      return (await blocksOf(db, me)).map((row) => ({ ...row, since: row.since.toISOString() }));
    },

    async privacy(me: string): Promise<{ directFrom: DirectFrom }> {
      const directFrom = await directFromOf(db, me);
      if (directFrom === undefined) throw parleyError('USER_NOT_FOUND');
      return { directFrom };
    },

    async setPrivacy(me: string, directFrom: DirectFrom): Promise<{ directFrom: DirectFrom }> {
      await setDirectFrom(db, me, directFrom);
      return service.privacy(me);
    },
  };
  return service;
}

export type ContactService = ReturnType<typeof createContactService>;
