// Connection and request limits: caps on WebSockets (overall, per address, not yet
// authenticated) answered before the upgrade; caps on TCP connections that push out idle ones;
// and request timeouts, so neither a trickling body nor silent connections hold the server.
// Connections come from several loopback addresses (127.0.0.x) to stand for several clients.
// (The same under `ulimit -n 1024`, with a real process: descriptors.test.ts.)
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ParleyApp } from '../src/app';
import type { Limits } from '../src/config';
import { createTestApp } from './helpers';
import { createPerson, listen, TestSocket, type Person } from './rooms-fixtures';

const opened: (Socket | WebSocket | TestSocket)[] = [];
afterEach(() => {
  for (const item of opened.splice(0)) {
    if (item instanceof TestSocket) item.close();
    else if (item instanceof WebSocket) item.terminate();
    else item.destroy();
  }
});

async function serve(limits: Partial<Limits>): Promise<{ app: ParleyApp; port: number }> {
  const app = await createTestApp({ config: { wsAuthTimeoutMs: 2000, limits } });
  const url = await listen(app);
  return { app, port: Number(new URL(url).port) };
}

/** An idle TCP connection from `localAddress`; resolves once connected. */
function idleConnection(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress });
    opened.push(socket);
    socket.on('error', () => {});
    // Read what the server says (a 408), so its closing the connection is seen.
    socket.resume();
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the milliseconds until the server closed `socket`, or 'open' after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<number | 'open'> {
  const began = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - began);
    });
  });
}

/** Opens a WebSocket from `localAddress`: 'open', or the HTTP status and body of the refusal. */
function upgrade(
  port: number,
  localAddress = '127.0.0.1',
): Promise<{ socket: WebSocket } | { status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { localAddress });
    opened.push(socket);
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += String(chunk)));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) }),
      );
    });
    socket.once('error', reject);
  });
}

async function logIn(port: number, person: Person): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: person.username, password: person.password }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('WebSocket caps', () => {
  let app: ParleyApp;
  let port: number;
  beforeAll(async () => {
    ({ app, port } = await serve({
      wsMaxSockets: 4,
      wsMaxSocketsPerIp: 2,
      wsMaxUnauthenticated: 3,
    }));
  });
  afterAll(async () => app.close());

  it('refuses, before the upgrade, sockets beyond the per-address, unauthenticated and overall caps', async () => {
    expect(await upgrade(port, '127.0.0.2')).toHaveProperty('socket');
    expect(await upgrade(port, '127.0.0.2')).toHaveProperty('socket');
    expect(await upgrade(port, '127.0.0.2')).toEqual({
      status: 429,
      body: { error: { code: 'TOO_MANY_CONNECTIONS', message: expect.any(String) } },
    });
    expect(await upgrade(port, '127.0.0.3')).toHaveProperty('socket');
    // Three sockets wait for their auth frame: a fourth may not wait with them.
    expect(await upgrade(port, '127.0.0.4')).toEqual({
      status: 503,
      body: {
        error: { code: 'SERVER_BUSY', message: 'Too many WebSockets are waiting to authenticate' },
      },
    });
    for (const item of opened.splice(0)) (item as WebSocket).terminate();

    // Authenticated sockets count against the overall cap only.
    const alice = await createPerson(app);
    const sockets = [];
    for (const address of ['127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8']) {
      const socket = await eventuallyAuthenticated(port, address, alice);
      sockets.push(socket);
    }
    expect(await upgrade(port, '127.0.0.9')).toEqual({
      status: 503,
      body: { error: { code: 'SERVER_BUSY', message: 'Too many WebSockets are open' } },
    });
    // A closed socket frees its place.
    const closed = sockets[0]!.closed;
    sockets[0]!.close();
    await closed;
    await eventuallyAuthenticated(port, '127.0.0.9', alice);
  });
});

/** An authenticated socket from `address`, once the gate has counted earlier closes. */
async function eventuallyAuthenticated(
  port: number,
  address: string,
  person: Person,
): Promise<TestSocket> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const socket = await TestSocket.authenticated(`ws://127.0.0.1:${port}/ws`, person, {
        localAddress: address,
      });
      opened.push(socket);
      return socket;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('TCP connection caps', () => {
  let app: ParleyApp;
  let port: number;
  let alice: Person;
  beforeAll(async () => {
    ({ app, port } = await serve({ maxConnections: 30, maxConnectionsPerIp: 10 }));
    alice = await createPerson(app);
  });
  afterAll(async () => app.close());

  it('closes connections from one address beyond its cap at once', async () => {
    const held = [];
    for (let i = 0; i < 10; i++) held.push(await idleConnection(port, '127.0.0.20'));
    const extra = await idleConnection(port, '127.0.0.20');
    expect(await closedWithin(extra, 2000)).not.toBe('open');
    for (const socket of held) expect(socket.destroyed).toBe(false);
    expect(await logIn(port, alice)).toBe(200);
  });

  it('at the overall cap, pushes out the oldest idle connection so logins still work', async () => {
    const idle = [];
    for (let address = 30; address < 40; address++) {
      for (let i = 0; i < 4; i++) idle.push(await idleConnection(port, `127.0.0.${address}`));
    }
    // 40 idle connections were accepted one by one against a cap of 30: the 10 oldest went.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const survivors = idle.filter((socket) => !socket.destroyed && !socket.readableEnded);
    expect(survivors.length).toBeLessThanOrEqual(30);
    expect(idle.slice(0, 10).every((socket) => socket.destroyed || socket.readableEnded)).toBe(
      true,
    );
    expect(await logIn(port, alice)).toBe(200);
    const socket = await eventuallyAuthenticated(port, '127.0.0.1', alice);
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
  });
});

describe('request timeouts', () => {
  let app: ParleyApp;
  let port: number;
  let alice: Person;
  beforeAll(async () => {
    ({ app, port } = await serve({ requestTimeoutMs: 2000, headersTimeoutMs: 1000 }));
    alice = await createPerson(app);
  });
  afterAll(async () => app.close());

  it('cuts off a body that trickles in at one byte every ten seconds', async () => {
    const socket = await idleConnection(port);
    const body = JSON.stringify({ username: alice.username, password: alice.password });
    socket.write(
      `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    let sent = 0;
    const trickle = setInterval(() => socket.write(body[sent++] ?? ' '), 10_000);
    socket.write(body[sent++]!);
    try {
      const closedAfter = await closedWithin(socket, 6000);
      expect(closedAfter).not.toBe('open');
      expect(closedAfter as number).toBeLessThan(5000);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection that sends nothing, or headers too slowly', async () => {
    const silent = await idleConnection(port);
    const slow = await idleConnection(port);
    slow.write('GET /healthz HTTP/1.1\r\n');
    const closed = await Promise.all([closedWithin(silent, 4000), closedWithin(slow, 4000)]);
    expect(closed).not.toContain('open');
  });

  it('leaves an open WebSocket alone past the request timeout', async () => {
    const socket = await eventuallyAuthenticated(port, '127.0.0.1', alice);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
  });
});
