import type { Socket } from 'node:net';
import { toBase64Url } from '@parley/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import type { Limits } from '../src/config';
import { TokenBucket, TokenBuckets } from '../src/limits/token-bucket';
import { expectError } from './accounts';
import { createTestApp } from './helpers';
import { createPerson, groupWith, listen, TestSocket, type Frame } from './rooms-fixtures';

/** An app listening with the given limits, closed after the suite. */
function appWith(limits: Partial<Limits>) {
  const handle = { app: undefined as unknown as ParleyApp, url: '' };
  beforeAll(async () => {
    handle.app = await createTestApp({ config: { limits } });
    handle.url = await listen(handle.app);
  });
  afterAll(async () => {
    await handle.app.close();
  });
  return handle;
}

/** Writes every frame in one TCP segment, so the server reads them in one go. */
function sendAtOnce(client: TestSocket, frames: unknown[]): void {
  const tcp = (client.socket as unknown as { _socket: Socket })._socket;
  tcp.cork();
  for (const frame of frames) client.send(frame);
  tcp.uncork();
}

const answered = (client: TestSocket, ids: string[]) =>
  client.count(
    (f) => ids.includes(f.messageId as string) || ids.includes(f.ref as string),
    ids.length,
  );

/** How many of the answers were acks, and how many each error code. */
function outcomes(frames: Frame[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const f of frames) {
    const outcome = f.type === 'ack' ? 'ack' : (f.code as string);
    tally[outcome] = (tally[outcome] ?? 0) + 1;
  }
  return tally;
}

describe('message quotas', () => {
  const server = appWith({
    wsMessagesPer10SecondsPerSocket: 5,
    wsMessagesPer10SecondsPerAccount: 7,
  });

  it('refuse a socket’s messages beyond its rate with RATE_LIMITED, naming each message', async () => {
    const [alice, bob] = [await createPerson(server.app), await createPerson(server.app)];
    const room = await groupWith(server.app, alice, [bob]);
    const a = await TestSocket.authenticated(server.url, alice);
    const messages = Array.from({ length: 8 }, (_, i) => room.message(alice, `m${i}`));
    for (const m of messages)
      a.send({ type: 'send', room: room.id, envelope: toBase64Url(m.envelope) });
    const frames = await answered(
      a,
      messages.map((m) => m.messageId),
    );
    expect(outcomes(frames)).toEqual({ ack: 5, RATE_LIMITED: 3 });
    a.close();
  });

  it('share one account’s rate among its sockets', async () => {
    const [alice, bob] = [await createPerson(server.app), await createPerson(server.app)];
    const room = await groupWith(server.app, alice, [bob]);
    const first = await TestSocket.authenticated(server.url, alice);
    const second = await TestSocket.authenticated(server.url, alice);
    const ofFirst = Array.from({ length: 4 }, (_, i) => room.message(alice, `a${i}`));
    const ofSecond = Array.from({ length: 4 }, (_, i) => room.message(alice, `b${i}`));
    for (const m of ofFirst)
      first.send({ type: 'send', room: room.id, envelope: toBase64Url(m.envelope) });
    const one = await answered(
      first,
      ofFirst.map((m) => m.messageId),
    );
    for (const m of ofSecond)
      second.send({ type: 'send', room: room.id, envelope: toBase64Url(m.envelope) });
    const two = await answered(
      second,
      ofSecond.map((m) => m.messageId),
    );
    expect(outcomes([...one, ...two])).toEqual({ ack: 7, RATE_LIMITED: 1 });
    first.close();
    second.close();
  });
});

describe('the send queue of a socket', () => {
  const server = appWith({ wsPendingSends: 2 });

  it('holds a bounded number of sends waiting for their commit and refuses the rest', async () => {
    const [alice, bob] = [await createPerson(server.app), await createPerson(server.app)];
    const room = await groupWith(server.app, alice, [bob]);
    const a = await TestSocket.authenticated(server.url, alice);
    const messages = Array.from({ length: 10 }, (_, i) => room.message(alice, `q${i}`));
    sendAtOnce(
      a,
      messages.map((m) => ({ type: 'send', room: room.id, envelope: toBase64Url(m.envelope) })),
    );
    const frames = await answered(
      a,
      messages.map((m) => m.messageId),
    );
    expect(outcomes(frames)).toEqual({ ack: 2, SEND_QUEUE_FULL: 8 });
    // A refused message is sent again once the queue has room, and is stored.
    const refused = messages.find(
      (m) => frames.find((f) => f.ref === m.messageId)?.code === 'SEND_QUEUE_FULL',
    )!;
    const from = a.frames.length;
    a.send({ type: 'send', room: room.id, envelope: toBase64Url(refused.envelope) });
    expect(
      await a.next(
        (f) => f.messageId === refused.messageId || f.ref === refused.messageId,
        5000,
        from,
      ),
    ).toMatchObject({ type: 'ack' });
    a.close();
  });
});

describe('typing and ping rates', () => {
  const server = appWith({ wsTypingPer10Seconds: 3, wsPingsPer10Seconds: 3 });

  it('relay typing up to its rate and refuse the rest', async () => {
    const [alice, bob] = [await createPerson(server.app), await createPerson(server.app)];
    const room = await groupWith(server.app, alice, [bob]);
    const a = await TestSocket.authenticated(server.url, alice);
    const b = await TestSocket.authenticated(server.url, bob);
    for (const client of [a, b]) {
      client.send({ type: 'subscribe', room: room.id });
      await client.next((f) => f.type === 'subscribed');
    }
    for (let i = 0; i < 5; i++) a.send({ type: 'typing', room: room.id, active: i % 2 === 0 });
    const refusals = await a.count((f) => f.type === 'error' && f.code === 'RATE_LIMITED', 2);
    expect(refusals.map((f) => f.ref)).toEqual([room.id, room.id]);
    await b.count((f) => f.type === 'typing', 3);
    // A ping after the typing frames is answered, so every relayed typing frame has arrived.
    b.send({ type: 'ping' });
    await b.next((f) => f.type === 'pong');
    expect(b.frames.filter((f) => f.type === 'typing')).toHaveLength(3);
    a.close();
    b.close();
  });

  it('answer pings up to their rate and refuse the rest', async () => {
    const alice = await createPerson(server.app);
    const a = await TestSocket.authenticated(server.url, alice);
    for (let i = 0; i < 5; i++) a.send({ type: 'ping' });
    const answers = await a.count((f) => f.type === 'pong' || f.type === 'error', 5);
    expect(answers.map((f) => (f.type === 'pong' ? 'pong' : f.code))).toEqual([
      'pong',
      'pong',
      'pong',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
    a.close();
  });
});

describe('attachment storage quota', () => {
  const server = appWith({ attachmentBytesPerAccount: 10_000 });

  it('refuses an upload past what the account may keep, and leaves other accounts alone', async () => {
    const [alice, bob] = [await createPerson(server.app), await createPerson(server.app)];
    const room = await groupWith(server.app, alice, [bob]);
    const upload = (person: { auth: { authorization: string } }, bytes: number) =>
      server.app.inject({
        method: 'POST',
        url: `/api/rooms/${room.id}/attachments`,
        headers: { ...person.auth, 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(bytes, 1),
      });
    expect((await upload(alice, 6000)).statusCode).toBe(201);
    expectError(await upload(alice, 6000), 413, 'ATTACHMENT_QUOTA_EXCEEDED');
    expect((await upload(alice, 4000)).statusCode).toBe(201);
    expect((await upload(bob, 6000)).statusCode).toBe(201);
    const stored = await server.app.db.selectFrom('attachments').select('size').execute();
    expect(stored.map((row) => row.size).sort()).toEqual([4000, 6000, 6000]);
  });
});

describe('TokenBucket', () => {
  it('bursts to its capacity, then refills evenly', () => {
    let now = 0;
    const bucket = new TokenBucket(4, 1000, () => now);
    expect([1, 2, 3, 4, 5].map(() => bucket.take())).toEqual([true, true, true, true, false]);
    now += 250;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000;
    expect(bucket.full()).toBe(true);
  });

  it('keeps buckets per key, dropping refilled ones past the sweep size', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1000, 2, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('b')]).toEqual([true, false, true]);
    now += 1000;
    buckets.take('c');
    expect(buckets.size).toBe(1);
  });
});
