import type { FastifyInstance } from 'fastify';
import { parleyError } from '../errors';
import type { Counters } from '../limits/counters';

export interface LoginThrottleOptions {
  counters: Counters;
  /** Failures of one account from one address before each further one waits. */
  freeFailures: number;
  /** The wait doubles from one second with each failure past the free ones, up to this. */
  maxBackoffMs: number;
  /** Failures of one account from all addresses in `windowMs` before unknown addresses wait. */
  maxAccountFailures: number;
  windowMs: number;
  /** How long an address that logged in to an account stays known to it. */
  knownAddressMs?: number;
  clock?: () => number;
}

/**
 * Password guessing, slowed as OWASP's authentication cheat sheet advises: by the pair of account
 * and client address, not by the account alone, so that nobody locks a victim out by failing ten
 * logins in their name.
 * - Each (account, address) pair has a few free failures, then waits 1 s, 2 s, 4 s ... before
 *   each next try, up to `maxBackoffMs`; a successful login clears its pair.
 * - Failures of the account from all addresses are counted too; past `maxAccountFailures` in the
 *   window only addresses that have logged in to the account before may try, so a botnet that
 *   spreads its guesses over many addresses is stopped, and the owner at home is not.
 * Counters are shared by every process when the deployment has Redis (see Counters).
 */
export class LoginThrottle {
  private readonly clock: () => number;
  private readonly knownAddressMs: number;

  constructor(private readonly options: LoginThrottleOptions) {
    this.clock = options.clock ?? Date.now;
    this.knownAddressMs = options.knownAddressMs ?? 30 * 24 * 3600 * 1000;
  }

  /** Throws RATE_LIMITED while `account` may not be tried from `address`. */
  async assertAllowed(account: string, address: string): Promise<void> {
    const { counters, freeFailures, maxAccountFailures } = this.options;
    const now = this.clock();
    const pair = await counters.get(pairKey(account, address));
    if (pair !== undefined && pair.count >= freeFailures) {
      const wait = Math.min(this.options.maxBackoffMs, 1000 * 2 ** (pair.count - freeFailures));
      if (now < pair.last + wait) {
        const seconds = Math.ceil((pair.last + wait - now) / 1000);
        throw parleyError('RATE_LIMITED', `Too many failed logins; retry in ${seconds} s`);
      }
    }
    const all = await counters.get(accountKey(account));
    if (all !== undefined && all.count >= maxAccountFailures) {
      if (!(await counters.has(knownKey(account, address)))) {
        throw parleyError(
          'RATE_LIMITED',
          'Too many failed logins for this account; retry later from an address that logged in before',
        );
      }
    }
  }

  async recordFailure(account: string, address: string): Promise<void> {
    const { counters, windowMs } = this.options;
    const now = this.clock();
    await Promise.all([
      counters.add(pairKey(account, address), now, windowMs),
      counters.add(accountKey(account), now, windowMs),
    ]);
  }

  async recordSuccess(account: string, address: string): Promise<void> {
    const { counters } = this.options;
    await Promise.all([
      counters.delete(pairKey(account, address)),
      counters.mark(knownKey(account, address), this.knownAddressMs),
    ]);
  }
}

const pairKey = (account: string, address: string) => `login:pair:${account}:${address}`;
const accountKey = (account: string) => `login:account:${account}`;
const knownKey = (account: string, address: string) => `login:known:${account}:${address}`;

/**
 * The throttle on the app's configured limits. Its state is in `app.counters`, so every
 * password check (log in, password change, account deletion) counts against the same pairs.
 */
export function loginThrottleFor(app: FastifyInstance): LoginThrottle {
  const { limits } = app.config;
  return new LoginThrottle({
    counters: app.counters,
    freeFailures: limits.loginFreeFailures,
    maxBackoffMs: limits.loginBackoffMaxSeconds * 1000,
    maxAccountFailures: limits.loginPerAccountPer15Minutes,
    windowMs: 15 * 60_000,
  });
}
