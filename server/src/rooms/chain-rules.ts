// The membership rules of PROTOCOL.md §5.2, applied by the server to one new entry against its
// record of the current members. The server's reading decides who may read a room's ciphertext;
// what a member list *is* is decided by every client verifying the whole chain itself.
import {
  applyMembershipRule,
  messageTimerOf,
  toHex,
  type MembershipEntry,
  type Role,
  type RoomKind,
} from '@parley/crypto';

export type { Role };

/** What an allowed entry changes in the server's record. */
export type ChainEffect =
  | { kind: 'join'; userId: string }
  | { kind: 'depart'; userId: string }
  | { kind: 'role'; userId: string; role: Role }
  | { kind: 'timer'; seconds: number };

/**
 * The effect of `entry` on a room of `kind` whose current members and roles are `members`,
 * or undefined when §5.2 does not allow it. `entry` is not a genesis entry. The rule itself is
 * @parley/crypto's, the one every client replays the chain with.
 */
export function effectOf(
  entry: MembershipEntry,
  kind: RoomKind,
  members: ReadonlyMap<string, Role>,
): ChainEffect | undefined {
  const subject = toHex(entry.subjectId);
  const after = new Map(members);
  if (applyMembershipRule(entry, kind, after) === 'not-allowed') return undefined;
  if (entry.op === 'set-timer') return { kind: 'timer', seconds: messageTimerOf(entry) };
  const role = after.get(subject);
  if (role === undefined) return { kind: 'depart', userId: subject };
  if (!members.has(subject)) return { kind: 'join', userId: subject };
  return { kind: 'role', userId: subject, role };
}
