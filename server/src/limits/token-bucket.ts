/**
 * A token bucket: holds up to `capacity` tokens, refilled evenly at `capacity` per `periodMs`,
 * so a client may burst to the capacity and then keep to the average. Refilled lazily on use.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly periodMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.updatedAt = clock();
  }

  /** Takes one token; false (taking none) when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled completely: it holds no memory of past use. */
  full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = now - this.updatedAt;
    this.updatedAt = now;
    if (elapsed > 0) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + (elapsed * this.capacity) / this.periodMs,
      );
    }
  }
}

/**
 * One bucket per key (an account), made on first use. Buckets that have refilled are dropped
 * once there are more than `sweepAbove`, so memory stays bounded by the active keys.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly capacity: number,
    readonly periodMs: number,
    private readonly sweepAbove = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAbove) this.sweep();
      bucket = new TokenBucket(this.capacity, this.periodMs, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full()) this.buckets.delete(key);
  }
}
