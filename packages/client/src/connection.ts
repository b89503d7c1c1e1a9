// The WebSocket to the server: authenticate with the first frame, hand every server frame to the
// client, and reconnect with exponential backoff after any drop. What to do once connected
// (subscribe with resume, flush the outbox) is the client's; this only keeps a socket alive.
import { CloseCode } from '@parley/wire';
import { checkFrame, type CheckedFrame, type ProtocolViolation } from './boundary';
import type { ConnectionState } from './events';
import type { Clock, Logger, Tuning, WebSocketConstructor, WebSocketLike } from './options';

/** A frame from the server that passed its @parley/wire schema. */
export type ServerFrame = CheckedFrame;

export interface ConnectionHandler {
  /** The server accepted the token (`ready`): subscribe and send. */
  onReady(frame: ServerFrame): void;
  onFrame(frame: ServerFrame): void;
  /** A frame failed its schema and was dropped. */
  onProtocolError(violation: ProtocolViolation): void;
  onState(state: ConnectionState, attempt: number): void;
  /** A fresh access token for the auth frame (refreshed when needed). */
  accessToken(): Promise<string>;
  /** The server closed with 4001: the token was refused; refresh before the next attempt. */
  onAuthRejected(): Promise<void>;
  /**
   * The server closed with 4002: the session ended (logged out elsewhere, the account deleted).
   * The connection has stopped; `reason` is the server's (SESSION_REVOKED, ACCOUNT_DELETED).
   */
  onSessionEnded(reason: string): void;
}

const OPEN = 1;

export class Connection {
  private socket: WebSocketLike | undefined;
  private stopped = true;
  private ready = false;
  private attempt = 0;
  private timer: unknown;

  constructor(
    private readonly url: string,
    private readonly WebSocketClass: WebSocketConstructor,
    private readonly handler: ConnectionHandler,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly tuning: Tuning,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    socket?.close(1000, 'client closing');
  }

  /** Sends a frame if the socket is authenticated; false otherwise (the caller retries later). */
  send(frame: Record<string, unknown>): boolean {
    if (!this.ready || this.socket === undefined || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the current socket as a network failure would; the connection reconnects. */
  drop(): void {
    this.socket?.close(4000, 'dropped by the client');
  }

  private open(): void {
    if (this.stopped) return;
    this.handler.onState('connecting', this.attempt);
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(this.url);
    } catch (error) {
      this.logger.warn('cannot open the WebSocket', { error: String(error) });
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      void this.handler.accessToken().then(
        (token) => {
          if (this.socket === socket && socket.readyState === OPEN) {
            socket.send(JSON.stringify({ type: 'auth', token }));
          }
        },
        (error: unknown) => {
          this.logger.warn('no access token for the WebSocket', { error: String(error) });
          socket.close(1000, 'no session');
        },
      );
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      // Nothing a frame holds may throw out of this listener: in Node that ends the process.
      try {
        const checked = checkFrame(event.data);
        if (!checked.ok) {
          this.logger.warn('dropping a frame that fails its schema', { ...checked.violation });
          this.handler.onProtocolError(checked.violation);
          return;
        }
        const frame = checked.frame;
        if (frame.type === 'ready') {
          this.ready = true;
          this.attempt = 0;
          this.handler.onState('open', 0);
          this.handler.onReady(frame);
          return;
        }
        this.handler.onFrame(frame);
      } catch (error) {
        this.logger.error('a frame handler threw', { error: String(error) });
      }
    });
    socket.addEventListener('error', () => {
      // A 'close' event always follows; reconnecting happens there.
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.ready = false;
      this.handler.onState('closed', this.attempt);
      if (this.stopped) return;
      this.logger.info('WebSocket closed', { code: event.code });
      if (event.code === CloseCode.SESSION_ENDED) {
        // No token of this session will ever be accepted again: reconnecting cannot help.
        this.stopped = true;
        this.handler.onSessionEnded(event.reason);
        return;
      }
      if (event.code === CloseCode.UNAUTHENTICATED) {
        void this.handler.onAuthRejected().then(
          () => this.scheduleReconnect(),
          (error: unknown) => {
            this.logger.warn('session ended; not reconnecting', { error: String(error) });
            this.stopped = true;
          },
        );
        return;
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(this.tuning.reconnectMs * 2 ** this.attempt, this.tuning.maxReconnectMs);
    // Jitter, so that many clients dropped together do not all come back in the same instant.
    const jittered =
      delay / 2 + (delay / 2) * (crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32);
    this.attempt += 1;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.open(), jittered);
  }
}
