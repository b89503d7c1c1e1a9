// Two real server processes (src/main.ts under tsx) on one PostgreSQL database and one Redis:
// clients connected to different processes see each other's messages, in one order, without
// gaps, and a removal made through one process takes effect on sockets held by the other.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url } from '@parley/crypto';
import { CloseCode } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSharedDatabase,
  startServer as startProcess,
  stopServer,
  type ServerProcess,
  type SharedDatabase,
} from './processes';
import {
  appendEntry,
  createPerson,
  groupWith,
  TestSocket,
  type Person,
  type TestRoom,
} from './rooms-fixtures';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

let database: SharedDatabase | undefined;
const prefix = `parley-test-${randomBytes(6).toString('hex')}:`;
const dataDir = mkdtempSync(join(tmpdir(), 'parley-fanout-'));
const servers: ServerProcess[] = [];
const sockets: TestSocket[] = [];

beforeAll(async () => {
  database = await createSharedDatabase();
  const { url } = database;
  servers.push(...(await Promise.all([startServer(url), startServer(url)])));
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all(servers.map((server) => stopServer(server.child)));
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('two server processes with Redis fan-out', () => {
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let room: TestRoom;
  let a: TestSocket;
  let b: TestSocket;
  let c: TestSocket;

  beforeAll(async () => {
    const [one, two] = servers as [ServerProcess, ServerProcess];
    alice = await createPerson(one.api);
    bob = await createPerson(two.api);
    carol = await createPerson(one.api);
    room = await groupWith(one.api, alice, [bob, carol]);
    a = await connect(one, alice);
    b = await connect(two, bob);
    c = await connect(two, carol);
    for (const socket of [a, b, c]) {
      socket.send({ type: 'subscribe', room: room.id, after: 0 });
      await socket.next((f) => f.type === 'subscribed');
    }
  }, 60_000);

  it('delivers every message to clients of both processes, in one order, without gaps', async () => {
    // Alice (process one) and Bob (process two) send at the same time into one room.
    const count = 100;
    for (let i = 0; i < count; i++) {
      a.send({
        type: 'send',
        room: room.id,
        envelope: toBase64Url(room.message(alice, `a${i}`).envelope),
      });
      b.send({
        type: 'send',
        room: room.id,
        envelope: toBase64Url(room.message(bob, `b${i}`).envelope),
      });
    }
    const acks = [
      ...(await a.count((f) => f.type === 'ack', count, 20_000)),
      ...(await b.count((f) => f.type === 'ack', count, 20_000)),
    ];
    expect(new Set(acks.map((f) => f.seq)).size).toBe(2 * count);
    const expected = Array.from({ length: 2 * count }, (_, i) => i + 1);
    for (const socket of [a, b, c]) {
      const seen = await socket.count((f) => f.type === 'message', 2 * count, 20_000);
      expect(seen.map((f) => f.seq)).toEqual(expected);
    }
    // Every client saw the same envelope under each sequence number.
    const envelopeAt = (socket: TestSocket) =>
      socket.frames
        .filter((f) => f.type === 'message')
        .map((f) => `${f.seq}:${String(f.envelope)}`);
    expect(envelopeAt(b)).toEqual(envelopeAt(a));
    expect(envelopeAt(c)).toEqual(envelopeAt(a));
  });

  it('ends the subscription of a member removed through the other process at once', async () => {
    const [one] = servers as [ServerProcess];
    await appendEntry(one.api, room, alice, 'remove', carol);
    expect(await c.next((f) => f.type === 'removed')).toEqual({
      type: 'removed',
      room: room.id,
      reason: 'removed',
    });
    const before = c.frames.filter((f) => f.type === 'message').length;
    a.send({
      type: 'send',
      room: room.id,
      envelope: toBase64Url(room.message(alice, 'after').envelope),
    });
    const last = await b.next((f) => f.type === 'message' && f.seq === 201);
    expect(last.room).toBe(room.id);
    expect(c.frames.filter((f) => f.type === 'message').length).toBe(before);
  });

  it('pushes a key envelope posted to one process to the recipient on the other', async () => {
    const [one] = servers as [ServerProcess];
    const response = await one.api.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/keys`,
      headers: alice.auth,
      payload: { envelopes: [toBase64Url(room.envelope(alice, bob, 1))] },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(await b.next((f) => f.type === 'key')).toMatchObject({ room: room.id, epoch: 1 });
  });
});

describe('ending a session through one process', () => {
  it('closes its sockets on the other process at once', async () => {
    const [one, two] = servers as [ServerProcess, ServerProcess];
    const dave = await createPerson(one.api);
    const socket = await connect(two, dave);
    const response = await one.api.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: dave.refreshToken },
    });
    expect(response.statusCode).toBe(204);
    const closed = await Promise.race([
      socket.closed,
      new Promise((resolve) => setTimeout(() => resolve('still open'), 3000)),
    ]);
    expect(closed).toEqual({ code: CloseCode.SESSION_ENDED, reason: 'SESSION_REVOKED' });
  });
});

async function connect(server: ServerProcess, person: Person): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(server.wsUrl, person);
  sockets.push(socket);
  return socket;
}

describe('two server processes sharing login counters through Redis', () => {
  it('slow guesses at one account wherever they land', async () => {
    const [one, two] = servers as [ServerProcess, ServerProcess];
    const victim = await createPerson(one.api);
    const guess = (server: ServerProcess) =>
      server.api.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: victim.username, password: 'not the password at all' },
      });
    // Five free failures (the default) spread over both processes, then the sixth waits.
    const answers = [];
    for (const server of [one, two, one, two, one]) answers.push((await guess(server)).statusCode);
    expect(answers).toEqual([401, 401, 401, 401, 401]);
    expect((await guess(two)).statusCode).toBe(429);
    expect((await guess(one)).statusCode).toBe(429);
  });
});

function startServer(url: string): Promise<ServerProcess> {
  return startProcess({
    env: { DATABASE_URL: url, REDIS_URL, REDIS_CHANNEL_PREFIX: prefix, DATA_DIR: dataDir },
  });
}
