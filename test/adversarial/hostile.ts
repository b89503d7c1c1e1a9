// The hostile network between one client and the real server: every frame and answer passes
// through test code, which may rewrite it, and raw text (not even JSON) can be injected on the open
// socket. Also records what the process did wrong meanwhile: an uncaught exception or an unhandled
// rejection is what ends a Node client, so each case asserts there was none.
import type { Transport, WebSocketConstructor, WebSocketLike } from '@parley/client';
import { nodeTransport } from '@parley/client/node';

export class HostileTransport implements Transport {
  readonly baseUrl: string;
  readonly fetch: Transport['fetch'];
  readonly WebSocket: WebSocketConstructor;
  /** Rewrites a JSON answer (return the value to deliver; a string is sent as it is). */
  answer: (method: string, path: string, body: unknown, url: URL) => unknown = (_m, _p, body) =>
    body;
  /** Rewrites a server frame's text (return the texts to deliver instead). */
  frames: (text: string) => string[] = (text) => [text];
  private deliver: (text: string) => void = () => undefined;

  constructor(baseUrl: string) {
    const inner = nodeTransport(baseUrl);
    this.baseUrl = baseUrl;
    this.fetch = async (input, init) => {
      const response = await inner.fetch(input, init);
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('json')) return response;
      const text = await response.text();
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      const url = new URL(input);
      const rewritten = this.answer(init?.method ?? 'GET', url.pathname, body, url);
      const out = typeof rewritten === 'string' ? rewritten : JSON.stringify(rewritten ?? null);
      return new Response(out, { status: response.status, headers: response.headers });
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const transport = this;
    const Inner = inner.WebSocket;
    this.WebSocket = class implements WebSocketLike {
      private readonly socket: WebSocketLike;
      constructor(url: string) {
        this.socket = new Inner(url);
      }
      get readyState(): number {
        return this.socket.readyState;
      }
      send(data: string): void {
        this.socket.send(data);
      }
      close(code?: number, reason?: string): void {
        this.socket.close(code, reason);
      }
      addEventListener(type: string, listener: (event: never) => void): void {
        if (type !== 'message') {
          this.socket.addEventListener(type as 'open', listener as () => void);
          return;
        }
        const deliver = (text: string): void =>
          (listener as (event: { data: unknown }) => void)({ data: text });
        transport.deliver = deliver;
        this.socket.addEventListener('message', (event) => {
          for (const out of transport.frames(String(event.data))) deliver(out);
        });
      }
    } as unknown as WebSocketConstructor;
  }

  /** Text the real server never sent, delivered on the open socket as a frame. */
  inject(frame: unknown): void {
    this.deliver(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
}

/** Collects uncaught exceptions and unhandled rejections from now until `stop()`. */
export function watchProcess(): { faults: unknown[]; stop(): void } {
  const faults: unknown[] = [];
  const onFault = (error: unknown): void => {
    faults.push(error);
  };
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  return {
    faults,
    stop() {
      process.off('uncaughtException', onFault);
      process.off('unhandledRejection', onFault);
    },
  };
}

/** Lets queued tasks, timers and socket events run. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An array nested `depth` deep, as JSON text (too deep for any recursive walk). */
export function deeplyNested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
