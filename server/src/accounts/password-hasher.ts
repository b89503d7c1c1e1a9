import argon2 from 'argon2';
import { parleyError } from '../errors';
import { Semaphore, SemaphoreFullError } from '../concurrency/semaphore';

/**
 * Argon2id password hashing behind a semaphore. Each hash holds one libuv thread and tens of MiB
 * for a few hundred milliseconds; without a bound a login storm would take every thread (and the
 * file and DNS work queued behind them) and starve the relay.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `hash`; a malformed hash is a mismatch. */
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Spends the same work as `verify` against a hash of nobody's password, so an unknown username
   * takes as long to refuse as a wrong password.
   */
  verifyDummy(password: string): Promise<void>;
  readonly semaphore: Semaphore;
  readonly parameters: Argon2Parameters;
}

export interface Argon2Parameters {
  /** KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Above OWASP's minimum for Argon2id (m = 19 MiB, t = 2, p = 1): m = 46 MiB, t = 2 costs about
 * 100 ms on one core of a current server.
 */
export const PRODUCTION_ARGON2: Argon2Parameters = {
  memoryCost: 47_104,
  timeCost: 2,
  parallelism: 1,
};

/** For test suites only (see BuildOptions.dangerouslyLowerPasswordHashingCostForTests). */
export const TEST_ONLY_ARGON2: Argon2Parameters = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export function createPasswordHasher(options: {
  parameters: Argon2Parameters;
  maxConcurrent: number;
  maxWaiting: number;
}): PasswordHasher {
  const { parameters } = options;
  const semaphore = new Semaphore(options.maxConcurrent, options.maxWaiting);
  const bounded = <T>(task: () => Promise<T>): Promise<T> =>
    semaphore.run(task).catch((error: unknown) => {
      if (error instanceof SemaphoreFullError) {
        throw parleyError('SERVER_BUSY', 'Too many sign-ins at once; try again shortly', error);
      }
      throw error;
    });
  let dummyHash: Promise<string> | undefined;

  const verify = (hash: string, password: string) =>
    bounded(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });

  return {
    semaphore,
    parameters,
    hash: (password) =>
      bounded(() => argon2.hash(password, { type: argon2.argon2id, ...parameters })),
    verify,
    async verifyDummy(password) {
      dummyHash ??= argon2.hash(crypto.getRandomValues(new Uint8Array(32)).join(','), {
        type: argon2.argon2id,
        ...parameters,
      });
      await verify(await dummyHash, password);
    },
  };
}
