import { parleyError } from '../errors';

export interface SocketGateLimits {
  /** Open WebSockets at most. */
  total: number;
  /** Open WebSockets from one client address. */
  perIp: number;
  /** WebSockets that have not authenticated yet. */
  unauthenticated: number;
}

/** One admitted socket: tells the gate when it authenticated and when it closed. */
export interface Admission {
  authenticated(): void;
  closed(): void;
}

/**
 * Counts WebSockets before their upgrade, so that too many are refused with an HTTP answer
 * (503 SERVER_BUSY, 429 TOO_MANY_CONNECTIONS) instead of being accepted and closed. A socket is
 * counted from its admission until its TCP connection closes, whatever happens in between.
 */
export class SocketGate {
  private open = 0;
  private waiting = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly limits: SocketGateLimits) {}

  /** Admits a socket from `ip`, or throws SERVER_BUSY / TOO_MANY_CONNECTIONS. */
  admit(ip: string): Admission {
    if (this.open >= this.limits.total) {
      throw parleyError('SERVER_BUSY', 'Too many WebSockets are open');
    }
    if (this.waiting >= this.limits.unauthenticated) {
      throw parleyError('SERVER_BUSY', 'Too many WebSockets are waiting to authenticate');
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.limits.perIp) throw parleyError('TOO_MANY_CONNECTIONS');
    this.open += 1;
    this.waiting += 1;
    this.perIp.set(ip, fromIp + 1);

    let waiting = true;
    let open = true;
    const stopWaiting = () => {
      if (!waiting) return;
      waiting = false;
      this.waiting -= 1;
    };
    return {
      authenticated: stopWaiting,
      closed: () => {
        stopWaiting();
        if (!open) return;
        open = false;
        this.open -= 1;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left === 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      },
    };
  }
}
