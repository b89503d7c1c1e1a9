// The server sends what no schema allows. Each frame and answer below reached the client's code
// unchecked before the boundary (packages/client/src/boundary.ts) existed, and ended the Node
// process: `String()` of `{ "toString": 0 }` throws in the socket listener, and of an array nested
// 100,000 deep recurses past the stack in an async handler (an unhandled rejection). Now each is
// dropped with a `protocol-error` event naming its type and schema path, counted, and the
// client's state does not move. The fuzz part feeds mutated frames of every type and mutated
// answers of the routes the client reads, with fast-check.
import { MemoryKeyStore, type Client, type ProtocolViolation } from '@parley/client';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canSendIn, eventually, newDevice, startServer, type LiveServer } from '../e2e/harness';
import { deeplyNested, HostileTransport, settle, watchProcess } from './hostile';

describe('frames and answers that fail their schema', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let network: HostileTransport;
  let roomId: string;
  let violations: ProtocolViolation[];
  let watch: ReturnType<typeof watchProcess>;

  beforeAll(async () => {
    server = await startServer();
    network = new HostileTransport(server.baseUrl);
    alice = await newDevice(server);
    bob = await newDevice(server, { transport: network, keyStore: new MemoryKeyStore() });
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    for (const client of [alice, bob]) {
      client.connect();
      await client.connected();
    }
    roomId = (await alice.createGroup({ name: 'pair', members: ['bob'] })).roomId;
    await eventually(
      () => canSendIn(bob, roomId) || bob.syncRooms().then(() => false),
      10_000,
      'bob in the group',
    );
    violations = [];
    bob.on('protocol-error', (violation) => violations.push(violation));
  });

  beforeEach(() => {
    network.answer = (_m, _p, body) => body;
    violations.length = 0;
    watch?.stop();
    watch = watchProcess();
  });

  afterAll(async () => {
    watch?.stop();
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  /** What a frame or answer could move: the rooms as listed, and the outbox. */
  function state(): string {
    return JSON.stringify(
      { rooms: bob.listRooms(), pending: bob.pendingMessages() },
      (_key, value: unknown) => (value instanceof Map ? [...value.entries()] : value),
    );
  }

  it('drops a typing, ack or error frame with a field shaped { "toString": 0 }', async () => {
    const before = state();
    const counted = bob.protocolErrorCount;
    network.inject({ type: 'typing', room: roomId, user: { toString: 0 }, active: true });
    network.inject({ type: 'ack', room: roomId, messageId: { toString: 0 }, seq: 1 });
    network.inject({ type: 'error', code: { toString: 0 }, message: 'x', ref: 'y' });
    await settle();
    expect(watch.faults).toEqual([]);
    expect(violations.map((v) => [v.source, v.type, v.path])).toEqual([
      ['frame', 'typing', '/user'],
      ['frame', 'ack', '/messageId'],
      ['frame', 'error', '/code'],
    ]);
    expect(bob.protocolErrorCount).toBe(counted + 3);
    expect(state()).toBe(before);
  });

  it('drops a frame whose field is an array nested 100,000 deep', async () => {
    const before = state();
    const deep = deeplyNested(100_000);
    network.inject(`{"type":"error","code":${deep},"message":"x","ref":"y"}`);
    network.inject(`{"type":"receipt","room":"${roomId}","user":${deep},"kind":"read","seq":1}`);
    network.inject(deep);
    await settle();
    expect(watch.faults).toEqual([]);
    expect(violations.map((v) => v.type)).toEqual(['error', 'receipt', 'unknown']);
    expect(state()).toBe(before);
  });

  it('refuses an answer that fails its schema: BAD_RESPONSE, an event, the rooms unchanged', async () => {
    const before = state();
    network.answer = (method, path, body) =>
      method === 'GET' && path === '/api/rooms' ? { rooms: [{ id: { toString: 0 } }] } : body;
    await expect(bob.refreshRooms()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    expect(violations).toMatchObject([{ source: 'answer', type: 'GET /api/rooms' }]);
    expect(violations[0]!.path).toMatch(/^\/rooms\/0/);
    expect(state()).toBe(before);
    expect(watch.faults).toEqual([]);
  });

  it('survives mutated frames of every type (fuzz)', async () => {
    const user = bob.me!.userId;
    const templates: Record<string, unknown>[] = [
      { type: 'ready', user: { id: user, username: 'bob' } },
      { type: 'subscribed', room: roomId, head: 3 },
      { type: 'unsubscribed', room: roomId },
      { type: 'ack', room: roomId, messageId: roomId, seq: 4 },
      { type: 'message', room: roomId, seq: 5, envelope: 'AAAA', sentAt: new Date().toISOString() },
      { type: 'membership', room: roomId, position: 1, entry: 'AAAA' },
      { type: 'key', room: roomId, epoch: 2, distributor: user, envelope: 'AAAA' },
      { type: 'join-request', room: roomId, user, username: 'mallory' },
      { type: 'typing', room: roomId, user, active: true },
      { type: 'presence', user, status: 'online' },
      { type: 'receipt', room: roomId, user, kind: 'read', seq: 6 },
      // (room-updated takes null for its name and topic, which the mutations below use as a wrong
      // value: its checks are in packages/client/test/dispatch.test.ts.)
      { type: 'profile', room: roomId, user },
      { type: 'keys', room: roomId, user },
      { type: 'removed', room: roomId, reason: 'removed' },
      { type: 'error', code: 'RATE_LIMITED', message: 'slow down', ref: roomId },
      { type: 'pong' },
    ];
    const wrong = fc.oneof(
      fc.constant<unknown>({ toString: 0 }),
      fc.constant<unknown>(null),
      fc.array(fc.anything(), { minLength: 1, maxLength: 3 }),
      fc.dictionary(fc.string(), fc.anything(), { minKeys: 1, maxKeys: 3 }),
    );
    // Each mutation breaks the frame's schema: a field of another type, a field missing, a field
    // the schema does not allow, or text that is no frame at all.
    const mutated = fc.oneof(
      fc
        .record({ frame: fc.constantFrom(...templates), pick: fc.nat(), value: wrong })
        .filter(({ frame }) => Object.keys(frame).length > 1)
        .map(({ frame, pick, value }) => {
          const keys = Object.keys(frame).filter((key) => key !== 'type');
          return JSON.stringify({ ...frame, [keys[pick % keys.length]!]: value });
        }),
      fc
        .record({ frame: fc.constantFrom(...templates), pick: fc.nat() })
        .filter(({ frame }) => Object.keys(frame).length > 1)
        .map(({ frame, pick }) => {
          // `ref` of an error frame is optional; every other field is required.
          const keys = Object.keys(frame).filter((key) => key !== 'type' && key !== 'ref');
          const copy = { ...frame };
          delete copy[keys[pick % keys.length]!];
          return JSON.stringify(copy);
        }),
      fc
        .record({
          frame: fc.constantFrom(...templates),
          value: fc.anything().filter((value) => value !== undefined),
        })
        .map(({ frame, value }) => JSON.stringify({ ...frame, unexpected: value })),
      fc.string().filter((text) => !text.includes('"type"')),
      fc
        .jsonValue()
        .map((value) => JSON.stringify(value))
        .filter((text) => !text.includes('"type"')),
    );
    const before = state();
    fc.assert(
      fc.property(mutated, (text) => {
        const seen = violations.length;
        network.inject(text);
        expect(violations.length).toBe(seen + 1);
      }),
      { numRuns: 500 },
    );
    await settle(300);
    expect(watch.faults).toEqual([]);
    expect(state()).toBe(before);
  });

  it('survives mutated answers of the routes it reads (fuzz)', async () => {
    const calls: [string, RegExp, () => Promise<unknown>][] = [
      ['GET', /^\/api\/rooms$/, () => bob.refreshRooms()],
      ['GET', /^\/api\/rooms\/[0-9a-f]+\/receipts$/, () => bob.receipts(roomId)],
      ['GET', /^\/api\/rooms\/[0-9a-f]+\/messages$/, () => bob.history(roomId)],
      ['GET', /^\/api\/me$/, () => bob.myProfile()],
      ['GET', /^\/api\/users\/alice\/keys$/, () => bob.lookUp('alice')],
      ['GET', /^\/api\/attachments\/limits$/, () => bob.attachmentLimit()],
      ['GET', /^\/api\/auth\/rules$/, () => bob.accountRules()],
    ];
    const breakValue = (value: unknown): unknown =>
      Array.isArray(value) ? { toString: 0 } : [{ toString: 0 }];
    const before = state();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...calls),
        fc.nat(),
        fc.boolean(),
        async ([method, route, call], pick, whole) => {
          violations.length = 0;
          network.answer = (m, path, body) => {
            if (m !== method || !route.test(path)) return body;
            if (whole || typeof body !== 'object' || body === null) return breakValue(body);
            const keys = Object.keys(body);
            const key = keys[pick % keys.length]!;
            return { ...body, [key]: breakValue((body as Record<string, unknown>)[key]) };
          };
          await expect(call()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
          expect(violations).toHaveLength(1);
          expect(violations[0]!.source).toBe('answer');
        },
      ),
      { numRuns: 40 },
    );
    await settle();
    expect(watch.faults).toEqual([]);
    expect(state()).toBe(before);
  });
});
