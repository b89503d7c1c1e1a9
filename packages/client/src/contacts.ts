// Contacts as the server keeps them (who asked whom, who accepted, who is blocked) joined with what
// this device knows of each person's keys (trust.ts): the server's list says who is a contact, the
// trust store alone says whose keys are pinned and verified, so a contact the server names is never
// shown as verified unless this device compared safety numbers with it. A `contact` frame only says
// "read the list again"; nothing in it is taken as a fact. Presence and typing of people this
// account blocked are dropped here too, whatever the server relays.
import type {
  BlockItem,
  ContactChange,
  ContactItem,
  ContactList,
  ContactRequestItem,
  DirectFrom,
} from '@parley/wire';
import type { ServerApi } from './api';
import { ClientError } from './errors';
import type { ClientEventEmitter } from './events';
import type { Logger } from './options';
import type { People } from './people';
import type { TrustStore } from './trust';

export type { ContactChange, DirectFrom };

/** A contact with this device's view of their keys. */
export interface ContactListing {
  userId: string;
  username: string;
  /** When the two became contacts (the server's clock, ISO 8601). */
  since: string;
  /** This device pinned their keys (looked them up at least once). */
  pinned: boolean;
  /** This device compared safety numbers with them (or scanned their code). */
  verified: boolean;
  /** The directory now serves keys that differ from the pinned ones. */
  keyChanged: boolean;
}

/** A request waiting for an answer: `userId` is the other party. */
export type ContactRequest = ContactRequestItem;
export type BlockedUser = BlockItem;

export interface ContactsView {
  contacts: ContactListing[];
  /** Requests to this account (the server hides those of people it blocked). */
  incoming: ContactRequest[];
  /** This account's requests nobody answered yet. */
  outgoing: ContactRequest[];
}

export interface ContactsDeps {
  api: ServerApi;
  trust: TrustStore;
  people: People;
  events: ClientEventEmitter;
  logger: Logger;
}

export class Contacts {
  /** Who this account blocked, as last read: their presence and typing are not shown. */
  private blocked = new Set<string>();

  constructor(private readonly deps: ContactsDeps) {}

  /** The contacts with their key state, and the requests both ways. */
  list = async (): Promise<ContactsView> => this.view(await this.deps.api.contacts());

  /**
   * Asks a person to be a contact, by username, pinning their keys on the way (first use) or
   * checking them against the pin. When they asked first, both are contacts at once.
   */
  request = async (username: string): Promise<ContactsView> => {
    const person = await this.deps.people.lookUp(username);
    return this.view(await this.deps.api.requestContact(person.userId));
  };

  /** Accepts the request of `userId` and pins their keys. */
  accept = async (userId: string): Promise<ContactsView> => {
    const request = await this.incomingFrom(userId, 'accept');
    const answer = await this.deps.api.acceptContact(request.id);
    await this.deps.people.lookUpById(userId).catch((error: unknown) => {
      // Someone without published keys can still be a contact; their keys pin when first seen.
      this.deps.logger.debug('accept: no keys to pin yet', { error: String(error) });
    });
    return this.view(answer);
  };

  decline = async (userId: string): Promise<ContactsView> => {
    const request = await this.incomingFrom(userId, 'decline');
    return this.view(await this.deps.api.declineContact(request.id));
  };

  /** Withdraws this account's request to `userId`. */
  cancel = async (userId: string): Promise<ContactsView> => {
    const { outgoing } = await this.deps.api.contacts();
    const request = outgoing.find((item) => item.userId === userId);
    if (request === undefined) {
      throw new ClientError('CONTACT_REQUEST_NOT_FOUND', 'cancel', 'no request to this person');
    }
    return this.view(await this.deps.api.cancelContactRequest(request.id));
  };

  remove = async (userId: string): Promise<ContactsView> =>
    this.view(await this.deps.api.removeContact(userId));

  /** Blocks a person: no contact, no requests, no direct messages, presence or typing either way. */
  block = async (userId: string): Promise<BlockedUser[]> => {
    const blocked = this.remember((await this.deps.api.block(userId)).blocked);
    // What the app showed of them stops being true now, not at their next change.
    this.deps.events.emit('presence', { userId, status: 'offline' });
    return blocked;
  };

  unblock = async (userId: string): Promise<BlockedUser[]> =>
    this.remember((await this.deps.api.unblock(userId)).blocked);

  blockedUsers = async (): Promise<BlockedUser[]> =>
    this.remember((await this.deps.api.blocks()).blocked);

  /** Whether this account blocked `userId`, as last read (their presence and typing are dropped). */
  hides = (userId: string): boolean => this.blocked.has(userId);

  /** Who may open a direct conversation with this account. */
  directPrivacy = async (): Promise<DirectFrom> => (await this.deps.api.privacy()).directFrom;

  setDirectPrivacy = async (directFrom: DirectFrom): Promise<DirectFrom> =>
    (await this.deps.api.setPrivacy(directFrom)).directFrom;

  /** The socket is open: the block list again (it may have changed on another device). */
  refreshBlocks(): Promise<unknown> {
    return this.blockedUsers();
  }

  /** A `contact` frame: tells the app, and reads the block list again when a block changed. */
  changed(userId: string, change: ContactChange): void {
    this.deps.events.emit('contact', { userId, change });
    if (change === 'blocked' || change === 'unblocked') {
      void this.blockedUsers().catch((error: unknown) =>
        this.deps.events.emit('error', { operation: 'blockedUsers', error }),
      );
    }
  }

  private async incomingFrom(userId: string, operation: string): Promise<ContactRequest> {
    const { incoming } = await this.deps.api.contacts();
    const request = incoming.find((item) => item.userId === userId);
    if (request === undefined) {
      throw new ClientError('CONTACT_REQUEST_NOT_FOUND', operation, 'no request from this person');
    }
    return request;
  }

  private remember(blocked: BlockedUser[]): BlockedUser[] {
    this.blocked = new Set(blocked.map((item) => item.userId));
    return blocked;
  }

  private view(list: ContactList): ContactsView {
    return {
      contacts: list.contacts.map((item) => this.withKeys(item)),
      incoming: list.incoming,
      outgoing: list.outgoing,
    };
  }

  private withKeys(item: ContactItem): ContactListing {
    const pinned = this.deps.trust.get(item.userId);
    return {
      ...item,
      pinned: pinned !== undefined,
      verified: pinned?.verified ?? false,
      keyChanged: pinned?.pendingChange !== undefined,
    };
  }
}
