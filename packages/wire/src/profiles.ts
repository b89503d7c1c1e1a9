import { Type, type Static } from '@sinclair/typebox';
import { Cursor, Id, PageLimit, PrintableText } from './common';

export const PROFILE_LIMITS = {
  displayNameMaxLength: 64,
  statusMessageMaxLength: 140,
  avatarMaxBytes: 256 * 1024,
  avatarTypes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
} as const;

export const DisplayName = PrintableText(PROFILE_LIMITS.displayNameMaxLength, 1);
export const StatusMessage = PrintableText(PROFILE_LIMITS.statusMessageMaxLength);

/** What anyone signed in may see of a user. */
export const PublicProfile = Type.Object(
  {
    userId: Id,
    username: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    statusMessage: Type.Union([Type.String(), Type.Null()]),
    /** When true, the image is at GET /api/users/by-id/:userId/avatar. */
    hasAvatar: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type PublicProfile = Static<typeof PublicProfile>;

/** The signed-in user's own account. */
export const Me = Type.Object(
  {
    userId: Id,
    username: Type.String(),
    createdAt: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    statusMessage: Type.Union([Type.String(), Type.Null()]),
    hasAvatar: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type Me = Static<typeof Me>;

/** Fields left out are unchanged; null clears one. */
export const UpdateProfileRequest = Type.Object(
  {
    displayName: Type.Optional(Type.Union([DisplayName, Type.Null()])),
    statusMessage: Type.Optional(Type.Union([StatusMessage, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProfileRequest = Static<typeof UpdateProfileRequest>;

export const SearchPeopleQuery = Type.Object(
  {
    /** A prefix of the username or of the display name, case ignored; no control characters. */
    q: PrintableText(64, 1),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);
export type SearchPeopleQuery = Static<typeof SearchPeopleQuery>;

export const SearchPeopleResponse = Type.Object(
  {
    users: Type.Array(PublicProfile),
    /** Pass back as `cursor` for the next page; absent on the last page. */
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SearchPeopleResponse = Static<typeof SearchPeopleResponse>;
