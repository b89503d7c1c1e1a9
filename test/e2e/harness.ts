// What every e2e scenario needs: the real server (build() from @parley/server on a fresh test
// database, listening on an ephemeral port), clients on it, and a tampering transport that plays
// the malicious server between a client and the real one.
import type { AddressInfo } from 'node:net';
import {
  createClient,
  MemoryKeyStore,
  type Client,
  type ClientOptions,
  type ReceivedMessage,
  type Transport,
  type VerificationFailure,
  type WebSocketConstructor,
  type WebSocketLike,
} from '@parley/client';
import { nodeTransport } from '@parley/client/node';
import { createTestApp } from '../../server/test/helpers';

type ServerConfig = NonNullable<Parameters<typeof createTestApp>[0]>['config'];

export interface LiveServer {
  baseUrl: string;
  app: Awaited<ReturnType<typeof createTestApp>>;
  close(): Promise<void>;
}

export async function startServer(
  config: ServerConfig = {},
  env: NodeJS.ProcessEnv = {},
): Promise<LiveServer> {
  const app = await createTestApp({
    env,
    config: {
      // Scenarios sign up and log in several users from one address within a minute.
      limits: {
        authPerIpPerMinute: 1000,
        loginPerAccountPer15Minutes: 1000,
        loginFreeFailures: 1000,
      },
      ...config,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

/** Whether `client` holds the room's key and may send in it (it knows the room and is a member). */
export function canSendIn(client: Client, roomId: string): boolean {
  return client.listRooms().some((room) => room.roomId === roomId && room.canSend);
}

/** A fresh device: a client with its own in-memory key store. */
export async function newDevice(
  server: LiveServer,
  options: Partial<ClientOptions> = {},
): Promise<Client> {
  return createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: new MemoryKeyStore(),
    tuning: { reconnectMs: 50, maxReconnectMs: 500, ackTimeoutMs: 2000 },
    ...options,
  });
}

/**
 * Signs each name up on a fresh device (password `<name>-password-1234`) and connects it, one at a
 * time; `options` gives a device its own settings, such as a key store on disk.
 */
export async function connectedUsers(
  server: LiveServer,
  names: readonly string[],
  options: (name: string) => Promise<Partial<ClientOptions>> = async () => ({}),
): Promise<Client[]> {
  const clients: Client[] = [];
  for (const name of names) {
    const client = await newDevice(server, await options(name));
    await client.signUp({ username: name, password: `${name}-password-1234` });
    client.connect();
    await client.connected();
    clients.push(client);
  }
  return clients;
}

/** Collects the messages a client receives in one room, from now on. */
export function inbox(client: Client, roomId: string): ReceivedMessage[] {
  const messages: ReceivedMessage[] = [];
  client.on('message', (m) => m.roomId === roomId && messages.push(m));
  return messages;
}

/** Collects a client's verification failures for assertions. */
export function failures(client: Client): VerificationFailure[] {
  const seen: VerificationFailure[] = [];
  client.on('verification-failed', (failure) => seen.push(failure));
  return seen;
}

/** Waits until `predicate` holds, polling; fails the test after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`eventually: ${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface ServerFrame {
  type: string;
  [field: string]: unknown;
}

/**
 * A transport that hands every server-to-client frame and every REST answer to test code first:
 * the malicious server of the threat model, standing between one client and the real server.
 * `frames` returns the frames to deliver instead (none to drop, two to replay); `answer` may
 * rewrite a JSON answer. Also records its sockets so a test can cut them like a network would.
 */
export class TamperingTransport implements Transport {
  readonly baseUrl: string;
  readonly fetch: Transport['fetch'];
  readonly WebSocket: WebSocketConstructor;
  readonly sockets: WebSocketLike[] = [];
  /** Every frame the client sent, in order. */
  readonly sent: ServerFrame[] = [];
  /** Delivers to the newest socket's listeners, as if the server had sent them. */
  private deliver: (frame: ServerFrame) => void = () => undefined;
  frames: (frame: ServerFrame) => ServerFrame[] = (frame) => [frame];
  answer: (method: string, path: string, body: unknown) => unknown = (_method, _path, body) => body;

  constructor(baseUrl: string) {
    const inner = nodeTransport(baseUrl);
    this.baseUrl = baseUrl;
    this.fetch = async (input, init) => {
      const response = await inner.fetch(input, init);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: passed on as it is.
      }
      const rewritten = this.answer(init?.method ?? 'GET', new URL(input).pathname, body);
      const out = typeof rewritten === 'string' ? rewritten : JSON.stringify(rewritten ?? null);
      return new Response(rewritten === undefined ? null : out, {
        status: response.status,
        headers: response.headers,
      });
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const transport = this;
    const Inner = inner.WebSocket;
    this.WebSocket = class implements WebSocketLike {
      private readonly socket: WebSocketLike;
      constructor(url: string) {
        this.socket = new Inner(url);
        transport.sockets.push(this.socket);
      }
      get readyState(): number {
        return this.socket.readyState;
      }
      send(data: string): void {
        transport.sent.push(JSON.parse(data) as ServerFrame);
        this.socket.send(data);
      }
      close(code?: number, reason?: string): void {
        this.socket.close(code, reason);
      }
      addEventListener(type: string, listener: (event: never) => void): void {
        if (type !== 'message') {
          this.socket.addEventListener(type as 'open', listener as () => void);
          return;
        }
        const deliver = (frame: ServerFrame): void =>
          (listener as (event: { data: unknown }) => void)({ data: JSON.stringify(frame) });
        transport.deliver = deliver;
        this.socket.addEventListener('message', (event) => {
          const frame = JSON.parse(String(event.data)) as ServerFrame;
          for (const out of transport.frames(frame)) deliver(out);
        });
      }
    } as unknown as WebSocketConstructor;
  }

  /** A frame the real server never sent, delivered on the open socket. */
  inject(frame: ServerFrame): void {
    this.deliver(frame);
  }

  /** Cuts every open socket abruptly, as a network failure would. */
  cut(): void {
    for (const socket of this.sockets) {
      (socket as unknown as { terminate?: () => void }).terminate?.();
    }
  }
}
