import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import type { ReceivedMessage } from '../src/events';
import { disappearsAt } from '../src/disappearing';
import { describeMembership } from '../src/membership-words';
import { expectClientCode } from './helpers';
import {
  device,
  eventually,
  movableClock,
  person,
  shutDown,
  startServer,
  type Device,
  type LiveServer,
} from './live';

const HOUR_MS = 3600_000;
let server: LiveServer;
const clock = movableClock();
let alice: Device;
let bob: Client;
let carol: Client;

beforeAll(async () => {
  server = await startServer();
  alice = await device(server, 'alice', { connect: true, clock });
  bob = await person(server, 'bob');
  carol = await person(server, 'carol');
});

afterAll(async () => {
  await shutDown(alice);
  await Promise.all([bob.close(), carol.close()]);
  await server.close();
});

describe('disappearing messages', () => {
  it('go at the earlier of the signed send time and the server’s commit time', () => {
    const sentAt = new Date(1_000_000).toISOString();
    expect(disappearsAt({ clientTime: 2_000_000, sentAt }, 60)).toBe(1_060_000);
    expect(disappearsAt({ clientTime: 500_000, sentAt }, 60)).toBe(560_000);
    expect(disappearsAt({ clientTime: 500_000, sentAt: undefined }, 60)).toBe(560_000);
    expect(disappearsAt({ clientTime: 500_000, sentAt }, 0)).toBeUndefined();
  });

  it('follow a timer only an admin sets, which every member reads from the chain', async () => {
    const { membership } = alice.parts;
    const { roomId } = await membership.create('group', { name: 'timed' });
    await membership.change(roomId, 'add', bob.me!.userId);
    await bob.syncRooms();
    await expectClientCode(bob.setMessageTimer(roomId, 3600), 'NOT_ALLOWED');
    expect(bob.room(roomId).messageTimer).toBe(0);

    await membership.change(roomId, 'set-timer', alice.userId, 3600);
    expect(membership.view(roomId).messageTimer).toBe(3600);
    await eventually(async () => {
      await bob.syncRooms();
      return bob.room(roomId).messageTimer === 3600;
    }, 'bob sees the timer');
    const line = bob.membershipLog(roomId).at(-1)!;
    expect(describeMembership(line, bob.me!.userId, () => 'alice', 'group')).toBe(
      'Alice set messages to disappear after 1 hour',
    );
  });

  it('are not shown once due, in history or live, and their epochs’ keys are forgotten', async () => {
    clock.offsetMs = 0;
    const { membership, messages, ctx } = alice.parts;
    const { roomId } = await membership.create('group', { name: 'forgetful' });
    await membership.change(roomId, 'add', bob.me!.userId);
    await membership.change(roomId, 'add', carol.me!.userId);
    await membership.change(roomId, 'set-timer', alice.userId, 3600);
    await bob.syncRooms();
    await bob.send(roomId, 'in epoch 0');
    await eventually(async () => (await messages.history(roomId)).length === 1, 'history');
    await membership.change(roomId, 'remove', carol.me!.userId);
    const room = ctx.rooms.get(roomId)!;
    expect(room.knownEpochs()).toEqual([0, 1]);

    // Two hours on, on alice's device: the message is past its time.
    clock.offsetMs = 2 * HOUR_MS;
    expect(await messages.history(roomId)).toEqual([]);
    // The key of epoch 0, which ended more than an hour ago, is gone; the current one stays.
    expect(room.knownEpochs()).toEqual([1]);
    const live: ReceivedMessage[] = [];
    ctx.events.on('message', (message) => live.push(message));
    await bob.syncRooms();
    const { messageId } = await bob.send(roomId, 'sent now, but two hours ago for alice');
    await bob.acked(messageId);
    // Read from the server as after a reconnect, and live: neither shows it.
    expect(await messages.catchUp(roomId)).toEqual([]);
    expect(live.filter((message) => message.roomId === roomId)).toEqual([]);

    // Back in the present with the timer off, what the server still holds reads again (the key
    // of epoch 0 comes back from its envelope: the server deletes those only after the timer).
    clock.offsetMs = 0;
    await membership.change(roomId, 'set-timer', alice.userId, 0);
    expect((await messages.history(roomId)).map((message) => message.text)).toEqual([
      'in epoch 0',
      'sent now, but two hours ago for alice',
    ]);
  });
});
