// What the module tests that talk to a server need: the real server (build() from server/ on a
// fresh in-memory database, on an ephemeral port, as test/e2e starts it), devices whose modules a
// test drives one by one (assemble(): the same wiring a Client has), whole clients for the other
// people in a scenario, and a transport that rewrites answers: the hostile server of the threat model.
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestAppOptions } from '../../../server/test/helpers';
import { assemble, type ClientParts } from '../src/assemble';
import { createClient, type Client } from '../src/client';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { systemClock, type Clock, type Transport } from '../src/options';

export interface LiveServer {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startServer(options: TestAppOptions = {}): Promise<LiveServer> {
  const app = await createTestApp(options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** An answer of another status than the server gave, from a rewrite. */
export class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Rewrites a JSON answer before the client reads it (the identity unless a test sets it). */
export type Rewrite = (method: string, path: string, body: unknown) => unknown;

export type LiveTransport = Transport & {
  rewrite: Rewrite;
  /** Every frame the client sent on its sockets, in order. */
  sent: Record<string, unknown>[];
  /** Frames from the server for which this holds are lost on the way. */
  drop: (frame: Record<string, unknown>) => boolean;
};

/** A transport to the real server whose JSON answers pass through `rewrite` first. */
export function tamperingTransport(baseUrl: string): LiveTransport {
  const inner = nodeTransport(baseUrl);
  const Inner = inner.WebSocket;
  const sent: Record<string, unknown>[] = [];
  const transport: LiveTransport = {
    ...inner,
    sent,
    rewrite: (_method, _path, body) => body,
    drop: () => false,
    WebSocket: class extends Inner {
      override send(data: string): void {
        sent.push(JSON.parse(data) as Record<string, unknown>);
        super.send(data);
      }

      override addEventListener(type: string, listener: (event: never) => void): void {
        const deliver = listener as (event: { data: unknown }) => void;
        const filtered =
          type === 'message'
            ? (event: { data: unknown }) => {
                const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
                if (!transport.drop(frame)) deliver(event);
              }
            : deliver;
        (super.addEventListener as (type: string, listener: unknown) => void)(type, filtered);
      }
    },
    fetch: async (input, init) => {
      const response = await inner.fetch(input, init);
      if (!(response.headers.get('content-type') ?? '').includes('json')) return response;
      const body: unknown = await response.json();
      const rewritten = transport.rewrite(init?.method ?? 'GET', new URL(input).pathname, body);
      const answer =
        rewritten instanceof Answer ? rewritten : new Answer(response.status, rewritten);
      return new Response(JSON.stringify(answer.body), {
        status: answer.status,
        headers: response.headers,
      });
    },
  };
  return transport;
}

export const passwordOf = (name: string): string => `${name}-password-1234`;

const TUNING = { reconnectMs: 50, maxReconnectMs: 500, ackTimeoutMs: 2000 };

export interface Device {
  parts: ClientParts;
  store: MemoryKeyStore;
  transport: LiveTransport;
  userId: string;
}

/** A device signed up as `name`, whose modules the test drives (connected when asked). */
export async function device(
  server: LiveServer,
  name: string,
  options: { connect?: boolean; clock?: Clock } = {},
): Promise<Device> {
  const store = new MemoryKeyStore();
  const transport = tamperingTransport(server.baseUrl);
  const parts = await assemble({
    transport,
    keyStore: store,
    tuning: TUNING,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const me = await parts.account.signUp({ username: name, password: passwordOf(name) });
  if (options.connect === true) {
    const open = parts.ctx.events.next('connection', (event) => event.state === 'open');
    parts.connection.start();
    await open;
  }
  return { parts, store, transport, userId: me.userId };
}

/** A whole client signed up as `name` and connected: another person in the scenario. */
export async function person(server: LiveServer, name: string): Promise<Client> {
  const client = await createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: new MemoryKeyStore(),
    tuning: TUNING,
  });
  await client.signUp({ username: name, password: passwordOf(name) });
  client.connect();
  await client.connected();
  return client;
}

/** The system clock moved on by `offsetMs` (changeable), for a device living in the future. */
export function movableClock(): Clock & { offsetMs: number } {
  const clock = {
    ...systemClock,
    offsetMs: 0,
    now: () => Date.now() + clock.offsetMs,
  };
  return clock;
}

/** Stops a device's socket and timers and closes its key store. */
export async function shutDown(device: Device): Promise<void> {
  device.parts.connection.stop();
  device.parts.delivery.stop();
  await device.parts.ctx.drain();
}

/** Waits until `probe` gives a value; fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what = 'condition',
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`eventually: ${what} did not happen in time`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
