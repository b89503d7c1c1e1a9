// The load generator: worker threads holding the WebSocket clients, driven step by step from the
// bench's main thread. A step sends `rate` messages per second for a while, open-loop, then waits
// for every delivery, and reports throughput and latency percentiles.
import { Worker } from 'node:worker_threads';
import { cpuShares, readCpu, type CpuShares } from './cpu';
import type { ClientSpec, StepSamples, WorkerReply, WorkerRequest } from './protocol';
import { SEND_TIME_SLOTS } from './protocol';

export interface StepResult {
  /** Offered rate, messages per second (all clients together). */
  rate: number;
  durationMs: number;
  sent: number;
  /** Messages not sent because their client's socket was closed at the time. */
  skipped: number;
  /** Deliveries expected: every sent message to every socket subscribed to its room. */
  expected: number;
  received: number;
  lost: number;
  late: number;
  /** Deliveries per second from the first send to the last delivery. */
  deliveredPerSecond: number;
  /** End-to-end latency percentiles (ms); a delivery that never came counts as infinite. */
  p50: number;
  p99: number;
  max: number;
  /** Send-to-ack percentiles (ms): Parley acknowledges after the commit. */
  ackP50: number;
  ackP99: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  /** Everything delivered, no error, no closed socket, p99 under the bound. */
  pass: boolean;
  /** The step failed once and was run again (see harness.ts measuredStep). */
  retried?: boolean;
  /** Cores used from the first send to the last delivery: server, generator, PostgreSQL, the rest. */
  cpu: CpuShares | undefined;
}

export interface StepOptions {
  durationMs: number;
  /** How long to wait after the last send for the remaining deliveries. */
  drainMs: number;
  /** The p99 bound a step must meet to pass. */
  p99BoundMs: number;
}

const MIN_MESSAGES = 20;

const clockBase = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const now = () => clockBase + performance.now();

export class LoadGenerator {
  private readonly workers: WorkerHandle[];
  private nextNumber = 1;

  private constructor(workers: WorkerHandle[]) {
    this.workers = workers;
  }

  /** Starts `threads` worker threads that will talk to `wsUrl`. */
  static async start(wsUrl: string, threads: number): Promise<LoadGenerator> {
    const sendTimes = new SharedArrayBuffer(SEND_TIME_SLOTS * Float64Array.BYTES_PER_ELEMENT);
    const workers = await Promise.all(
      Array.from({ length: threads }, async (_, index) => {
        const worker = new WorkerHandle();
        await worker.started;
        worker.post({ type: 'init', wsUrl, sendTimes, index });
        return worker;
      }),
    );
    return new LoadGenerator(workers);
  }

  /** Opens, authenticates and (optionally) subscribes every client; returns how many are open. */
  async connect(clients: ClientSpec[], subscribe = true): Promise<number> {
    const shares = this.workers.map((): ClientSpec[] => []);
    clients.forEach((client, i) => shares[i % shares.length]!.push(client));
    const replies = await Promise.all(
      this.workers.map((worker, i) =>
        worker.ask({ type: 'connect', clients: shares[i]!, subscribe }, 'connected'),
      ),
    );
    return replies.reduce((sum, reply) => sum + reply.open, 0);
  }

  async disconnect(): Promise<void> {
    await Promise.all(
      this.workers.map((worker) => worker.ask({ type: 'disconnect' }, 'disconnected')),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /**
   * One step at `rate` messages per second; `serverPid` to account the server's CPU time. A step
   * lasts long enough for at least MIN_MESSAGES messages, so a low rate still gives a percentile
   * over more than a handful of messages.
   */
  async step(rate: number, stepOptions: StepOptions, serverPid?: number): Promise<StepResult> {
    const options = {
      ...stepOptions,
      durationMs: Math.max(stepOptions.durationMs, (MIN_MESSAGES * 1000) / rate),
    };
    const share = rate / this.workers.length;
    const first = this.nextNumber;
    let number = first;
    for (const worker of this.workers) {
      const { planned } = await worker.ask(
        { type: 'prepare', rate: share, durationMs: options.durationMs, firstNumber: number },
        'prepared',
      );
      number += planned;
    }
    this.nextNumber = number;
    if (number - first > SEND_TIME_SLOTS)
      throw new RangeError('step: too many messages in one step');
    await Promise.all(this.workers.map((w) => w.ask({ type: 'arm', first, end: number }, 'armed')));

    const cpuAtStart = serverPid === undefined ? undefined : readCpu(serverPid);
    const startedAt = now();
    const sentReplies = await Promise.all(
      this.workers.map((worker) => {
        const reply = worker.next('sent');
        worker.post({ type: 'go' });
        return reply;
      }),
    );
    const sent = sum(sentReplies.map((r) => r.sent));
    const skipped = sum(sentReplies.map((r) => r.skipped));
    const expected = sum(sentReplies.map((r) => r.expected));

    // Wait for the deliveries; past the drain time the step has failed, and the server is given
    // time to work off its backlog (deliveries stop arriving) so the next step starts clean.
    const sendEndedAt = now();
    let received = await this.received();
    let lastProgressAt = now();
    while (received < expected) {
      const waited = now() - sendEndedAt;
      if (waited > options.drainMs && now() - lastProgressAt > 500) break;
      if (waited > options.drainMs + 15_000) break;
      await sleep(20);
      const latest = await this.received();
      if (latest > received) lastProgressAt = now();
      received = latest;
    }

    const cpu = cpuShares(cpuAtStart, serverPid === undefined ? undefined : readCpu(serverPid));
    const collected = await Promise.all(
      this.workers.map(async (worker) => (await worker.ask({ type: 'collect' }, 'collected')).step),
    );
    return { ...summarise(rate, options, startedAt, sent, skipped, expected, collected), cpu };
  }

  private async received(): Promise<number> {
    const replies = await Promise.all(
      this.workers.map((worker) => worker.ask({ type: 'progress' }, 'progress')),
    );
    return sum(replies.map((r) => r.received));
  }
}

function summarise(
  rate: number,
  options: StepOptions,
  startedAt: number,
  sent: number,
  skipped: number,
  expected: number,
  steps: StepSamples[],
): Omit<StepResult, 'cpu'> {
  const latencies = concat(steps.map((s) => s.latencies));
  const acks = concat(steps.map((s) => s.acks));
  const received = latencies.length;
  const lastDeliveryAt = Math.max(...steps.map((s) => s.lastDeliveryAt));
  const errors = merge(steps.map((s) => s.errors));
  const closes = merge(steps.map((s) => s.closes));
  const lost = Math.max(0, expected - received);
  const p99 = percentile(latencies, expected, 0.99);
  return {
    rate,
    durationMs: options.durationMs,
    sent,
    skipped,
    expected,
    received,
    lost,
    late: sum(steps.map((s) => s.late)),
    // Over the step's window, or longer when the deliveries ran past it (the server fell behind).
    deliveredPerSecond:
      received === 0
        ? 0
        : received / (Math.max(options.durationMs, lastDeliveryAt - startedAt) / 1000),
    p50: percentile(latencies, expected, 0.5),
    p99,
    max: lost > 0 ? Infinity : latencies.length === 0 ? 0 : latencies[latencies.length - 1]!,
    ackP50: percentile(acks, sent, 0.5),
    ackP99: percentile(acks, sent, 0.99),
    errors,
    closes,
    pass:
      lost === 0 &&
      skipped === 0 &&
      Object.keys(errors).length === 0 &&
      Object.keys(closes).length === 0 &&
      p99 < options.p99BoundMs,
  };
}

/** The q-quantile of `total` samples of which `sorted` arrived; the missing ones are infinite. */
export function percentile(sorted: Float32Array, total: number, q: number): number {
  if (total === 0) return 0;
  const rank = Math.ceil(q * total) - 1;
  return rank < sorted.length ? sorted[rank]! : Infinity;
}

function concat(parts: Float32Array[]): Float32Array {
  const all = new Float32Array(sum(parts.map((p) => p.length)));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all.sort();
}

function merge(tables: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const table of tables) {
    for (const [key, value] of Object.entries(table)) merged[key] = (merged[key] ?? 0) + value;
  }
  return merged;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type ReplyOf<T extends WorkerReply['type']> = Extract<WorkerReply, { type: T }>;

/** A worker thread and a queue of callers waiting for its replies, by reply type. */
class WorkerHandle {
  private readonly worker: Worker;
  private readonly waiting = new Map<string, ((reply: WorkerReply) => void)[]>();
  private failure: Error | undefined;
  readonly started: Promise<void>;

  constructor() {
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./client-worker.ts', import.meta.url).href },
    });
    this.started = this.next('ready').then(() => {});
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'failed') {
        this.fail(new Error(`load generator thread failed: ${reply.message}`));
        return;
      }
      this.waiting.get(reply.type)?.shift()?.(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
  }

  post(request: WorkerRequest): void {
    this.worker.postMessage(request);
  }

  next<T extends WorkerReply['type']>(type: T): Promise<ReplyOf<T>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(type) ?? [];
      this.waiting.set(type, queue);
      queue.push((reply) =>
        reply.type === 'failed' ? reject(this.failure) : resolve(reply as ReplyOf<T>),
      );
    });
  }

  ask<T extends WorkerReply['type']>(request: WorkerRequest, type: T): Promise<ReplyOf<T>> {
    const reply = this.next(type);
    this.post(request);
    return reply;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure = error;
    const failed: WorkerReply = { type: 'failed', message: error.message };
    for (const queue of this.waiting.values()) for (const settle of queue.splice(0)) settle(failed);
  }
}
