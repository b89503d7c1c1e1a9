// Disappearing messages (PROTOCOL.md §6.6): when a message of a room with a timer is due to go.
// The earlier of the sender's signed clock and the server's commit time counts, so neither a
// sender's fast clock nor the server keeps a message longer than the room's members asked.
// Free of imports, so that the web app's chat screen uses it without loading the client.

/** When (ms since the epoch) `message` disappears under a timer of `timerSeconds`; undefined: never. */
export function disappearsAt(
  message: { clientTime: number; sentAt: string | undefined },
  timerSeconds: number,
): number | undefined {
  if (timerSeconds === 0) return undefined;
  const stored = message.sentAt === undefined ? Number.NaN : Date.parse(message.sentAt);
  const sent = Number.isNaN(stored) ? message.clientTime : Math.min(message.clientTime, stored);
  return sent + timerSeconds * 1000;
}

/** Whether `message` has disappeared by `now` under a timer of `timerSeconds`. */
export function hasDisappeared(
  message: { clientTime: number; sentAt: string | undefined },
  timerSeconds: number,
  now: number,
): boolean {
  const at = disappearsAt(message, timerSeconds);
  return at !== undefined && at <= now;
}
