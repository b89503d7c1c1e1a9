import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../src/key-store/memory';
import { Outbox } from '../src/outbox';

const policy = { firstRetryMs: 1000, maxRetryMs: 8000 };

function entry(roomId: string, counter: number, createdAt = counter) {
  return {
    roomId,
    messageId: `${roomId}-${counter}`,
    counter,
    envelope: new Uint8Array([counter, 1, 2]),
    createdAt,
  };
}

async function add(store: MemoryKeyStore, outbox: Outbox, ...entries: ReturnType<typeof entry>[]) {
  for (const item of entries) {
    const { change, commit } = outbox.addition(item);
    await store.batch([change]);
    commit();
  }
}

describe('Outbox', () => {
  it('keeps entries across a restart with the same envelope bytes, due at once', async () => {
    const store = new MemoryKeyStore();
    const outbox = await Outbox.load(store, policy);
    await add(store, outbox, entry('r1', 1), entry('r1', 2));
    outbox.markSent('r1-1', 0);
    const restarted = await Outbox.load(store, policy);
    expect(restarted.pending().map((e) => e.messageId)).toEqual(['r1-1', 'r1-2']);
    expect(restarted.get('r1-1')?.envelope).toEqual(new Uint8Array([1, 1, 2]));
    expect(restarted.due(0).map((e) => e.messageId)).toEqual(['r1-1', 'r1-2']);
  });

  it('retries with doubling backoff up to the cap, and stops when acknowledged', async () => {
    const store = new MemoryKeyStore();
    const outbox = await Outbox.load(store, policy);
    await add(store, outbox, entry('r1', 1));
    const sends: number[] = [];
    for (let now = 0; now <= 30_000; now += 500) {
      for (const due of outbox.due(now)) {
        sends.push(now);
        outbox.markSent(due.messageId, now);
      }
    }
    expect(sends.slice(0, 5)).toEqual([0, 1000, 3000, 7000, 15000]);
    expect(sends[5]).toBe(23000);
    expect(outbox.nextDue()).toBe(31000);
    await outbox.remove('r1-1');
    expect(outbox.due(100_000)).toEqual([]);
    expect(await store.keys('outbox:')).toEqual([]);
    expect(outbox.nextDue()).toBeUndefined();
  });

  it('sends a room in counter order and holds later messages behind one still waiting', async () => {
    const store = new MemoryKeyStore();
    const outbox = await Outbox.load(store, policy);
    await add(store, outbox, entry('r1', 2, 5), entry('r1', 1, 6), entry('r2', 1, 1));
    expect(outbox.due(0).map((e) => e.messageId)).toEqual(['r2-1', 'r1-1', 'r1-2']);
    outbox.markSent('r1-1', 0);
    // r1-2 is not sent past r1-1 while r1-1 waits for its retry.
    expect(outbox.due(10).map((e) => e.messageId)).toEqual(['r2-1']);
    expect(outbox.due(10, new Set(['r1']))).toEqual([]);
    outbox.resetBackoff();
    expect(outbox.due(10, new Set(['r1'])).map((e) => e.messageId)).toEqual(['r1-1', 'r1-2']);
  });
});
