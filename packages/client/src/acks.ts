// The server's acknowledgements of this device's messages, for `acked(id)`: callers waiting on a
// message yet to be acknowledged, and the sequence numbers of the recently acknowledged ones, so
// that asking about a message already acknowledged answers at once instead of never.

/** How many acknowledged messages are remembered (the oldest are forgotten first). */
export const REMEMBERED_ACKS = 1024;

export class AckBook {
  private readonly waiters = new Map<string, ((seq: number) => void)[]>();
  private readonly seqs = new Map<string, number>();

  /** Resolves with the message's sequence number: at once if it was acknowledged already. */
  wait(messageId: string): Promise<number> {
    const seq = this.seqs.get(messageId);
    if (seq !== undefined) return Promise.resolve(seq);
    return new Promise((resolve) => {
      const waiting = this.waiters.get(messageId) ?? [];
      waiting.push(resolve);
      this.waiters.set(messageId, waiting);
    });
  }

  /** The server committed the message at `seq`. */
  settle(messageId: string, seq: number): void {
    this.seqs.delete(messageId);
    this.seqs.set(messageId, seq);
    if (this.seqs.size > REMEMBERED_ACKS) this.seqs.delete(this.seqs.keys().next().value!);
    for (const resolve of this.waiters.get(messageId) ?? []) resolve(seq);
    this.waiters.delete(messageId);
  }
}
