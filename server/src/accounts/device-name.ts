import Bowser from 'bowser';
import { DEVICE_NAME_MAX_LENGTH } from '@parley/wire';

/**
 * The name a session goes by in the account's list of sessions: the one the client gave (the
 * schema already bounds it), else "Browser on OS" read from the User-Agent by bowser, else a
 * plain "Unknown device" (a script, or a client that sends no User-Agent).
 */
export function deviceNameFor(given: string | undefined, userAgent: string | undefined): string {
  const named = given?.trim();
  if (named !== undefined && named !== '') return named;
  return fromUserAgent(userAgent) ?? 'Unknown device';
}

function fromUserAgent(userAgent: string | undefined): string | undefined {
  if (userAgent === undefined || userAgent.trim() === '') return undefined;
  const { browser, os } = Bowser.parse(userAgent);
  const parts = [browser.name, os.name].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  if (parts.length === 0) return undefined;
  return parts.join(' on ').slice(0, DEVICE_NAME_MAX_LENGTH);
}
