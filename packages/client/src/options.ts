// The client's dependencies, passed in as one options object so that the same client runs in a
// browser, in Node, in tests and in load generators (STYLE.md: dependencies passed in, not globals).
import type { KdfParams } from '@parley/crypto';
import { RING_TIMEOUT_MS } from './call-signal';
import { ClientError } from './errors';
import type { KeyStore } from './key-store/key-store';

export interface ClientOptions {
  /**
   * The server's base URL, e.g. `https://chat.example.org`. With it alone the client uses the
   * global `fetch` and `WebSocket` (browsers; Node 22+). On Node 20 use `nodeTransport(baseUrl)`
   * from `@parley/client/node`.
   */
  baseUrl?: string;
  /** How to reach the server; takes precedence over `baseUrl`. */
  transport?: Transport;
  /** Where the account's keys and verified state live: memory, file (Node) or IndexedDB (browser). */
  keyStore: KeyStore;
  /** Time and timers; the system clock unless given (tests pass their own). */
  clock?: Clock;
  /** Receives diagnostics. Never given secrets, tokens or plaintexts. Silent unless given. */
  logger?: Logger;
  /** Tuning; the defaults suit a chat client. */
  tuning?: Partial<Tuning>;
  /**
   * Argon2id over the backup passphrase (PROTOCOL.md §7), the one slow step of backup and restore:
   * a browser passes one that runs @parley/crypto's `deriveBackupKey` in a Web Worker. By default
   * it runs here, blocking this thread for as long as it takes.
   */
  deriveBackupKey?: DeriveBackupKey;
  /**
   * What this device is called in the account's list of signed-in sessions ("parley CLI on
   * laptop"), sent at sign-up, log-in and refresh: 1 to 64 characters, no control characters.
   * Without it the server names the device from its User-Agent ("Firefox on Linux").
   */
  deviceName?: string;
}

export type DeriveBackupKey = (
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
) => Promise<Uint8Array>;

export interface Transport {
  baseUrl: string;
  fetch: FetchLike;
  WebSocket: WebSocketConstructor;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The part of the WHATWG WebSocket the client uses; browsers' and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface Clock {
  /** Milliseconds since 1970-01-01 UTC. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface Tuning {
  /** Resend an unacknowledged message after this long (doubling up to `maxRetryMs`). */
  ackTimeoutMs: number;
  maxRetryMs: number;
  /** Reconnect delays start here and double up to `maxReconnectMs`. */
  reconnectMs: number;
  maxReconnectMs: number;
  /** Answers to REST calls must arrive within this long. */
  requestTimeoutMs: number;
  /** Refresh the access token this long before it expires. */
  refreshMarginMs: number;
  /** The sealed search index is written this long after its last change. */
  searchSaveDelayMs: number;
  /** A call rings this long before it is missed. */
  ringTimeoutMs: number;
}

export const DEFAULT_TUNING: Readonly<Tuning> = Object.freeze({
  ackTimeoutMs: 10_000,
  maxRetryMs: 60_000,
  reconnectMs: 500,
  maxReconnectMs: 30_000,
  requestTimeoutMs: 30_000,
  refreshMarginMs: 30_000,
  searchSaveDelayMs: 1500,
  ringTimeoutMs: RING_TIMEOUT_MS,
});

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** The transport the options describe, checked up front so a misconfiguration fails at start. */
export function resolveTransport(options: ClientOptions): Transport {
  if (options.transport !== undefined) return options.transport;
  if (options.baseUrl === undefined) {
    throw new ClientError('INVALID_ARGUMENT', 'createClient', 'give baseUrl or transport');
  }
  const WebSocketGlobal = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof globalThis.fetch !== 'function' || WebSocketGlobal === undefined) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      'createClient',
      'no global fetch/WebSocket here: pass transport (nodeTransport from @parley/client/node)',
    );
  }
  return {
    baseUrl: options.baseUrl,
    fetch: (input, init) => globalThis.fetch(input, init),
    WebSocket: WebSocketGlobal,
  };
}
