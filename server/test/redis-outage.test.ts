// Redis outages, with a redis-server of this test's own that it kills and starts again: the server
// starts while Redis is down and connects when it comes up; /readyz says whether Redis answers;
// the sender's own process delivers without Redis; and once Redis is back every process delivers
// what was committed meanwhile, without waiting for a later message or a reconnect.
//
// The in-process part runs on the test database (PGlite, or PostgreSQL under `pnpm test:postgres`);
// the two real processes share one PostgreSQL database, as processes of one deployment must.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url } from '@parley/crypto';
import { CloseCode } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { createTestApp } from './helpers';
import {
  createSharedDatabase,
  freePort,
  RedisProcess,
  startServer,
  stopServer,
  type ServerProcess,
  type SharedDatabase,
} from './processes';
import {
  createPerson,
  groupWith,
  listen,
  TestSocket,
  type Person,
  type TestRoom,
} from './rooms-fixtures';

const sockets: TestSocket[] = [];
afterAll(() => {
  for (const socket of sockets) socket.close();
});

async function connect(wsUrl: string, person: Person, room: TestRoom): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(wsUrl, person);
  sockets.push(socket);
  socket.send({ type: 'subscribe', room: room.id, after: 0 });
  await socket.next((f) => f.type === 'subscribed');
  return socket;
}

function send(socket: TestSocket, room: TestRoom, person: Person, text: string): void {
  socket.send({
    type: 'send',
    room: room.id,
    envelope: toBase64Url(room.message(person, text).envelope),
  });
}

const seqsOf = (socket: TestSocket) =>
  socket.frames.filter((f) => f.type === 'message').map((f) => f.seq);

async function readiness(get: () => Promise<{ status: number; body: unknown }>, status: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await get();
    if (answer.status === status) return answer.body;
    if (Date.now() > deadline) throw new Error(`readyz: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('one server and a Redis that is down at start', () => {
  let redis: RedisProcess;
  let app: ParleyApp;
  let wsUrl: string;
  const ready = async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    return { status: response.statusCode, body: response.json() };
  };

  beforeAll(async () => {
    redis = new RedisProcess(await freePort());
    app = await createTestApp({
      config: {
        redisUrl: redis.url,
        redisChannelPrefix: `parley-test-${randomBytes(6).toString('hex')}:`,
      },
    });
    wsUrl = await listen(app);
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await redis?.kill();
  });

  it('starts, reports Redis in /readyz, delivers locally, and connects when Redis comes up', async () => {
    expect(await ready()).toEqual({
      status: 503,
      body: { error: { code: 'NOT_READY', message: 'Redis does not answer' } },
    });

    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await groupWith(app, alice, [bob]);
    const a = await connect(wsUrl, alice, room);
    const b = await connect(wsUrl, bob, room);
    send(a, room, alice, 'while Redis is down');
    // The sender's own process delivers without a round trip through Redis.
    expect(await b.next((f) => f.type === 'message')).toMatchObject({ seq: 1 });

    await redis.start();
    expect(await readiness(ready, 200)).toEqual({ status: 'ok', database: 'up', redis: 'up' });
    send(b, room, bob, 'after Redis came up');
    await a.next((f) => f.type === 'message' && f.seq === 2);
    await b.next((f) => f.type === 'message' && f.seq === 2);
    // Heard once, not once locally and once more through Redis.
    expect(seqsOf(a)).toEqual([1, 2]);
    expect(seqsOf(b)).toEqual([1, 2]);
  }, 30_000);
});

describe('two server processes through a Redis outage', () => {
  let database: SharedDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-outage-'));
  let redis: RedisProcess;
  let one: ServerProcess;
  let two: ServerProcess;
  const ready = (server: ServerProcess) => async () => {
    const response = await fetch(`${server.baseUrl}/readyz`);
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    database = await createSharedDatabase();
    redis = new RedisProcess(await freePort());
    await redis.start();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_CHANNEL_PREFIX: `parley-test-${randomBytes(6).toString('hex')}:`,
      DATA_DIR: dataDir,
    };
    [one, two] = await Promise.all([startServer({ env }), startServer({ env })]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([one, two].filter((s) => s !== undefined).map((s) => stopServer(s.child)));
    await redis?.kill();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('delivers what was committed during the outage to every process once Redis is back', async () => {
    const alice = await createPerson(one.api);
    const carol = await createPerson(one.api);
    const bob = await createPerson(two.api);
    const room = await groupWith(one.api, alice, [bob, carol]);
    const a = await connect(one.wsUrl, alice, room);
    const c = await connect(one.wsUrl, carol, room);
    const b = await connect(two.wsUrl, bob, room);
    const dave = await createPerson(one.api);
    const d = await TestSocket.authenticated(two.wsUrl, dave);
    sockets.push(d);
    send(a, room, alice, 'before');
    await b.next((f) => f.type === 'message' && f.seq === 1);

    await redis.kill();
    await readiness(ready(one), 503);
    await readiness(ready(two), 503);
    for (let i = 0; i < 3; i++) send(a, room, alice, `during ${i}`);
    // Dave logs out through process one; the news cannot reach process two yet.
    const logout = await one.api.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: dave.refreshToken },
    });
    expect(logout.statusCode).toBe(204);
    await a.count((f) => f.type === 'ack', 4, 10_000);
    // Carol shares Alice's process: she has them at once, Redis or not.
    await c.count((f) => f.type === 'message', 4, 10_000);
    expect(seqsOf(b)).toEqual([1]);

    await redis.start();
    // No later message, no reconnect: Bob's process catches up once Redis is back.
    await b.count((f) => f.type === 'message', 4, 15_000);
    expect(seqsOf(b)).toEqual([1, 2, 3, 4]);
    // And the session that ended meanwhile loses its socket.
    expect(await d.closed).toEqual({ code: CloseCode.SESSION_ENDED, reason: 'SESSION_REVOKED' });
    expect(await readiness(ready(one), 200)).toMatchObject({ redis: 'up' });
    await readiness(ready(two), 200);

    // Fan-out resumed both ways.
    send(b, room, bob, 'after');
    await a.next((f) => f.type === 'message' && f.seq === 5);
    await c.next((f) => f.type === 'message' && f.seq === 5);
    await b.next((f) => f.type === 'message' && f.seq === 5);
    for (const socket of [a, b, c]) expect(seqsOf(socket)).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);
});
