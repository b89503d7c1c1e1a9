/**
 * Bounds how many tasks run at once; the rest wait in a FIFO queue of bounded length, and a task
 * arriving at a full queue is refused at once (so a flood fails fast instead of piling up memory
 * and latency).
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxWaiting: number = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`Semaphore: maxConcurrent must be an integer ≥ 1, got ${maxConcurrent}`);
    }
    if (!(maxWaiting >= 0)) {
      throw new RangeError(`Semaphore: maxWaiting must be ≥ 0, got ${maxWaiting}`);
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when a slot is free and resolves with its result. Rejects with a
   * SemaphoreFullError without running it when `maxWaiting` tasks already wait.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new SemaphoreFullError(this.maxWaiting));
    }
    // The slot passes straight to the next waiter, so `running` is not decremented in between and
    // a newcomer cannot jump the queue.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.running -= 1;
  }
}

export class SemaphoreFullError extends Error {
  override readonly name = 'SemaphoreFullError';
  readonly code = 'SEMAPHORE_FULL';
  constructor(maxWaiting: number) {
    super(`Semaphore.run: ${maxWaiting} tasks already waiting`);
  }
}
