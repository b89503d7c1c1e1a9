// The membership chain read as the lines a chat shows between messages ("alice added bob",
// "bob left"). Each line comes from a verified, signed entry; only its time is the server's word
// (when it stored the entry), which is all a chat needs to place the line among messages.
import { decodeMembershipEntry, messageTimerOf, toHex, type MembershipOp } from '@parley/crypto';

export interface MembershipLine {
  roomId: string;
  /** The entry's position in the chain (0: the room's creation). */
  position: number;
  op: MembershipOp;
  /** Who signed the entry. */
  actorId: string;
  /** Whom it concerns (the actor for a leave; undefined for the creation). */
  subjectId: string | undefined;
  /** When the server stored it (ISO 8601), when the server said. */
  at: string | undefined;
  /** For `set-timer`: the message timer it set, in seconds (0: off). */
  timer?: number;
}

/** The lines of verified `entries`, from position `from` on, in chain order. */
export function membershipLines(
  roomId: string,
  entries: readonly Uint8Array[],
  times: ReadonlyMap<number, string>,
  from = 0,
): MembershipLine[] {
  return entries.slice(from).map((bytes) => {
    const entry = decodeMembershipEntry(bytes);
    return {
      roomId,
      position: entry.position,
      op: entry.op,
      actorId: toHex(entry.actorId),
      subjectId: entry.subjectId.length === 0 ? undefined : toHex(entry.subjectId),
      at: times.get(entry.position),
      ...(entry.op === 'set-timer' ? { timer: messageTimerOf(entry) } : {}),
    };
  });
}
