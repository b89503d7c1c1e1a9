// One load-generator thread: a share of the WebSocket clients, each authenticated and subscribed
// to its room. Before a step it encrypts and signs every envelope it will send (so the measured
// window costs no crypto), then sends them open-loop at the requested rate, recording each send
// time in a table shared by all threads; whichever thread receives a message looks its send time
// up there by the number carried in the message id.
import { parentPort, workerData } from 'node:worker_threads';
import {
  encryptMessage,
  fromHex,
  identityKeyPair,
  messageHash,
  ready,
  type IdentityKeyPair,
} from '@parley/crypto';
import WebSocket from 'ws';
import { MESSAGE_ID_CHARS, MESSAGE_ID_OFFSET } from './layout';
import {
  SEND_TIME_SLOTS,
  type ClientSpec,
  type StepSamples,
  type WorkerReply,
  type WorkerRequest,
} from './protocol';
import { Samples } from './samples';

/** 200 characters: with the payload's framing the padded plaintext is one 256-byte bucket. */
const TEXT =
  'The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly; ' +
  'pack my box with five dozen liquor jugs, and how vexingly quick daft zebras jump over it!!';
/** Handshakes (open, auth, subscribe) in flight at once per thread. */
const CONNECTING = 64;
const RECONNECT_MS = 200;

const port = parentPort!;
void workerData;

/** Monotonic milliseconds on the clock every thread and process of this machine shares. */
const clockBase = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const now = () => clockBase + performance.now();

let wsUrl = '';
let sendTimes: Float64Array<ArrayBufferLike> = new Float64Array(0);
const clients: Client[] = [];
let disconnecting = false;

// ----- the current step -----
let planned: { client: Client; number: number; frame: string }[] = [];
let first = 0;
let end = 0;
let latencies = new Samples();
let acks = new Samples();
let lastDeliveryAt = 0;
let late = 0;
let errors: Record<string, number> = {};
let closes: Record<string, number> = {};
let rate = 0;
let cursor = 0;

// Requests are handled one after the other (`init` must finish before `connect` starts); `go`
// returns at once and sends on timers, so progress requests are answered during a step.
let handling = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  handling = handling
    .then(() => handle(request))
    .catch((error: unknown) =>
      reply({ type: 'failed', message: String((error as Error)?.stack ?? error) }),
    );
});
reply({ type: 'ready' });

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      await ready();
      wsUrl = request.wsUrl;
      sendTimes = new Float64Array(request.sendTimes);
      return;
    case 'connect': {
      disconnecting = false;
      const fresh = request.clients.map((spec) => new Client(spec, request.subscribe));
      clients.push(...fresh);
      await forEachLimit(fresh, CONNECTING, (client) => client.connect());
      reply({ type: 'connected', open: clients.filter((c) => c.open).length });
      return;
    }
    case 'prepare':
      prepare(request.rate, request.durationMs, request.firstNumber);
      reply({ type: 'prepared', planned: planned.length });
      return;
    case 'arm':
      first = request.first;
      end = request.end;
      reply({ type: 'armed' });
      return;
    case 'go':
      go();
      return;
    case 'progress':
      reply({ type: 'progress', received: latencies.length });
      return;
    case 'collect': {
      const step: StepSamples = {
        latencies: latencies.take(),
        acks: acks.take(),
        lastDeliveryAt,
        late,
        errors,
        closes,
      };
      latencies = new Samples();
      acks = new Samples();
      lastDeliveryAt = 0;
      late = 0;
      errors = {};
      closes = {};
      port.postMessage({ type: 'collected', step } satisfies WorkerReply, [
        step.latencies.buffer as ArrayBuffer,
        step.acks.buffer as ArrayBuffer,
      ]);
      return;
    }
    case 'disconnect':
      disconnecting = true;
      await Promise.all(clients.map((client) => client.close()));
      clients.length = 0;
      reply({ type: 'disconnected' });
      return;
  }
}

/** Encrypts this thread's share of the step: `rate × duration` messages, senders in turn. */
function prepare(stepRate: number, durationMs: number, firstNumber: number): void {
  rate = stepRate;
  const count = Math.round((stepRate * durationMs) / 1000);
  planned = [];
  for (let i = 0; i < count; i++) {
    const client = clients[cursor++ % clients.length]!;
    const number = firstNumber + i;
    planned.push({ client, number, frame: client.sendFrame(number) });
  }
}

/** Sends the planned messages open-loop: on schedule, whether or not earlier ones were answered. */
function go(): void {
  const start = now();
  let next = 0;
  let sent = 0;
  let skipped = 0;
  let expected = 0;
  const tick = () => {
    const due = Math.min(planned.length, Math.floor(((now() - start) * rate) / 1000) + 1);
    for (; next < due; next++) {
      const { client, number, frame } = planned[next]!;
      if (!client.open) {
        skipped += 1;
        continue;
      }
      sendTimes[number % SEND_TIME_SLOTS] = now();
      client.socket!.send(frame);
      sent += 1;
      expected += client.spec.roomSize;
    }
    if (next < planned.length) {
      setTimeout(tick, 1);
      return;
    }
    planned = [];
    reply({ type: 'sent', sent, skipped, expected, elapsedMs: now() - start });
  };
  tick();
}

function onMessageFrame(data: Buffer): void {
  const at = data.indexOf('"envelope":"', 40) + 12;
  const id = Buffer.from(
    data.toString('latin1', at + MESSAGE_ID_CHARS.start, at + MESSAGE_ID_CHARS.end),
    'base64url',
  );
  const number = id.readUInt32BE(MESSAGE_ID_CHARS.skip + 12);
  if (number < first || number >= end) {
    late += 1;
    return;
  }
  const at2 = now();
  latencies.push(at2 - sendTimes[number % SEND_TIME_SLOTS]!);
  lastDeliveryAt = at2;
}

function onAckFrame(data: Buffer): void {
  const at = data.indexOf('"messageId":"', 40) + 13;
  const number = Number.parseInt(data.toString('latin1', at + 24, at + 32), 16);
  if (number < first || number >= end) return;
  acks.push(now() - sendTimes[number % SEND_TIME_SLOTS]!);
}

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** One socket, its handshake, and what it needs to make its messages. */
class Client {
  socket: WebSocket | undefined;
  open = false;
  private readonly identity: IdentityKeyPair;
  private readonly userId: Uint8Array;
  private readonly roomId: Uint8Array;
  private counter = 0;
  private prevHash: Uint8Array = new Uint8Array();

  constructor(
    readonly spec: ClientSpec,
    private readonly subscribe: boolean,
  ) {
    this.identity = identityKeyPair(spec.member.identitySeed);
    this.userId = fromHex(spec.member.id);
    this.roomId = fromHex(spec.room.id);
  }

  /** A real envelope (PROTOCOL.md §6.4) whose message id carries `number`, as a `send` frame. */
  sendFrame(number: number): string {
    const messageId = crypto.getRandomValues(new Uint8Array(16));
    new DataView(messageId.buffer).setUint32(12, number);
    this.counter += 1;
    const { envelope } = encryptMessage({
      roomId: this.roomId,
      epoch: 0,
      roomKey: this.spec.room.roomKey,
      senderId: this.userId,
      sender: this.identity,
      counter: this.counter,
      prevHash: this.prevHash,
      clientTime: Date.now(),
      messageId,
      payload: { kind: 'text', text: TEXT },
    });
    this.prevHash = messageHash(envelope);
    const placed = envelope.subarray(MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + 16);
    if (Buffer.compare(placed, messageId) !== 0) {
      throw new Error('sendFrame: the message id is not where layout.ts says it is');
    }
    const text = Buffer.from(envelope).toString('base64url');
    return `{"type":"send","room":"${this.spec.room.id}","envelope":"${text}"}`;
  }

  /** Opens the socket, authenticates, subscribes (live only); resolves once subscribed. */
  connect(): Promise<void> {
    return new Promise((resolve) => {
      const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
      this.socket = socket;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        resolve();
      };
      socket.on('open', () =>
        socket.send(JSON.stringify({ type: 'auth', token: this.spec.member.token })),
      );
      socket.on('message', (data: Buffer) => {
        // `{"type":"` is 9 bytes: the next ones tell the frame's type without parsing it.
        if (data[9] === 0x6d && data[11] === 0x73) return onMessageFrame(data);
        if (data[9] === 0x61 && data[10] === 0x63) return onAckFrame(data);
        const frame = JSON.parse(String(data)) as { type: string; code?: string };
        if (frame.type === 'ready') {
          if (!this.subscribe) {
            this.open = true;
            settle();
          } else {
            socket.send(JSON.stringify({ type: 'subscribe', room: this.spec.room.id }));
          }
        } else if (frame.type === 'subscribed') {
          this.open = true;
          settle();
        } else if (frame.type === 'error') {
          count(errors, frame.code ?? 'UNKNOWN');
        }
      });
      socket.on('close', (code) => {
        this.open = false;
        settle();
        if (disconnecting || this.socket !== socket) return;
        count(closes, String(code));
        // The server closed it (slow consumer, restart): come back as a client would.
        setTimeout(() => {
          if (!disconnecting && this.socket === socket) void this.connect();
        }, RECONNECT_MS);
      });
      socket.on('error', () => {});
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.open = false;
    this.socket = undefined;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000);
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}
