import { parleyError } from '../errors';

/**
 * Failed logins per account in a fixed window. @fastify/rate-limit runs one limiter per request,
 * and the per-IP one is taken, so the per-account bound lives here. Counting failures only means a
 * guessing attack locks the account's logins for the rest of the window, while its owner, who
 * knows the password, is only slowed by the same bound once others start guessing.
 * Counters live in this process's memory, bounded to `maxAccounts` (oldest dropped first).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    readonly maxAccounts = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws RATE_LIMITED while `account` has used up its failures for the window. */
  assertAllowed(account: string): void {
    const entry = this.current(account);
    if (entry !== undefined && entry.count >= this.maxFailures) {
      const seconds = Math.ceil((entry.resetAt - this.now()) / 1000);
      throw parleyError(
        'RATE_LIMITED',
        `Too many failed logins for this account; retry in ${seconds} s`,
      );
    }
  }

  recordFailure(account: string): void {
    const entry = this.current(account);
    if (entry !== undefined) {
      entry.count += 1;
      return;
    }
    if (this.failures.size >= this.maxAccounts) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(account, { count: 1, resetAt: this.now() + this.windowMs });
  }

  private current(account: string) {
    const entry = this.failures.get(account);
    if (entry !== undefined && entry.resetAt <= this.now()) {
      this.failures.delete(account);
      return undefined;
    }
    return entry;
  }
}
