// Fuzzing the WebSocket frame parser over a real socket: every client frame type of @parley/wire,
// drawn from its schema, mutated field by field and byte by byte (blobs included, decoded and
// damaged), sent as text or as binary, oversized, or as the first frame before authentication.
// Every frame the server answers with must be a frame of the wire's ServerFrame schema, every
// error code a registered one, every close a code docs/ARCHITECTURE.md lists (CloseCode), the
// server must keep answering, and every table must hold what it held.
import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { toBase64Url } from '@parley/crypto';
import { clientFrameSchemas, CloseCode, ServerFrame, type ClientFrameType } from '@parley/wire';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ParleyApp } from '../../src/app';
import { createTestApp } from '../helpers';
import {
  createPerson,
  groupWith,
  listen,
  sendOver,
  TestSocket,
  type Person,
  type TestRoom,
} from '../rooms-fixtures';
import { mutationsOf, noise, valuesOf, type WireInput } from './inputs';
import { snapshotDifferences, snapshotTables } from './snapshot';

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS_PER_TYPE = Number(process.env.FUZZ_RUNS ?? 200);
/** How long the server may take to answer the marker that follows each fuzzed frame. */
const ANSWER_MS = 3000;

const DOCUMENTED_CLOSES = new Set<number>(Object.values(CloseCode));
const FRAME_TYPES = Object.keys(clientFrameSchemas) as ClientFrameType[];

describe('WebSocket frames under fuzzing', () => {
  let app: ParleyApp;
  let url: string;
  let caller: Person;
  let room: TestRoom;
  const seeds = {} as Record<ClientFrameType, Record<string, unknown>>;
  const codes = new Map<string, number>();

  beforeAll(async () => {
    app = await createTestApp();
    url = await listen(app);
    const owner = await createPerson(app);
    caller = await createPerson(app);
    // The caller is no member of the room: a well-formed frame about it is refused, not obeyed.
    room = await groupWith(app, owner, []);
    const ownerSocket = await TestSocket.authenticated(url, owner);
    for (const text of ['first', 'second']) {
      const answer = await sendOver(ownerSocket, room.id, room.message(owner, text));
      expect(answer.type).toBe('ack');
    }
    ownerSocket.close();
    Object.assign(seeds, {
      auth: { type: 'auth', token: caller.accessToken },
      subscribe: { type: 'subscribe', room: room.id, after: 0 },
      unsubscribe: { type: 'unsubscribe', room: room.id },
      send: {
        type: 'send',
        room: room.id,
        envelope: toBase64Url(room.message(caller, 'not a member').envelope),
      },
      typing: { type: 'typing', room: room.id, active: true },
      receipt: { type: 'receipt', room: room.id, kind: 'read', seq: 1 },
      presence: { type: 'presence', status: 'online' },
      ping: { type: 'ping' },
    } satisfies Record<ClientFrameType, Record<string, unknown>>);
  });

  afterAll(async () => {
    if (process.env.FUZZ_VERBOSE !== undefined) console.log(Object.fromEntries(codes));
    await app?.close();
  });

  it.each(FRAME_TYPES)(
    'an authenticated socket answers every hostile %s frame as documented',
    async (type) => {
      const before = await snapshotTables(app);
      const session = new FuzzSession(url, () => caller.accessToken, codes);
      const inputs = fc.oneof(
        { weight: 6, arbitrary: mutationsOf(seeds[type]) },
        {
          weight: 2,
          arbitrary: valuesOf(clientFrameSchemas[type]).map((value): WireInput => ({
            text: JSON.stringify(value),
          })),
        },
        { weight: 1, arbitrary: noise() },
      );
      try {
        await fc.assert(
          fc.asyncProperty(inputs, fc.boolean(), async (input, binary) => {
            await session.exchange(input, binary && 'bytes' in input);
          }),
          { seed: SEED, numRuns: RUNS_PER_TYPE, endOnFailure: true },
        );
      } finally {
        await session.end();
      }
      expect(session.problems).toEqual([]);
      expect(snapshotDifferences(before, await snapshotTables(app))).toEqual([]);
    },
    60_000,
  );

  it('a socket answers every hostile first frame (before authentication) with a documented close', async () => {
    const before = await snapshotTables(app);
    const problems: string[] = [];
    const inputs = fc.oneof(
      ...FRAME_TYPES.map((type) => mutationsOf(seeds[type])),
      valuesOf(clientFrameSchemas.auth).map((value): WireInput => ({
        text: JSON.stringify(value),
      })),
      noise(),
    );
    await fc.assert(
      fc.asyncProperty(inputs, async (input) => {
        const socket = await TestSocket.open(url);
        socket.send('text' in input ? input.text : Buffer.from(input.bytes));
        const closed = await Promise.race([socket.closed, delay(ANSWER_MS)]);
        for (const frame of socket.frames) problems.push(...frameProblems(frame, codes));
        if (closed === undefined) {
          // Only a valid token opens a session, and the inputs hold none.
          problems.push(`no close within ${ANSWER_MS} ms after ${describeInput(input)}`);
          socket.socket.terminate();
        } else if (!DOCUMENTED_CLOSES.has(closed.code)) {
          problems.push(`closed with ${closed.code} after ${describeInput(input)}`);
        }
      }),
      { seed: SEED, numRuns: RUNS_PER_TYPE, endOnFailure: true },
    );
    expect(problems).toEqual([]);
    expect(snapshotDifferences(before, await snapshotTables(app))).toEqual([]);
  }, 60_000);
});

/**
 * An authenticated socket kept open across cases (opened again when the server closes it). After
 * each fuzzed frame it sends a marker (an unsubscribe of a fresh room id, answered by name), so
 * that every answer to the frame has arrived, or the socket has closed, before the next case.
 */
class FuzzSession {
  readonly problems: string[] = [];
  private socket: TestSocket | undefined;
  private checked = 0;

  constructor(
    private readonly url: string,
    private readonly token: () => string,
    private readonly codes: Map<string, number>,
  ) {}

  async exchange(input: WireInput, binary: boolean): Promise<void> {
    const socket = await this.open();
    const payload =
      'text' in input
        ? input.text
        : binary
          ? Buffer.from(input.bytes)
          : Buffer.from(input.bytes).toString('utf8');
    socket.socket.send(payload, { binary });
    const marker = randomBytes(16).toString('hex');
    socket.send({ type: 'unsubscribe', room: marker });
    const answered = await Promise.race([
      socket
        .next(
          (frame) => frame.type === 'unsubscribed' && frame.room === marker,
          ANSWER_MS,
          this.checked,
        )
        .then(
          () => 'answered' as const,
          () => 'silent' as const,
        ),
      socket.closed.then(() => 'closed' as const),
    ]);
    this.check(socket);
    if (answered === 'silent') {
      this.problems.push(`no answer within ${ANSWER_MS} ms after ${describeInput(input)}`);
      socket.socket.terminate();
    }
    if (answered !== 'answered') {
      const { code } = await socket.closed;
      if (!DOCUMENTED_CLOSES.has(code)) {
        this.problems.push(`closed with ${code} after ${describeInput(input)}`);
      }
      this.codes.set(`close ${code}`, (this.codes.get(`close ${code}`) ?? 0) + 1);
      this.socket = undefined;
    }
    if (this.problems.length > 0) throw new Error(this.problems.join('\n'));
  }

  async end(): Promise<void> {
    if (this.socket !== undefined) {
      this.check(this.socket);
      this.socket.close();
      await this.socket.closed;
    }
  }

  private async open(): Promise<TestSocket> {
    if (this.socket !== undefined && this.socket.socket.readyState === WebSocket.OPEN) {
      return this.socket;
    }
    const socket = await TestSocket.open(this.url);
    socket.send({ type: 'auth', token: this.token() });
    await socket.next((frame) => frame.type === 'ready');
    this.socket = socket;
    this.checked = socket.frames.length;
    return socket;
  }

  private check(socket: TestSocket): void {
    for (const frame of socket.frames.slice(this.checked)) {
      this.problems.push(...frameProblems(frame, this.codes));
    }
    this.checked = socket.frames.length;
  }
}

/** Why a frame from the server breaks the wire's contract (empty when it does not). */
function frameProblems(frame: unknown, codes: Map<string, number>): string[] {
  const type = (frame as { type?: unknown }).type;
  const key =
    type === 'error' ? `error ${String((frame as { code?: unknown }).code)}` : String(type);
  codes.set(key, (codes.get(key) ?? 0) + 1);
  if (Value.Check(ServerFrame, frame)) return [];
  return [`a frame outside the wire's ServerFrame schema: ${JSON.stringify(frame).slice(0, 300)}`];
}

function describeInput(input: WireInput): string {
  const text = 'text' in input ? input.text : `bytes ${Buffer.from(input.bytes).toString('hex')}`;
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
