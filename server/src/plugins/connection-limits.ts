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
 * a new connection pushes out the oldest idle one, since an attacker's connections are idle by
 * nature and a real client's are busy; a connection that has waited longest for its first request
 * is the least likely to be one. Only when every connection is busy is the new one refused.
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
  /** Every open connection, oldest first (a Map keeps insertion order), and whether it is busy. */
  private readonly open = new Map<Socket, { address: string; busy: boolean }>();
  private readonly perAddress = new Map<string, number>();

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
    if (this.open.size >= this.max && !this.evictIdle()) {
      socket.destroy();
      return;
    }
    this.open.set(socket, { address, busy: false });
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => this.forget(socket));
  }

  busy(socket: Socket): void {
    const entry = this.open.get(socket);
    if (entry !== undefined) entry.busy = true;
  }

  idle(socket: Socket): void {
    const entry = this.open.get(socket);
    if (entry === undefined) return;
    entry.busy = false;
    // Idle again: moved to the back, so the ones idle the longest go first.
    this.open.delete(socket);
    this.open.set(socket, entry);
  }

  private evictIdle(): boolean {
    for (const [socket, entry] of this.open) {
      if (entry.busy) continue;
      this.forget(socket);
      socket.destroy();
      return true;
    }
    return false;
  }

  private forget(socket: Socket): void {
    const entry = this.open.get(socket);
    if (entry === undefined) return;
    this.open.delete(socket);
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, left);
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
