import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import type { ReceivedMessage, VerificationFailure } from '../src/events';
import { expectClientCode } from './helpers';
import { device, person, shutDown, startServer, type Device, type LiveServer } from './live';

let server: LiveServer;
let alice: Client;
let bob: Device;
let roomId: string;
const failures: VerificationFailure[] = [];
const received: ReceivedMessage[] = [];

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob');
  bob.parts.ctx.events.on('verification-failed', (failure) => failures.push(failure));
  bob.parts.ctx.events.on('message', (message) => received.push(message));
  roomId = (await alice.createGroup({ name: 'messages', members: ['bob'] })).roomId;
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

const said = async (text: string) => alice.acked((await alice.send(roomId, text)).messageId);

describe('Messages', () => {
  it('holds a message whose key has not come, and releases it when the key is fetched', async () => {
    const { chains, keys, messages, ctx } = bob.parts;
    const seq = await said('held back');
    // The server hides the room's keys for a while.
    bob.transport.rewrite = (method, path, body) =>
      method === 'GET' && path === `/api/rooms/${roomId}/keys` ? { envelopes: [] } : body;
    await chains.adopt(roomId);
    const room = ctx.rooms.get(roomId)!;
    expect(room.currentKey()).toBeUndefined();
    expect(await messages.catchUp(roomId)).toEqual([]);
    expect(room.heldCount).toBe(1);
    expect(room.lastSeq).toBe(0);
    expect(failures.at(-1)).toMatchObject({ code: 'MESSAGE_UNKNOWN_EPOCH', seq });
    bob.transport.rewrite = (_method, _path, body) => body;
    await keys.fetchKeys(room);
    expect(room.heldCount).toBe(0);
    expect(room.lastSeq).toBe(seq);
    expect(received.map((m) => m.text)).toEqual(['held back']);
  });

  it('sends what the other members read, verified, with this device as its sender', async () => {
    const open = bob.parts.ctx.events.next('connection', (event) => event.state === 'open');
    bob.parts.connection.start();
    await open;
    const heard = alice.next('message', (m) => m.roomId === roomId && m.text === 'from bob');
    const { messageId } = await bob.parts.messages.send(roomId, 'from bob');
    const message = await heard;
    await bob.parts.delivery.acked(messageId);
    expect(message).toMatchObject({
      messageId,
      senderId: bob.userId,
      senderName: 'bob',
      own: false,
    });
  });

  it('catches up in order from the last processed message and emits each', async () => {
    bob.parts.connection.stop();
    await bob.parts.ctx.drain();
    received.length = 0;
    await said('one');
    await said('two');
    const read = await bob.parts.messages.catchUp(roomId);
    // Everything after the last message this device processed: its own (sent, never read back
    // yet) included.
    expect(read.map((m) => [m.text, m.own])).toEqual([
      ['from bob', true],
      ['one', false],
      ['two', false],
    ]);
    expect(read.map((m) => m.seq)).toEqual([...read.map((m) => m.seq)].sort((a, b) => a - b));
    expect(received).toEqual(read);
    expect(await bob.parts.messages.catchUp(roomId)).toEqual([]);
  });

  it('leaves a tampered message out of history and reports it; the rest reads again', async () => {
    const { messages } = bob.parts;
    const before = failures.length;
    bob.transport.rewrite = (method, path, body) => {
      if (method !== 'GET' || path !== `/api/rooms/${roomId}/messages`) return body;
      const page = body as { messages: { seq: number; envelope: string }[] };
      return {
        ...page,
        messages: page.messages.map((m, i) =>
          i === 0 ? { ...m, envelope: m.envelope.slice(0, -4) + 'AAAA' } : m,
        ),
      };
    };
    let history: ReceivedMessage[];
    try {
      history = await messages.history(roomId, { limit: 10 });
    } finally {
      bob.transport.rewrite = (_method, _path, body) => body;
    }
    expect(history.map((m) => m.text)).toEqual(['from bob', 'one', 'two']);
    expect(failures.length).toBe(before + 1);
    const again = await messages.history(roomId, { limit: 10 });
    expect(again.map((m) => m.text)).toEqual(['held back', 'from bob', 'one', 'two']);
  });

  it('refuses to send in a room this device does not know', async () => {
    await expectClientCode(bob.parts.messages.send('ab'.repeat(16), 'x'), 'ROOM_NOT_FOUND');
  });
});
