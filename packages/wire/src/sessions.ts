import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common';

/**
 * Signed-in sessions: one per device that logged in, listed with a name for the device and when
 * it was last seen, so a person can end one they do not recognise (GET and DELETE
 * /api/me/sessions).
 */
export const DEVICE_NAME_MAX_LENGTH = 64;

/**
 * What a device calls itself ("Firefox on Linux", "parley CLI on laptop"), sent at register, log
 * in and refresh. Without it the server names the device from its User-Agent.
 */
export const DeviceName = Type.String({
  minLength: 1,
  maxLength: DEVICE_NAME_MAX_LENGTH,
  // Shown in other devices' lists: no control characters (line breaks, terminal escapes).
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'a name for the signed-in device, 1 to 64 characters, no control characters',
});

export const SessionItem = Type.Object(
  {
    id: Id,
    deviceName: Type.String(),
    /** ISO 8601: when the device signed in. */
    createdAt: Type.String(),
    /** ISO 8601: its last refresh or socket sign-in (updated at most once a minute). */
    lastSeenAt: Type.String(),
    /** The session the request was made with. */
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SessionItem = Static<typeof SessionItem>;

/** The live sessions of the account, the most recently seen first. */
export const SessionList = Type.Object(
  { sessions: Type.Array(SessionItem) },
  { additionalProperties: false },
);
export type SessionList = Static<typeof SessionList>;

export const SessionParams = Type.Object({ id: Id }, { additionalProperties: false });
export type SessionParams = Static<typeof SessionParams>;
