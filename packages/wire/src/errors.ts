/**
 * The table of error codes every Parley HTTP answer and WebSocket error frame uses.
 *
 * A code is stable: clients switch on it, never on the message. The status is the HTTP status the
 * server answers with; the message is the default text, which a server may make more specific.
 */
export const errorTable = {
  // Generic request problems.
  BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported here' },
  NOT_FOUND: { status: 404, message: 'No such resource' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later' },
  URI_TOO_LONG: { status: 414, message: 'The request URL is too long' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
  SERVER_BUSY: { status: 503, message: 'The server is busy; try again shortly' },
  TOO_MANY_CONNECTIONS: {
    status: 429,
    message: 'Too many connections from this address; close some first',
  },
  NOT_READY: { status: 503, message: 'The server is not ready' },
  INTERNAL: { status: 500, message: 'Internal server error' },

  // Authentication and sessions.
  UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  TOKEN_INVALID: { status: 401, message: 'The access token is invalid' },
  TOKEN_EXPIRED: { status: 401, message: 'The access token has expired' },
  SESSION_REVOKED: { status: 401, message: 'The session has been ended' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong username or password' },
  REFRESH_TOKEN_INVALID: { status: 401, message: 'The refresh token is invalid or expired' },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    message: 'The refresh token was already used; every session of its family is ended',
  },
  FORBIDDEN: { status: 403, message: 'Not allowed' },

  // Signed-in sessions.
  SESSION_NOT_FOUND: { status: 404, message: 'No such session of this account' },

  // Accounts.
  USERNAME_INVALID: { status: 400, message: 'The username breaks the username rules' },
  USERNAME_TAKEN: { status: 409, message: 'The username is taken' },
  PASSWORD_TOO_SHORT: { status: 400, message: 'The password is too short' },
  PASSWORD_TOO_LONG: { status: 400, message: 'The password is too long' },
  PASSWORD_TOO_COMMON: { status: 400, message: 'The password is in a list of common passwords' },
  USER_NOT_FOUND: { status: 404, message: 'No such user' },
  BACKUP_NOT_FOUND: { status: 404, message: 'No key backup is stored for this account' },
  CURRENT_PASSWORD_WRONG: { status: 403, message: 'The current password is wrong' },

  // Email and password reset.
  EMAIL_INVALID: { status: 400, message: 'The email address is not valid' },
  EMAIL_TAKEN: { status: 409, message: 'Another account has verified this email address' },
  EMAIL_NOT_SET: { status: 404, message: 'The account has no email address' },
  EMAIL_ALREADY_VERIFIED: { status: 409, message: 'The email address is verified already' },
  MAIL_TOKEN_INVALID: { status: 400, message: 'The link is not valid' },
  MAIL_TOKEN_EXPIRED: { status: 410, message: 'The link has expired; ask for a new one' },
  MAIL_TOKEN_USED: { status: 410, message: 'The link was used already; ask for a new one' },
  MAIL_NOT_SENT: { status: 503, message: 'The mail could not be sent; try again later' },

  // Profiles.
  AVATAR_TOO_LARGE: { status: 413, message: 'The avatar is too large' },
  AVATAR_INVALID: { status: 400, message: 'The avatar is not a PNG, JPEG, WebP or GIF image' },
  AVATAR_NOT_FOUND: { status: 404, message: 'The user has no avatar' },
  NAME_CONFUSABLE: {
    status: 409,
    message: 'The name looks like another user’s name; choose one that is told apart at a glance',
  },

  // Key directory.
  KEYS_NOT_PUBLISHED: { status: 404, message: 'The user has not published keys' },
  KEY_BINDING_INVALID: {
    status: 400,
    message: 'The encryption-key binding signature does not verify',
  },
  KEY_MALFORMED: { status: 400, message: 'A key or signature has the wrong length' },
  IDENTITY_KEY_IMMUTABLE: {
    status: 409,
    message: 'The identity key is already set; only an identity reset replaces it',
  },
  IDENTITY_KEY_NOT_NEW: {
    status: 409,
    message: 'An identity reset needs a key this account never published',
  },
  KEY_VERSION_NOT_HIGHER: {
    status: 409,
    message: 'The encryption-key version must be above the current one',
  },

  // Rooms and membership chains.
  ROOM_NOT_FOUND: { status: 404, message: 'No such room' },
  NOT_A_MEMBER: { status: 403, message: 'Not a member of this room' },
  NOT_AN_ADMIN: { status: 403, message: 'Only an admin of this room may do this' },
  BANNED: { status: 403, message: 'An admin of this room barred this person from it' },
  BAN_INVALID: { status: 400, message: 'An admin cannot ban themselves' },
  ROOM_EXISTS: { status: 409, message: 'The room exists already' },
  ROOM_DETAILS_INVALID: {
    status: 400,
    message: 'A channel needs a name and a topic, a group a name, a direct conversation neither',
  },
  TAG_INVALID: {
    status: 400,
    message:
      'A tag is 1 to 32 lowercase letters, digits and dashes, not starting with a dash; a room has at most 10 different tags',
  },
  PEER_NOT_FOUND: { status: 404, message: 'The other party of the direct conversation is unknown' },
  CHAIN_INVALID: {
    status: 400,
    message: 'The membership entry is malformed, names another room or its signature fails',
  },
  CHAIN_CONFLICT: {
    status: 409,
    message: 'The membership entry does not follow the current head; re-read the chain',
  },
  CHAIN_NOT_ALLOWED: { status: 403, message: 'The membership change is not allowed to its actor' },
  NOT_THE_ACTOR: { status: 403, message: 'Only the signer of an entry or envelope may post it' },
  JOIN_NOT_APPLICABLE: {
    status: 409,
    message: 'Join requests are for channels the caller is not a member of',
  },
  ENVELOPE_INVALID: {
    status: 400,
    message: 'A room-key envelope is malformed, misaddressed or its signature fails',
  },

  // Messages and attachments.
  MESSAGE_INVALID: {
    status: 400,
    message: 'The message envelope is malformed or names another room or sender',
  },
  ATTACHMENT_NOT_FOUND: { status: 404, message: 'No such attachment' },
  ATTACHMENT_QUOTA_EXCEEDED: {
    status: 413,
    message: 'The account’s attachment storage is full',
  },
  SEND_QUEUE_FULL: {
    status: 429,
    message: 'Too many messages of this connection wait for their commit; wait for an ack',
  },
  NOT_SUBSCRIBED: { status: 409, message: 'Subscribe to the room first' },

  // Contacts, blocks and direct-conversation privacy.
  CONTACT_SELF: { status: 400, message: 'An account cannot be its own contact or block itself' },
  CONTACT_REQUEST_EXISTS: {
    status: 409,
    message: 'A contact request to this person is waiting already',
  },
  ALREADY_CONTACTS: { status: 409, message: 'This person is a contact already' },
  CONTACT_REQUEST_NOT_FOUND: { status: 404, message: 'No such contact request' },
  NOT_A_CONTACT: { status: 404, message: 'This person is not a contact' },
  USER_BLOCKED: { status: 409, message: 'This account blocked the person; unblock them first' },
  NOT_BLOCKED: { status: 404, message: 'This person is not blocked' },
  DIRECT_REFUSED: {
    status: 403,
    message: 'This person does not accept direct messages from this account',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorTable;

export const errorCodes = Object.keys(errorTable) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorTable, value);
}
