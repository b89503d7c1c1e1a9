import { describe, expect, it } from 'vitest';
import type { MembershipLine } from '../src/membership-log';
import { describeMembership, describeTimer, removedBy } from '../src/membership-words';

const names: Record<string, string> = { a: 'alice', b: 'bob', c: 'carol' };
const nameOf = (id: string) => names[id] ?? id;
const line = (op: MembershipLine['op'], actorId: string, subjectId?: string): MembershipLine => ({
  roomId: 'r',
  position: 1,
  op,
  actorId,
  subjectId,
  at: undefined,
});

describe('membership lines', () => {
  it('say who did what, in the reader’s words', () => {
    const say = (l: MembershipLine, me = 'c') => describeMembership(l, me, nameOf, 'group');
    expect(say(line('genesis', 'a'))).toBe('Alice created the group');
    expect(say(line('genesis', 'c'))).toBe('You created the group');
    expect(say(line('add', 'a', 'b'))).toBe('Alice added bob');
    expect(say(line('remove', 'a', 'c'))).toBe('Alice removed you');
    expect(say(line('leave', 'b', 'b'))).toBe('Bob left');
    expect(say(line('admit', 'a', 'c'))).toBe('You joined');
    expect(say(line('promote', 'c', 'b'))).toBe('You made bob an admin');
    expect(describeMembership(line('genesis', 'a'), 'b', nameOf, 'direct')).toBe(
      'Alice started the conversation',
    );
  });

  it('say who set the message timer, in words', () => {
    const timer = (actorId: string, seconds: number) => ({
      ...line('set-timer', actorId, actorId),
      timer: seconds,
    });
    expect(describeMembership(timer('a', 3600), 'c', nameOf, 'group')).toBe(
      'Alice set messages to disappear after 1 hour',
    );
    expect(describeMembership(timer('c', 0), 'c', nameOf, 'direct')).toBe(
      'You turned off disappearing messages',
    );
    expect([0, 300, 3600, 86400, 604800, 90, 7200].map(describeTimer)).toEqual([
      'off',
      '5 minutes',
      '1 hour',
      '1 day',
      '1 week',
      '90 seconds',
      '2 hours',
    ]);
    // Setting the timer says nothing of being removed.
    expect(removedBy([line('remove', 'a', 'c'), timer('c', 60)], 'c')).toBe('a');
  });

  it('find who removed the reader, and nobody once they are back or left themselves', () => {
    expect(removedBy([line('add', 'a', 'c'), line('remove', 'a', 'c')], 'c')).toBe('a');
    expect(removedBy([line('remove', 'a', 'c'), line('add', 'b', 'c')], 'c')).toBeUndefined();
    expect(removedBy([line('add', 'a', 'c'), line('leave', 'c', 'c')], 'c')).toBeUndefined();
    expect(removedBy([line('remove', 'a', 'b')], 'c')).toBeUndefined();
  });
});
