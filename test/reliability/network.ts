// What stands between the clients and the server processes in a reliability run: a load balancer
// that sends each new connection to a live process (the client's own one while it is up), and a
// network that records every frame in both directions and can cut a socket the way a failing
// network does (no close handshake).
import type { Transport, WebSocketConstructor, WebSocketLike } from '@parley/client';
import { nodeTransport } from '@parley/client/node';

/** The processes of one deployment, as a load balancer with health checks sees them. */
export class Deployment {
  private readonly down = new Set<number>();

  constructor(readonly origins: readonly string[]) {
    if (origins.length === 0) throw new Error('Deployment: give at least one origin');
  }

  /** Taken out of rotation (just before it is killed). */
  markDown(index: number): void {
    this.down.add(index);
  }

  markUp(index: number): void {
    this.down.delete(index);
  }

  /**
   * The origin a new connection of a client at home on `home` goes to: home when up, else the next
   * live one. With every process down it is still home (the connection fails and is retried),
   * which is what a client of a single-process deployment sees while the process restarts.
   */
  route(home: number): string {
    for (let step = 0; step < this.origins.length; step++) {
      const index = (home + step) % this.origins.length;
      if (!this.down.has(index)) return this.origins[index]!;
    }
    return this.origins[home % this.origins.length]!;
  }
}

/** A frame as it crossed the wire, with the socket it crossed on. */
export interface RecordedFrame {
  socket: number;
  direction: 'in' | 'out';
  frame: { type: string; [field: string]: unknown };
}

/** One client's network: routes through the deployment, records frames, cuts sockets on demand. */
export class ClientNetwork implements Transport {
  readonly baseUrl: string;
  readonly fetch: Transport['fetch'];
  readonly WebSocket: WebSocketConstructor;
  readonly frames: RecordedFrame[] = [];
  private readonly open = new Set<{ terminate(): void }>();
  private sockets = 0;
  cuts = 0;

  constructor(deployment: Deployment, home: number) {
    const inner = nodeTransport(deployment.route(home));
    this.baseUrl = deployment.origins[home]!;
    const reroute = (url: string) => {
      const target = new URL(url);
      const origin = new URL(deployment.route(home));
      target.protocol = target.protocol.startsWith('ws')
        ? origin.protocol.replace('http', 'ws')
        : origin.protocol;
      target.host = origin.host;
      return target.toString();
    };
    this.fetch = (input, init) => inner.fetch(reroute(input), init);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const network = this;
    const Inner = inner.WebSocket;
    this.WebSocket = class RecordedSocket implements WebSocketLike {
      private readonly socket: WebSocketLike & { terminate(): void };
      private readonly id = (network.sockets += 1);

      constructor(url: string) {
        this.socket = new Inner(reroute(url)) as WebSocketLike & { terminate(): void };
        const socket = this.socket;
        network.open.add(socket);
        socket.addEventListener('close', () => network.open.delete(socket));
        socket.addEventListener('message', (event) => {
          network.frames.push({ socket: this.id, direction: 'in', frame: parse(event.data) });
        });
      }

      get readyState(): number {
        return this.socket.readyState;
      }

      send(data: string): void {
        network.frames.push({ socket: this.id, direction: 'out', frame: parse(data) });
        this.socket.send(data);
      }

      close(code?: number, reason?: string): void {
        this.socket.close(code, reason);
      }

      addEventListener(type: string, listener: (event: never) => void): void {
        this.socket.addEventListener(type as 'open', listener as () => void);
      }
    } as unknown as WebSocketConstructor;
  }

  /** Cuts every open socket of this client abruptly; the client reconnects by itself. */
  cut(): void {
    if (this.open.size === 0) return;
    this.cuts += 1;
    for (const socket of this.open) socket.terminate();
  }
}

function parse(data: unknown): RecordedFrame['frame'] {
  try {
    const value = JSON.parse(String(data)) as unknown;
    if (typeof value === 'object' && value !== null && 'type' in value) {
      return value as RecordedFrame['frame'];
    }
  } catch {
    // Recorded as unparsable below.
  }
  return { type: '(not a frame)', raw: String(data).slice(0, 200) };
}
