// Membership lines in a chat ("Alice added Bob", "You left"): what each verified chain entry means
// to the person reading, in their words ("you" for themselves). Shared by the web app and the CLI,
// and free of imports so that the app's first screen does not load the client to use it.
import type { MembershipLine } from './membership-log';

type RoomKind = 'channel' | 'group' | 'direct' | undefined;

export function describeMembership(
  line: MembershipLine,
  me: string | undefined,
  nameOf: (userId: string) => string,
  kind: RoomKind,
): string {
  const who = (userId: string | undefined) =>
    userId === undefined ? 'someone' : userId === me ? 'you' : nameOf(userId);
  const actor = who(line.actorId);
  const subject = who(line.subjectId);
  const room = kind === 'channel' ? 'channel' : 'group';
  const sentence = (() => {
    switch (line.op) {
      case 'genesis':
        return kind === 'direct'
          ? `${actor} started the conversation`
          : `${actor} created the ${room}`;
      case 'add':
        return `${actor} added ${subject}`;
      case 'admit':
        return `${subject} joined`;
      case 'remove':
        return `${actor} removed ${subject}`;
      case 'leave':
        return `${subject} left`;
      case 'promote':
        return `${actor} made ${subject} an admin`;
      case 'demote':
        return `${actor} made ${subject} a member`;
      case 'set-timer':
        return line.timer === undefined || line.timer === 0
          ? `${actor} turned off disappearing messages`
          : `${actor} set messages to disappear after ${describeTimer(line.timer)}`;
    }
  })();
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** Who removed `me` from the room, when its chain's last word about `me` is someone's removal. */
export function removedBy(lines: readonly MembershipLine[], me: string): string | undefined {
  const last = lines.findLast(
    (line) => line.subjectId === me && line.op !== 'genesis' && line.op !== 'set-timer',
  );
  return last?.op === 'remove' && last.actorId !== me ? last.actorId : undefined;
}

/** The choices a UI offers for a room's message timer, in seconds (0: off). */
export const MESSAGE_TIMER_CHOICES = [0, 5 * 60, 60 * 60, 24 * 60 * 60, 7 * 24 * 60 * 60] as const;

/** A message timer in words: "5 minutes", "1 hour", "1 week"; "off" for 0. */
export function describeTimer(seconds: number): string {
  if (seconds === 0) return 'off';
  const units: [number, string][] = [
    [7 * 24 * 3600, 'week'],
    [24 * 3600, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, unit] = units.find(([size]) => seconds % size === 0)!;
  const count = seconds / size;
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
