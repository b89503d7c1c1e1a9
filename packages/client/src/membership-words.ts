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
    }
  })();
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** Who removed `me` from the room, when its chain's last word about `me` is someone's removal. */
export function removedBy(lines: readonly MembershipLine[], me: string): string | undefined {
  const last = lines.findLast((line) => line.subjectId === me && line.op !== 'genesis');
  return last?.op === 'remove' && last.actorId !== me ? last.actorId : undefined;
}
