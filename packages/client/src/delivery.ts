// Getting this device's messages to the server: the outbox (persisted, see outbox.ts) is sent
// whenever the socket is up, each entry again on a growing timer until the server acknowledges it,
// and an acknowledgement settles whoever waits on `acked(id)`. A refusal the server calls final
// takes the message out of the outbox as `send-failed`; a transient one leaves it for the retry.
import { toBase64Url } from '@parley/crypto';
import { AckBook } from './acks';
import type { ClientContext } from './context';
import type { Outbox } from './outbox';

/** Refusals that say "not now" rather than "never": the message stays for the next retry. */
const TRANSIENT: readonly string[] = ['RATE_LIMITED', 'SERVER_BUSY', 'INTERNAL', 'NOT_READY'];

export interface DeliveryLink {
  readonly isReady: boolean;
  send(frame: Record<string, unknown>): boolean;
}

export class Delivery {
  private readonly acks = new AckBook();
  private retryTimer: unknown;

  constructor(
    private readonly ctx: ClientContext,
    readonly outbox: Outbox,
    private readonly link: DeliveryLink,
  ) {}

  /** Sends every entry that is due, while the socket takes them; then waits for the next one. */
  flush(): void {
    if (!this.link.isReady) return;
    const now = this.ctx.clock.now();
    for (const entry of this.outbox.due(now)) {
      const sent = this.link.send({
        type: 'send',
        room: entry.roomId,
        envelope: toBase64Url(entry.envelope),
      });
      if (!sent) return;
      this.outbox.markSent(entry.messageId, now);
    }
    this.scheduleRetry();
  }

  /** The socket (re)connected: what waited for it goes now, not after its backoff. */
  reconnected(): void {
    this.outbox.resetBackoff();
  }

  /** The server committed one of our messages at `seq`. */
  async onAck(roomId: string, messageId: string, seq: number): Promise<void> {
    const entry = await this.outbox.remove(messageId);
    if (entry === undefined) return;
    this.ctx.events.emit('acked', { roomId, messageId, seq });
    this.acks.settle(messageId, seq);
  }

  /** The server refused the message `ref` (an error frame naming it) with `code`. */
  async onRefused(ref: string | undefined, code: string, detail: string): Promise<void> {
    const entry = ref === undefined ? undefined : this.outbox.get(ref);
    if (entry === undefined) return;
    if (TRANSIENT.includes(code)) return;
    await this.outbox.remove(entry.messageId);
    this.ctx.events.emit('send-failed', {
      roomId: entry.roomId,
      messageId: entry.messageId,
      code,
      detail,
    });
  }

  /**
   * Resolves with the server's sequence number once the message is acknowledged, at once for one
   * acknowledged already (the last 1,024 are remembered).
   */
  acked(messageId: string): Promise<number> {
    return this.acks.wait(messageId);
  }

  pending(roomId?: string): { roomId: string; messageId: string; attempts: number }[] {
    return this.outbox
      .pending(roomId)
      .map(({ roomId: room, messageId, attempts }) => ({ roomId: room, messageId, attempts }));
  }

  stop(): void {
    this.ctx.clock.clearTimeout(this.retryTimer);
  }

  private scheduleRetry(): void {
    const { clock } = this.ctx;
    clock.clearTimeout(this.retryTimer);
    const next = this.outbox.nextDue();
    if (next === undefined) return;
    this.retryTimer = clock.setTimeout(() => this.flush(), Math.max(0, next - clock.now()));
  }
}
