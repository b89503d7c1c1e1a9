import { generateId, toBase64Url, toHex } from '@parley/crypto';
import { CloseCode, type HistoryPage, type ReceiptList } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { commitBatch } from '../src/messages/message.repository';
import { messageFrame } from '../src/messages/message.service';
import { publishToRoom } from '../src/realtime/events';
import { createTestApp, TEST_JWT_SECRET } from './helpers';
import { makeJwt, readClaims } from './tokens';
import { expectUnchanged, expiredToken } from './room-state';
import {
  appendEntry,
  createPerson,
  createRoom,
  distributeKey,
  groupWith,
  listen,
  sendOver,
  TestRoom,
  TestSocket,
  type Frame,
  type Person,
} from './rooms-fixtures';

const ORIGIN = 'https://chat.example';
let app: ParleyApp;
let url: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  app = await createTestApp({
    config: {
      allowedOrigins: [ORIGIN],
      wsAuthTimeoutMs: 300,
      limits: { wsFrameBytes: 8192, wsMalformedFrames: 3 },
    },
  });
  url = await listen(app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await app.close();
});

async function connect(person: Person): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(url, person);
  sockets.push(socket);
  return socket;
}

async function open(headers: Record<string, string> = {}): Promise<TestSocket> {
  const socket = await TestSocket.open(url, headers);
  sockets.push(socket);
  return socket;
}

async function subscribe(socket: TestSocket, roomId: string, after?: number): Promise<Frame> {
  const from = socket.frames.length;
  socket.send({ type: 'subscribe', room: roomId, ...(after === undefined ? {} : { after }) });
  return socket.next(
    (f) =>
      (f.type === 'subscribed' || f.type === 'error') && (f.room === roomId || f.ref === roomId),
    5000,
    from,
  );
}

const messagesOf = (socket: TestSocket, roomId: string) =>
  socket.frames.filter((f) => f.type === 'message' && f.room === roomId);

describe('authentication and origin', () => {
  it('authenticates with the first frame and answers ready', async () => {
    const alice = await createPerson(app);
    const socket = await connect(alice);
    expect(socket.frames[0]).toEqual({
      type: 'ready',
      user: { id: alice.id, username: alice.username },
    });
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
  });

  it('closes with 4001 without auth in time, with a bad or expired token, or another first frame', async () => {
    const alice = await createPerson(app);
    const silent = await open();
    expect((await silent.closed).code).toBe(CloseCode.UNAUTHENTICATED);

    const forged = await open();
    forged.send({ type: 'auth', token: `${alice.accessToken.slice(0, -4)}AAAA` });
    expect(await forged.closed).toEqual({ code: 4001, reason: 'TOKEN_INVALID' });

    const expired = await open();
    expired.send({ type: 'auth', token: expiredToken(alice.accessToken) });
    expect(await expired.closed).toEqual({ code: 4001, reason: 'TOKEN_EXPIRED' });

    const eager = await open();
    eager.send({ type: 'subscribe', room: toHex(generateId()) });
    expect((await eager.closed).code).toBe(4001);

    const garbage = await open();
    garbage.send('not json');
    expect((await garbage.closed).code).toBe(4001);
    expect(silent.frames.concat(forged.frames, expired.frames, eager.frames)).toEqual([]);
  });

  it('closes with 4001 when the token expires, unless a fresh auth frame extends the socket', async () => {
    const alice = await createPerson(app);
    const shortLived = () => {
      const claims = readClaims(alice.accessToken);
      return makeJwt(
        { ...claims, exp: Math.floor(Date.now() / 1000) + 2 },
        { secret: TEST_JWT_SECRET },
      );
    };
    const expiring = await open();
    expiring.send({ type: 'auth', token: shortLived() });
    await expiring.next((f) => f.type === 'ready');
    const extended = await open();
    extended.send({ type: 'auth', token: shortLived() });
    await extended.next((f) => f.type === 'ready');
    extended.send({ type: 'auth', token: alice.accessToken });
    await extended.count((f) => f.type === 'ready', 2);
    expect(await expiring.closed).toEqual({
      code: CloseCode.UNAUTHENTICATED,
      reason: 'TOKEN_EXPIRED',
    });
    extended.send({ type: 'ping' });
    await extended.next((f) => f.type === 'pong');

    const other = await createPerson(app);
    extended.send({ type: 'auth', token: other.accessToken });
    expect(await extended.closed).toEqual({ code: 4001, reason: 'a socket belongs to one user' });
  });

  it('checks Origin: a listed origin, the same origin or none pass; another closes with 4003', async () => {
    const alice = await createPerson(app);
    const evil = await open({ origin: 'https://evil.example' });
    expect(await evil.closed).toEqual({
      code: CloseCode.ORIGIN_NOT_ALLOWED,
      reason: 'origin not allowed',
    });
    const host = new URL(url).host;
    for (const origin of [ORIGIN, `http://${host}`]) {
      const socket = await open({ origin });
      socket.send({ type: 'auth', token: alice.accessToken });
      await socket.next((f) => f.type === 'ready');
    }
  });

  it('handles frames sent between auth and ready after authenticating', async () => {
    const alice = await createPerson(app);
    const room = await groupWith(app, alice, []);
    const socket = await open();
    socket.send({ type: 'auth', token: alice.accessToken });
    socket.send({ type: 'subscribe', room: room.id, after: 0 });
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'subscribed');
    await socket.next((f) => f.type === 'pong');
    expect(socket.frames[0]!.type).toBe('ready');
  });
});

describe('send, ack and delivery', () => {
  it('acks after commit with per-room sequence numbers and delivers to every subscriber', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    expect(await subscribe(a, room.id)).toEqual({ type: 'subscribed', room: room.id, head: 0 });
    await subscribe(b, room.id);

    const sent = [
      room.message(alice, 'one'),
      room.message(alice, 'two'),
      room.message(alice, 'three'),
    ];
    const acks = [];
    for (const message of sent) acks.push(await sendOver(a, room.id, message));
    expect(acks).toEqual(
      sent.map((m, i) => ({ type: 'ack', room: room.id, messageId: m.messageId, seq: i + 1 })),
    );
    const delivered = await b.count((f) => f.type === 'message', 3);
    expect(delivered.map((f) => [f.seq, f.envelope])).toEqual(
      sent.map((m, i) => [i + 1, toBase64Url(m.envelope)]),
    );
    expect(typeof delivered[0]!.sentAt).toBe('string');
    // The sender receives its own messages too (its other devices and its own view need them).
    await a.count((f) => f.type === 'message', 3);

    const history = (
      await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: bob.auth })
    ).json<HistoryPage>();
    expect(history.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(history).toMatchObject({ headSeq: 3, more: false });
  });

  it('answers a retry with the original sequence number and relays nothing twice', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(b, room.id);
    const message = room.message(alice, 'once');
    const first = await sendOver(a, room.id, message);
    // Concurrent retries land in one batch or several; all get the same answer.
    a.send({ type: 'send', room: room.id, envelope: toBase64Url(message.envelope) });
    a.send({ type: 'send', room: room.id, envelope: toBase64Url(message.envelope) });
    const acks = await a.count((f) => f.type === 'ack' && f.messageId === message.messageId, 3);
    expect(acks.map((f) => f.seq)).toEqual([first.seq, first.seq, first.seq]);
    const next = room.message(alice, 'after');
    await sendOver(a, room.id, next);
    await b.next((f) => f.type === 'message' && f.seq === (first.seq as number) + 1);
    expect(messagesOf(b, room.id).map((f) => f.seq)).toEqual([1, 2]);
  });

  it('refuses envelopes for another room or sender, garbage, non-members, and stores nothing', async () => {
    const [alice, bob, mallory] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await groupWith(app, alice, [bob]);
    const other = await groupWith(app, alice, []);
    const [a, m] = [await connect(alice), await connect(mallory)];
    const elsewhere = other.message(alice, 'elsewhere');
    const asBob = room.message(bob, 'not from alice');
    const fromMallory = room.message(mallory, 'intruder');
    const big = room.message(alice, { kind: 'text', text: 'x'.repeat(70_000) });
    await expectUnchanged(app, async () => {
      expect(await sendOver(a, room.id, elsewhere)).toMatchObject({
        code: 'MESSAGE_INVALID',
        ref: elsewhere.messageId,
      });
      expect(await sendOver(a, room.id, asBob)).toMatchObject({
        code: 'MESSAGE_INVALID',
        ref: asBob.messageId,
      });
      expect(await sendOver(m, room.id, fromMallory)).toMatchObject({
        code: 'NOT_A_MEMBER',
        ref: fromMallory.messageId,
      });
      const ghost = new TestRoom(generateId(), 'group');
      const lost = ghost.message(alice, 'to nowhere');
      expect(await sendOver(a, ghost.id, lost)).toMatchObject({
        code: 'ROOM_NOT_FOUND',
        ref: lost.messageId,
      });
      const from = a.frames.length;
      a.send({ type: 'send', room: room.id, envelope: toBase64Url(new Uint8Array(64)) });
      expect(await a.next((f) => f.type === 'error', 5000, from)).toMatchObject({
        code: 'MESSAGE_INVALID',
      });
      const oversized = a.frames.length;
      a.send({ type: 'send', room: room.id, envelope: toBase64Url(big.envelope) });
      expect((await a.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
      expect(a.frames.length).toBe(oversized);
    });
  });
});

describe('subscribe and resume', () => {
  it('re-checks membership on every subscribe', async () => {
    const [alice, mallory] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, []);
    const m = await connect(mallory);
    expect(await subscribe(m, room.id)).toMatchObject({
      type: 'error',
      code: 'NOT_A_MEMBER',
      ref: room.id,
    });
    const ghost = toHex(generateId());
    expect(await subscribe(m, ghost)).toMatchObject({
      type: 'error',
      code: 'ROOM_NOT_FOUND',
      ref: ghost,
    });
  });

  it('replays everything after the given seq, then live, with no gap or duplicate at the seam', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const a = await connect(alice);
    for (let i = 0; i < 20; i++) await sendOver(a, room.id, room.message(alice, `m${i}`));

    // Alice keeps sending while Bob subscribes with resume, and for a while after, so the seam
    // between replay and live falls inside the run.
    let sent = 20;
    const seam: { subscribedAt?: number } = {};
    const sending = (async () => {
      while (seam.subscribedAt === undefined || sent < seam.subscribedAt + 100) {
        a.send({
          type: 'send',
          room: room.id,
          envelope: toBase64Url(room.message(alice, `m${sent}`).envelope),
        });
        sent += 1;
        if (sent % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const b = await connect(bob);
    const subscribed = await subscribe(b, room.id, 5);
    seam.subscribedAt = sent;
    await sending;
    expect(subscribed).toMatchObject({ type: 'subscribed', room: room.id });
    // At most what was sent then; the hundred sent after it arrive live (or held, then released).
    expect(subscribed.head as number).toBeLessThanOrEqual(seam.subscribedAt);
    await a.count((f) => f.type === 'ack', sent - 20);
    const got = await b.count((f) => f.type === 'message', sent - 5, 10_000);
    expect(got.map((f) => f.seq)).toEqual(Array.from({ length: sent - 5 }, (_, i) => i + 6));
  });

  it('fills from the database a message whose event arrives late, keeping the order', async () => {
    const alice = await createPerson(app);
    const room = await groupWith(app, alice, []);
    const a = await connect(alice);
    await subscribe(a, room.id);
    // Three commits whose events have not been published (as when another process commits and
    // its events are still on their way); then the third's event arrives first.
    const pending = [1, 2, 3].map(() => ({
      roomId: room.id,
      senderId: alice.id,
      ...(({ envelope, messageId }) => ({ envelope, messageId }))(room.message(alice, 'late')),
    }));
    const outcomes = await commitBatch(app.db, pending, () => undefined);
    expect(outcomes.map((o) => (o.status === 'stored' ? o.seq : o.status))).toEqual([1, 2, 3]);
    const frame = (seq: number) =>
      messageFrame(room.id, seq, toBase64Url(pending[seq - 1]!.envelope), new Date());
    publishToRoom(app.bus, room.id, { t: 'message', seq: 3 }, frame(3));
    publishToRoom(app.bus, room.id, { t: 'message', seq: 2 }, frame(2));
    publishToRoom(app.bus, room.id, { t: 'message', seq: 1 }, frame(1));
    const seen = await a.count((f) => f.type === 'message', 3);
    expect(seen.map((f) => [f.seq, f.envelope])).toEqual(
      pending.map((m, i) => [i + 1, toBase64Url(m.envelope)]),
    );
    a.send({ type: 'ping' });
    const pong = a.frames.length;
    await a.next((f) => f.type === 'pong', 5000, pong);
    expect(messagesOf(a, room.id)).toHaveLength(3);
  });

  it('replays nothing without after, and can unsubscribe', async () => {
    const [alice] = [await createPerson(app)];
    const room = await groupWith(app, alice, []);
    const a = await connect(alice);
    await sendOver(a, room.id, room.message(alice, 'old'));
    expect(await subscribe(a, room.id)).toMatchObject({ head: 1 });
    await sendOver(a, room.id, room.message(alice, 'new'));
    await a.next((f) => f.type === 'message' && f.seq === 2);
    expect(messagesOf(a, room.id).map((f) => f.seq)).toEqual([2]);
    a.send({ type: 'unsubscribe', room: room.id });
    await a.next((f) => f.type === 'unsubscribed' && f.room === room.id);
    await sendOver(a, room.id, room.message(alice, 'unseen'));
    a.send({ type: 'ping' });
    const pong = a.frames.length;
    await a.next((f) => f.type === 'pong', 5000, pong);
    expect(messagesOf(a, room.id).map((f) => f.seq)).toEqual([2]);
  });
});

describe('membership and keys over the socket', () => {
  it('shows the removal to the removed member, then stops delivering to them at once', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    await appendEntry(app, room, alice, 'remove', bob);
    const membership = await b.next((f) => f.type === 'membership');
    expect(membership).toEqual({
      type: 'membership',
      room: room.id,
      position: 2,
      entry: toBase64Url(room.entries[2]!),
      appendedAt: expect.any(String),
    });
    const removed = await b.next((f) => f.type === 'removed');
    expect(removed).toEqual({ type: 'removed', room: room.id, reason: 'removed' });
    expect(b.frames.indexOf(membership)).toBeLessThan(b.frames.indexOf(removed));
    await a.next((f) => f.type === 'membership' && f.position === 2);

    await distributeKey(app, room, alice, [alice]);
    await sendOver(a, room.id, room.message(alice, 'after removal'));
    expect(await sendOver(b, room.id, room.message(bob, 'still here?'))).toMatchObject({
      code: 'NOT_A_MEMBER',
    });
    expect(await subscribe(b, room.id, 0)).toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(messagesOf(b, room.id)).toEqual([]);
  });

  it('pushes key envelopes to their recipient and join requests to subscribed members', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const channel = await createRoom(app, alice, 'channel');
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, channel.id);
    const request = await app.inject({
      method: 'POST',
      url: `/api/rooms/${channel.id}/join-requests`,
      headers: bob.auth,
      payload: {},
    });
    expect(request.statusCode).toBe(202);
    expect(await a.next((f) => f.type === 'join-request')).toEqual({
      type: 'join-request',
      room: channel.id,
      user: bob.id,
      username: bob.username,
    });
    await appendEntry(app, channel, alice, 'admit', bob);
    await distributeKey(app, channel, alice, [bob]);
    const key = await b.next((f) => f.type === 'key');
    expect(key).toMatchObject({ room: channel.id, epoch: 0, distributor: alice.id });
    void carol;
  });
});

describe('typing, presence and receipts', () => {
  it('relays typing to the other subscribers and refuses it unsubscribed', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    a.send({ type: 'typing', room: room.id, active: true });
    expect(await a.next((f) => f.type === 'error')).toMatchObject({
      code: 'NOT_SUBSCRIBED',
      ref: room.id,
    });
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    a.send({ type: 'typing', room: room.id, active: true });
    expect(await b.next((f) => f.type === 'typing')).toEqual({
      type: 'typing',
      room: room.id,
      user: alice.id,
      active: true,
    });
    a.send({ type: 'ping' });
    await a.next((f) => f.type === 'pong');
    expect(a.frames.filter((f) => f.type === 'typing')).toEqual([]);
  });

  it('relays presence, shows invisible as offline, and announces offline on close', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    a.send({ type: 'presence', status: 'away' });
    expect(await b.next((f) => f.type === 'presence')).toEqual({
      type: 'presence',
      user: alice.id,
      status: 'away',
    });
    a.send({ type: 'presence', status: 'invisible' });
    await b.next((f) => f.type === 'presence' && f.status === 'offline');
    a.send({ type: 'presence', status: 'online' });
    await b.next((f) => f.type === 'presence' && f.status === 'online');
    const from = b.frames.length;
    a.close();
    await b.next((f) => f.type === 'presence' && f.status === 'offline', 5000, from);
  });

  it('tells the people in a room that a member changed their profile (the fact, not the profile)', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    const changed = await app.inject({
      method: 'PATCH',
      url: '/api/me/profile',
      headers: alice.auth,
      payload: { statusMessage: 'on holiday' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(await b.next((f) => f.type === 'profile')).toEqual({
      type: 'profile',
      room: room.id,
      user: alice.id,
    });
    // Not echoed to the one who changed it.
    expect(a.frames.some((f) => f.type === 'profile')).toBe(false);
  });

  it('tells a newcomer the presence of members already there, but not of invisible ones', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await groupWith(app, alice, [bob, carol]);
    const [a, c] = [await connect(alice), await connect(carol)];
    a.send({ type: 'presence', status: 'dnd' });
    c.send({ type: 'presence', status: 'invisible' });
    await subscribe(a, room.id);
    await subscribe(c, room.id);
    const b = await connect(bob);
    await subscribe(b, room.id);
    expect(await b.next((f) => f.type === 'presence')).toEqual({
      type: 'presence',
      user: alice.id,
      status: 'dnd',
    });
    // A ping's answer comes after anything the query brought: carol stayed hidden.
    b.send({ type: 'ping' });
    await b.next((f) => f.type === 'pong');
    expect(b.frames.filter((f) => f.type === 'presence' && f.user === carol.id)).toEqual([]);
  });

  it('announces a status set before subscribing to the members already there', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const a = await connect(alice);
    await subscribe(a, room.id);
    const b = await connect(bob);
    b.send({ type: 'presence', status: 'away' });
    await subscribe(b, room.id);
    expect(await a.next((f) => f.type === 'presence')).toEqual({
      type: 'presence',
      user: bob.id,
      status: 'away',
    });
  });

  it('stores delivered and read markers, relays them, and refuses strangers', async () => {
    const [alice, bob, mallory] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await groupWith(app, alice, [bob]);
    const [a, b, m] = [await connect(alice), await connect(bob), await connect(mallory)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    for (let i = 0; i < 3; i++) await sendOver(a, room.id, room.message(alice, `r${i}`));
    b.send({ type: 'receipt', room: room.id, kind: 'delivered', seq: 3 });
    b.send({ type: 'receipt', room: room.id, kind: 'read', seq: 2 });
    b.send({ type: 'receipt', room: room.id, kind: 'read', seq: 99 });
    expect(await a.next((f) => f.type === 'receipt' && f.kind === 'read')).toEqual({
      type: 'receipt',
      room: room.id,
      user: bob.id,
      kind: 'read',
      seq: 3,
    });
    await a.next((f) => f.type === 'receipt' && f.kind === 'delivered' && f.seq === 3);
    const stored = (
      await app.inject({
        method: 'GET',
        url: `/api/rooms/${room.id}/receipts`,
        headers: alice.auth,
      })
    ).json<ReceiptList>();
    expect(stored.receipts.find((r) => r.userId === bob.id)).toEqual({
      userId: bob.id,
      deliveredSeq: 3,
      readSeq: 3,
    });

    m.send({ type: 'receipt', room: room.id, kind: 'read', seq: 1 });
    expect(await m.next((f) => f.type === 'error')).toMatchObject({
      code: 'NOT_A_MEMBER',
      ref: room.id,
    });

    // Markers never move back.
    const back = await app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/receipts`,
      headers: bob.auth,
      payload: { read: 1 },
    });
    expect(back.statusCode).toBe(204);
    const after = (
      await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/receipts`, headers: bob.auth })
    ).json<ReceiptList>();
    expect(after.receipts.find((r) => r.userId === bob.id)?.readSeq).toBe(3);
  });
});

describe('malformed frames', () => {
  it('answers each with an error frame, and closes with 4400 when they keep coming', async () => {
    const alice = await createPerson(app);
    const socket = await connect(alice);
    const room = toHex(generateId());
    const bad: [unknown, string][] = [
      ['{not json', 'MALFORMED_JSON'],
      [{ type: 'dance' }, 'VALIDATION_FAILED'],
      [{ type: 'subscribe', room, extra: 1 }, 'VALIDATION_FAILED'],
    ];
    for (const [frame, code] of bad) {
      const from = socket.frames.length;
      socket.send(frame);
      expect(await socket.next((f) => f.type === 'error', 5000, from)).toMatchObject({ code });
    }
    socket.send({ type: 'subscribe', room: 42 });
    expect(await socket.closed).toEqual({
      code: CloseCode.MALFORMED_FRAMES,
      reason: 'too many malformed frames',
    });
  });

  it('refuses wrong types, bad ids, bad base64 and negative sequence numbers', async () => {
    const alice = await createPerson(app);
    const room = toHex(generateId());
    const bad: unknown[] = [
      [1, 2],
      'null',
      { type: 'subscribe', room: 'ABC' },
      { type: 'subscribe', room, after: -1 },
      { type: 'send', room, envelope: 'a+b/' },
      { type: 'typing', room, active: 'yes' },
      { type: 'receipt', room, kind: 'seen', seq: 1 },
      { type: 'presence', status: 'busy' },
      { type: 'send', room, envelope: 'AB=' },
    ];
    for (const frame of bad) {
      const socket = await connect(alice);
      socket.send(frame);
      const error = await socket.next((f) => f.type === 'error');
      expect(error.code, JSON.stringify(frame)).toBe('VALIDATION_FAILED');
      socket.close();
    }
    const binary = await connect(alice);
    binary.socket.send(Buffer.from([1, 2, 3]));
    expect(await binary.next((f) => f.type === 'error')).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('closes with 1009 on a frame above the size limit', async () => {
    const alice = await createPerson(app);
    const socket = await connect(alice);
    socket.send({ type: 'ping', pad: 'x'.repeat(10_000) });
    expect((await socket.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
  });
});

describe('ephemeral rooms', () => {
  it('relays and acks messages with sequence numbers but stores none', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await createRoom(app, alice, 'group', { ephemeral: true });
    await appendEntry(app, room, alice, 'add', bob);
    await distributeKey(app, room, alice, [alice, bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(b, room.id, 0);
    const message = room.message(alice, 'gone with the wind');
    expect(await sendOver(a, room.id, message)).toMatchObject({ type: 'ack', seq: 1 });
    expect(await sendOver(a, room.id, message)).toMatchObject({ type: 'ack', seq: 1 });
    await b.next((f) => f.type === 'message' && f.seq === 1);
    const history = (
      await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: bob.auth })
    ).json<HistoryPage>();
    expect(history).toMatchObject({ messages: [], headSeq: 1 });
    const stored = await app.db
      .selectFrom('messages')
      .select('seq')
      .where('room_id', '=', room.id)
      .execute();
    expect(stored).toEqual([]);
  });
});
