// The membership rules of PROTOCOL.md §5.2, applied by the server to one new entry against its
// record of the current members. The server's reading decides who may read a room's ciphertext;
// what a member list *is* is decided by every client verifying the whole chain itself.
import { toHex, type MembershipEntry, type RoomKind } from '@parley/crypto';

export type Role = 'admin' | 'member';

/** What an allowed entry changes in the server's record. */
export type ChainEffect =
  | { kind: 'join'; userId: string }
  | { kind: 'depart'; userId: string }
  | { kind: 'role'; userId: string; role: Role };

/**
 * The effect of `entry` on a room of `kind` whose current members and roles are `members`,
 * or undefined when §5.2 does not allow it. `entry` is not a genesis entry.
 */
export function effectOf(
  entry: MembershipEntry,
  kind: RoomKind,
  members: ReadonlyMap<string, Role>,
): ChainEffect | undefined {
  const actor = toHex(entry.actorId);
  const subject = toHex(entry.subjectId);
  const actorRole = members.get(actor);
  const subjectRole = members.get(subject);
  const managed = kind === 'channel' || kind === 'group';
  switch (entry.op) {
    case 'add':
      return managed && actorRole === 'admin' && subjectRole === undefined
        ? { kind: 'join', userId: subject }
        : undefined;
    case 'admit':
      return kind === 'channel' && actorRole !== undefined && subjectRole === undefined
        ? { kind: 'join', userId: subject }
        : undefined;
    case 'remove':
      return managed && actorRole === 'admin' && subjectRole !== undefined && subject !== actor
        ? { kind: 'depart', userId: subject }
        : undefined;
    case 'promote':
      return managed && actorRole === 'admin' && subjectRole !== undefined
        ? { kind: 'role', userId: subject, role: 'admin' }
        : undefined;
    case 'demote':
      return managed && actorRole === 'admin' && subjectRole === 'admin' && subject !== actor
        ? { kind: 'role', userId: subject, role: 'member' }
        : undefined;
    case 'leave':
      return actorRole !== undefined && subject === actor
        ? { kind: 'depart', userId: subject }
        : undefined;
    case 'genesis':
      return undefined;
  }
}
