// The calls that need no account on this browser: opening a mailed link (verify an address, reset
// a password) and asking for a reset link. A client with nothing stored makes them, so they work
// on any browser, signed in or not, and leave no trace in this browser's key stores.
import type { Client } from '@parley/client';

export async function withoutSession<T>(action: (client: Client) => Promise<T>): Promise<T> {
  const { createClient, MemoryKeyStore } = await import('@parley/client');
  const client = await createClient({
    transport: { baseUrl: location.origin, fetch: (input, init) => fetch(input, init), WebSocket },
    keyStore: new MemoryKeyStore(),
  });
  try {
    return await action(client);
  } finally {
    await client.close();
  }
}

/** The token a mailed link carries in the URL's fragment (…/#/reset-password?token=…). */
export function tokenInLink(): string | undefined {
  return /[?&]token=([A-Za-z0-9_-]{43})(?:&|$)/.exec(location.hash)?.[1];
}
