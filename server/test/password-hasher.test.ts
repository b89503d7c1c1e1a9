import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import {
  createPasswordHasher,
  PRODUCTION_ARGON2,
  TEST_ONLY_ARGON2,
} from '../src/accounts/password-hasher';

describe('password hasher', () => {
  it('production parameters are at least OWASP’s Argon2id minimum', () => {
    // OWASP: m ≥ 19 MiB with t ≥ 2, or a stronger memory/time trade-off.
    expect(PRODUCTION_ARGON2.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(PRODUCTION_ARGON2.timeCost).toBeGreaterThanOrEqual(2);
    expect(PRODUCTION_ARGON2.parallelism).toBe(1);
  });

  it('hashes with Argon2id and the configured parameters, and verifies', async () => {
    const hasher = createPasswordHasher({
      parameters: PRODUCTION_ARGON2,
      maxConcurrent: 2,
      maxWaiting: 10,
    });
    const hash = await hasher.hash('a long enough password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=47104,p=1,t=2\$/);
    expect(await hasher.verify(hash, 'a long enough password')).toBe(true);
    expect(await hasher.verify(hash, 'another password')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
    expect(argon2.needsRehash(hash, PRODUCTION_ARGON2)).toBe(false);
  });

  it('never runs more hashes at once than allowed, and refuses a flood with SERVER_BUSY', async () => {
    const hasher = createPasswordHasher({
      parameters: TEST_ONLY_ARGON2,
      maxConcurrent: 2,
      maxWaiting: 4,
    });
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, hasher.semaphore.active)), 0);
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => hasher.hash(`password number ${i}`)),
    );
    clearInterval(sample);
    expect(peak).toBeLessThanOrEqual(2);
    const refused = attempts.filter((a) => a.status === 'rejected');
    // 2 run, 4 wait, 4 are refused at once.
    expect(refused).toHaveLength(4);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'SERVER_BUSY',
        statusCode: 503,
      });
  });

  it('spends as long on an unknown user as on a wrong password (production parameters)', async () => {
    const hasher = createPasswordHasher({
      parameters: PRODUCTION_ARGON2,
      maxConcurrent: 1,
      maxWaiting: 10,
    });
    const real = await hasher.hash('the real password');
    await hasher.verifyDummy('warm up');
    // Alternating rounds and medians, so load from elsewhere on the machine hits both sides alike.
    const wrongPassword: number[] = [];
    const unknownUser: number[] = [];
    const time = async (samples: number[], task: () => Promise<unknown>) => {
      const start = performance.now();
      await task();
      samples.push(performance.now() - start);
    };
    for (let round = 0; round < 5; round++) {
      await time(wrongPassword, () => hasher.verify(real, 'a wrong password'));
      await time(unknownUser, () => hasher.verifyDummy('a wrong password'));
    }
    const ratio = median(unknownUser) / median(wrongPassword);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
