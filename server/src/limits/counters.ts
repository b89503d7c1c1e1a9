import type { Redis } from 'ioredis';

/**
 * Counters of events in a fixed window (failed logins), and marks that expire (an address known
 * to an account). Both live in Redis when the deployment has one, so every process sees the
 * same numbers; else in this process, bounded.
 */
export interface Counters {
  /** Counts one event under `key`; the window starts at the first. Returns the tally. */
  add(key: string, now: number, windowMs: number): Promise<Tally>;
  get(key: string): Promise<Tally | undefined>;
  mark(key: string, ttlMs: number): Promise<void>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

export interface Tally {
  count: number;
  /** When the newest event was counted (ms since the epoch). */
  last: number;
}

/** In-process counters; at most `maxKeys` of them, the oldest dropped first. */
export function createMemoryCounters(maxKeys = 100_000, clock: () => number = Date.now): Counters {
  const entries = new Map<string, Tally & { expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > clock()) return entry;
    entries.delete(key);
    return undefined;
  };
  const put = (key: string, entry: Tally & { expiresAt: number }) => {
    if (entries.size >= maxKeys && !entries.has(key)) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(key, entry);
  };
  return {
    async add(key, now, windowMs) {
      const entry = live(key) ?? { count: 0, last: now, expiresAt: now + windowMs };
      entry.count += 1;
      entry.last = now;
      put(key, entry);
      return { count: entry.count, last: entry.last };
    },
    async get(key) {
      const entry = live(key);
      return entry === undefined ? undefined : { count: entry.count, last: entry.last };
    },
    async mark(key, ttlMs) {
      put(key, { count: 1, last: clock(), expiresAt: clock() + ttlMs });
    },
    async has(key) {
      return live(key) !== undefined;
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

// Count and stamp in one step; the expiry is set by the first event only (a fixed window).
const ADD = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count`;

export function createRedisCounters(redis: Redis, prefix: string): Counters {
  return {
    async add(key, now, windowMs) {
      const count = (await redis.eval(ADD, 1, prefix + key, now, windowMs)) as number;
      return { count, last: now };
    },
    async get(key) {
      const fields = await redis.hgetall(prefix + key);
      if (fields.count === undefined) return undefined;
      return { count: Number(fields.count), last: Number(fields.last) };
    },
    async mark(key, ttlMs) {
      await redis.set(prefix + key, '1', 'PX', ttlMs);
    },
    async has(key) {
      return (await redis.exists(prefix + key)) === 1;
    },
    async delete(key) {
      await redis.del(prefix + key);
    },
  };
}
