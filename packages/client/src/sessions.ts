// The account's signed-in sessions: one per device that logged in, each with the name the device
// gave (ClientOptions.deviceName) or the server read from its User-Agent, and when it was last
// seen. Ending one signs that device out at once: its refresh token stops working and the server
// closes its sockets. Ending this device's own session is a log-out.
import { DEVICE_NAME_MAX_LENGTH, type SessionItem } from '@parley/wire';
import type { ServerApi } from './api';
import { ClientError } from './errors';

/** A signed-in session; `current` is this device's own. Times are ISO 8601. */
export type SignedInSession = SessionItem;

export interface SessionHooks {
  /** This device's own session was ended from here: sign out as a log-out does. */
  endedHere(): Promise<void>;
}

const SESSION_ID = /^[0-9a-f]{32}$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The device name given to createClient, checked before any request, so a bad one fails at start
 * instead of as every log-in's VALIDATION_FAILED.
 */
export function checkDeviceName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > DEVICE_NAME_MAX_LENGTH || CONTROL.test(trimmed)) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      'createClient',
      `deviceName must be 1 to ${DEVICE_NAME_MAX_LENGTH} characters without control characters`,
    );
  }
  return trimmed;
}

export class SignedInSessions {
  constructor(
    private readonly api: ServerApi,
    private readonly hooks: SessionHooks,
  ) {}

  /** The account's live sessions, the most recently seen first. */
  list = async (): Promise<SignedInSession[]> => (await this.api.sessions()).sessions;

  /**
   * Ends one session (SESSION_NOT_FOUND when it is not a live one of this account). When it is
   * this device's own, this device is signed out too, as `logOut` does.
   */
  revoke = async (sessionId: string): Promise<void> => {
    if (!SESSION_ID.test(sessionId)) {
      throw new ClientError('INVALID_ARGUMENT', 'revokeSession', 'a session id is 32 hex digits');
    }
    const own = (await this.list()).find((session) => session.current)?.id;
    await this.api.revokeSession(sessionId);
    if (sessionId === own) await this.hooks.endedHere();
  };
}
