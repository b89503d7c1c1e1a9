import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import { device, person, shutDown, startServer, type Device, type LiveServer } from './live';

let server: LiveServer;
let alice: Client;
let bob: Device;
let roomId: string;

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob');
  roomId = (await alice.createGroup({ name: 'delivery', members: ['bob'] })).roomId;
  await bob.parts.chains.adopt(roomId);
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

describe('Delivery', () => {
  it('keeps a message in the outbox while offline and sends it once the socket is up', async () => {
    const { messages, delivery, ctx, connection } = bob.parts;
    const { messageId } = await messages.send(roomId, 'queued');
    expect(delivery.pending(roomId)).toEqual([{ roomId, messageId, attempts: 0 }]);
    const heard = alice.next('message', (m) => m.messageId === messageId);
    const acked = ctx.events.next('acked', (event) => event.messageId === messageId);
    connection.start();
    const seq = await delivery.acked(messageId);
    expect(await acked).toEqual({ roomId, messageId, seq });
    expect((await heard).seq).toBe(seq);
    expect(delivery.pending()).toEqual([]);
    // Asked again after the fact, it answers at once.
    await expect(delivery.acked(messageId)).resolves.toBe(seq);
  });

  it('keeps a message the server refused for now, and drops one it refused for good', async () => {
    const { messages, delivery, ctx, connection } = bob.parts;
    connection.stop();
    const { messageId } = await messages.send(roomId, 'refused');
    const failed = ctx.events.next('send-failed', (event) => event.messageId === messageId);
    await delivery.onRefused(messageId, 'RATE_LIMITED', 'slow down');
    expect(delivery.pending().map((entry) => entry.messageId)).toEqual([messageId]);
    await delivery.onRefused(messageId, 'NOT_A_MEMBER', 'not yours');
    expect(delivery.pending()).toEqual([]);
    expect(await failed).toEqual({ roomId, messageId, code: 'NOT_A_MEMBER', detail: 'not yours' });
    expect(await ctx.store.keys('outbox:')).toEqual([]);
  });

  it('sends again after a silence, the same envelope, until acknowledged', async () => {
    const { messages, delivery, connection } = bob.parts;
    const open = bob.parts.ctx.events.next('connection', (event) => event.state === 'open');
    connection.start();
    await open;
    // The server's acknowledgement is lost on the way: the outbox must try again.
    const sends = () => bob.transport.sent.filter((frame) => frame.type === 'send');
    const before = sends().length;
    let dropped = 0;
    bob.transport.drop = (frame) => frame.type === 'ack' && dropped++ === 0;
    try {
      const { messageId } = await messages.send(roomId, 'again');
      const seq = await delivery.acked(messageId);
      const mine = sends().slice(before);
      expect(dropped).toBeGreaterThanOrEqual(2);
      expect(mine.length).toBe(2);
      expect(new Set(mine.map((frame) => frame.envelope)).size).toBe(1);
      const history = await messages.history(roomId);
      expect(history.filter((m) => m.text === 'again').map((m) => m.seq)).toEqual([seq]);
    } finally {
      bob.transport.drop = () => false;
    }
  });
});
