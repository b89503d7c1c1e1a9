// The messages between the bench's main thread and its load-generator worker threads.
import type { BenchRoom, Member } from './setup';

/** One WebSocket client: who it authenticates as and the room it subscribes to and sends in. */
export interface ClientSpec {
  member: Member;
  room: Pick<BenchRoom, 'id' | 'roomKey'>;
  /** Sockets subscribed to the room (each gets every message, the sender's own included). */
  roomSize: number;
}

export type WorkerRequest =
  | { type: 'init'; wsUrl: string; sendTimes: SharedArrayBuffer; index: number }
  | { type: 'connect'; clients: ClientSpec[]; subscribe: boolean }
  | { type: 'prepare'; rate: number; durationMs: number; firstNumber: number }
  | { type: 'arm'; first: number; end: number }
  | { type: 'go' }
  | { type: 'progress' }
  | { type: 'collect' }
  | { type: 'disconnect' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'connected'; open: number }
  | { type: 'prepared'; planned: number }
  | { type: 'armed' }
  | { type: 'sent'; sent: number; skipped: number; expected: number; elapsedMs: number }
  | { type: 'progress'; received: number }
  | { type: 'collected'; step: StepSamples }
  | { type: 'disconnected' }
  | { type: 'failed'; message: string };

/** What one worker saw of one step. */
export interface StepSamples {
  /** End-to-end latency (ms) of every delivery of a message of this step. */
  latencies: Float32Array;
  /** Send-to-ack latency (ms) of each of this step's messages this worker sent. */
  acks: Float32Array;
  /** Monotonic time (ms) of the last delivery of this step. */
  lastDeliveryAt: number;
  /** Deliveries of messages of an earlier step (the server was still catching up). */
  late: number;
  /** Error frames by code. */
  errors: Record<string, number>;
  /** Sockets the server closed, by close code. */
  closes: Record<string, number>;
}

/** Slots in the shared table of send times; numbers wrap around it. */
export const SEND_TIME_SLOTS = 1 << 21;
