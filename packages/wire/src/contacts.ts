import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common';

/**
 * Contacts, contact requests, blocks and who may open a direct conversation (docs/ARCHITECTURE.md,
 * Contacts). The server keeps this social graph in the clear: it decides who may reach whom.
 * Every change answers with the caller's whole list, so a client never patches one together.
 */

/** Who may open a direct conversation with an account. */
export const DirectFrom = Type.Union([Type.Literal('everyone'), Type.Literal('contacts')]);
export type DirectFrom = Static<typeof DirectFrom>;

export const PrivacySettings = Type.Object(
  { directFrom: DirectFrom },
  { additionalProperties: false },
);
export type PrivacySettings = Static<typeof PrivacySettings>;

export const ContactItem = Type.Object(
  { userId: Id, username: Type.String(), since: Type.String() },
  { additionalProperties: false },
);
export type ContactItem = Static<typeof ContactItem>;

/** A request waiting for its answer: `userId` is the other party (sender of an incoming one). */
export const ContactRequestItem = Type.Object(
  { id: Id, userId: Id, username: Type.String(), createdAt: Type.String() },
  { additionalProperties: false },
);
export type ContactRequestItem = Static<typeof ContactRequestItem>;

export const ContactList = Type.Object(
  {
    contacts: Type.Array(ContactItem),
    incoming: Type.Array(ContactRequestItem),
    outgoing: Type.Array(ContactRequestItem),
  },
  { additionalProperties: false },
);
export type ContactList = Static<typeof ContactList>;

export const ContactRequestBody = Type.Object({ userId: Id }, { additionalProperties: false });
export type ContactRequestBody = Static<typeof ContactRequestBody>;

export const ContactRequestParams = Type.Object({ id: Id }, { additionalProperties: false });
export const ContactUserParams = Type.Object({ userId: Id }, { additionalProperties: false });

export const BlockItem = Type.Object(
  { userId: Id, username: Type.String(), since: Type.String() },
  { additionalProperties: false },
);
export type BlockItem = Static<typeof BlockItem>;

export const BlockList = Type.Object(
  { blocked: Type.Array(BlockItem) },
  { additionalProperties: false },
);
export type BlockList = Static<typeof BlockList>;

/**
 * What a `contact` frame says changed between the account and `user` (read the list again):
 * sent to both parties, except that a block is told only to the blocker's own devices.
 */
export const ContactChange = Type.Union([
  Type.Literal('requested'),
  Type.Literal('accepted'),
  Type.Literal('declined'),
  Type.Literal('cancelled'),
  Type.Literal('removed'),
  Type.Literal('blocked'),
  Type.Literal('unblocked'),
]);
export type ContactChange = Static<typeof ContactChange>;
