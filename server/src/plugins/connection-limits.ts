import type { Socket } from 'node:net';
import fp from 'fastify-plugin';

export interface ConnectionLimitsOptions {
  /** Open TCP connections at most. */
  maxConnections: number;
  /** Open TCP connections from one address; undefined: not applied (behind a proxy). */
  maxConnectionsPerIp: number | undefined;
}

/**
 * Caps on open TCP connections, applied as each one is accepted, so that idle or trickling
 * connections cannot use up the process's file descriptors (and with them every login, every new
 * socket and the database's own files).
 *
 * A connection is idle while no request is in flight on it: a new connection that has not sent
 * its headers yet (the slowloris kind), or a keep-alive one between requests. At the overall cap
 * a new connection pushes out an idle one, since an attacker's connections are idle by nature and
 * a real client's are busy: the one that has waited longest for its first request, else the
 * keep-alive one idle the longest. Only when every connection is busy is the new one refused.
 * WebSockets count as busy from their upgrade on. Time limits (headers, whole request) are
 * Node's, set in app.ts; this plugin caps counts only.
 *
 * Behind a proxy every connection comes from the proxy's address, so the per-address cap is off
 * there and the proxy limits clients.
 */
export const connectionLimitsPlugin = fp<ConnectionLimitsOptions>(
  async (app, options) => {
    for (const name of ['maxConnections', 'maxConnectionsPerIp'] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new TypeError(`connectionLimitsPlugin: options.${name} must be a positive integer`);
      }
    }
    const limits = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp);
    app.server.on('connection', (socket: Socket) => limits.accept(socket));
    app.addHook('onRequest', async (request) => limits.busy(request.raw.socket));
    app.addHook('onResponse', async (request) => {
      // An upgraded socket stays busy until it closes.
      if (request.raw.headers.upgrade === undefined) limits.idle(request.raw.socket);
    });
  },
  { name: 'parley-connection-limits', fastify: '5.x' },
);

class ConnectionLimits {
  /** Open connections and the address of each. */
  private readonly addressOf = new Map<Socket, string>();
  private readonly perAddress = new Map<string, number>();
  /** Idle connections that have not sent a request yet, oldest first (Sets keep insertion order). */
  private readonly fresh = new Set<Socket>();
  /** Keep-alive connections between requests, idle the longest first. */
  private readonly between = new Set<Socket>();

  constructor(
    private readonly max: number,
    private readonly maxPerAddress: number | undefined,
  ) {}

  accept(socket: Socket): void {
    const address = normaliseAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.maxPerAddress !== undefined && fromAddress >= this.maxPerAddress) {
      socket.destroy();
      return;
    }
    if (this.addressOf.size >= this.max && !this.evictIdle()) {
      socket.destroy();
      return;
    }
    this.addressOf.set(socket, address);
    this.perAddress.set(address, fromAddress + 1);
    this.fresh.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  busy(socket: Socket): void {
    this.fresh.delete(socket);
    this.between.delete(socket);
  }

  idle(socket: Socket): void {
    if (this.addressOf.has(socket)) this.between.add(socket);
  }

  /**
   * Makes room by closing an idle connection: first one that never sent a request (what idle
   * attackers hold), then a keep-alive one (its client reconnects when it next needs it).
   */
  private evictIdle(): boolean {
    for (const idle of [this.fresh, this.between]) {
      for (const socket of idle) {
        this.forget(socket);
        socket.destroy();
        return true;
      }
    }
    return false;
  }

  private forget(socket: Socket): void {
    const address = this.addressOf.get(socket);
    if (address === undefined) return;
    this.addressOf.delete(socket);
    this.fresh.delete(socket);
    this.between.delete(socket);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
