import { describe, expect, it } from 'vitest';
import type { MembershipLine } from '../src/membership-log';
import { describeMembership, removedBy } from '../src/membership-words';

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

  it('find who removed the reader, and nobody once they are back or left themselves', () => {
    expect(removedBy([line('add', 'a', 'c'), line('remove', 'a', 'c')], 'c')).toBe('a');
    expect(removedBy([line('remove', 'a', 'c'), line('add', 'b', 'c')], 'c')).toBeUndefined();
    expect(removedBy([line('add', 'a', 'c'), line('leave', 'c', 'c')], 'c')).toBeUndefined();
    expect(removedBy([line('remove', 'a', 'b')], 'c')).toBeUndefined();
  });
});
