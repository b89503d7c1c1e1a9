import type { Room } from '@parley/wire';
import { describe, expect, it } from 'vitest';
import { RoomState } from '../src/room-state';
import { describe as describeRoom, hasExpired, noteActivity, viewOf } from '../src/room-view';

const roomId = 'ab'.repeat(16);

function answer(overrides: Partial<Room> = {}): Room {
  return {
    id: roomId,
    kind: 'channel',
    name: 'general',
    topic: null,
    tags: ['news'],
    peer: null,
    ephemeral: false,
    expiresAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    headSeq: 9,
    chainHead: 0,
    epoch: 0,
    memberCount: 1,
    lastActivityAt: '2026-01-02T00:00:00.000Z',
    membership: { role: 'member', deliveredSeq: 9, readSeq: 4, unread: 5 },
    ...overrides,
  };
}

describe('room views', () => {
  it("takes the server's description and summary, and shows them", () => {
    const room = new RoomState(roomId);
    describeRoom(room, answer());
    const view = viewOf(room, true);
    expect(view).toMatchObject({
      roomId,
      info: { name: 'general', topic: undefined, tags: ['news'] },
      unread: 5,
      lastActivity: '2026-01-02T00:00:00.000Z',
      ephemeral: false,
      expiresAt: null,
      // No key of the current epoch on this device: nothing to send with.
      canSend: false,
    });
    expect(view.members.size).toBe(0);
  });

  it('counts a live message as unread unless it is our own or already read', () => {
    const room = new RoomState(roomId);
    describeRoom(room, answer());
    noteActivity(room, 10, false, '2026-01-03T00:00:00.000Z');
    noteActivity(room, 11, true, '2026-01-04T00:00:00.000Z');
    noteActivity(room, 3, false, '2026-01-01T00:00:00.000Z');
    expect(room.summary).toMatchObject({ unread: 6, lastActivity: '2026-01-04T00:00:00.000Z' });
  });

  it("counts once a message the server's unread count already holds (caught up after the list)", () => {
    const room = new RoomState(roomId);
    describeRoom(room, answer());
    for (const seq of [5, 6, 7, 8, 9]) noteActivity(room, seq, false, undefined);
    expect(room.summary!.unread).toBe(5);
    noteActivity(room, 10, false, undefined);
    noteActivity(room, 10, false, undefined);
    expect(room.summary!.unread).toBe(6);
  });

  it('says a room is over once the expiry the server gave has passed', () => {
    const room = new RoomState(roomId);
    expect(hasExpired(room, Date.now())).toBe(false);
    describeRoom(room, answer({ expiresAt: '2026-01-08T00:00:00.000Z' }));
    expect(hasExpired(room, Date.parse('2026-01-07T23:59:59.000Z'))).toBe(false);
    expect(hasExpired(room, Date.parse('2026-01-08T00:00:00.000Z'))).toBe(true);
  });
});
