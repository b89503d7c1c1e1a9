import { describe, expect, it } from 'vitest';
import { Semaphore, SemaphoreFullError } from '../src/concurrency/semaphore';

/** A task that runs until released, recording how many ran at once. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('Semaphore', () => {
  it('runs at most maxConcurrent tasks at once, in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const results = gates.map((g, i) =>
      semaphore.run(async () => {
        started.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await g.opened;
        running -= 1;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(semaphore.active).toBe(2);
    expect(semaphore.queued).toBe(3);
    gates[1]!.open();
    await results[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(semaphore.active).toBe(0);
  });

  it('refuses a task at once when the queue is full, without running it', async () => {
    const semaphore = new Semaphore(1, 1);
    const g = gate();
    const first = semaphore.run(() => g.opened);
    const second = semaphore.run(async () => 'second');
    let ranThird = false;
    await expect(
      semaphore.run(async () => {
        ranThird = true;
      }),
    ).rejects.toBeInstanceOf(SemaphoreFullError);
    expect(ranThird).toBe(false);
    g.open();
    await first;
    expect(await second).toBe('second');
  });

  it('frees the slot when a task throws', async () => {
    const semaphore = new Semaphore(1, 0);
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(semaphore.active).toBe(0);
    await expect(semaphore.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('checks its bounds', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(() => new Semaphore(1, -1)).toThrow(RangeError);
  });
});
