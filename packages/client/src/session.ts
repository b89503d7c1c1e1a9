// The session: the access and refresh tokens of this device's log-in, kept in the key store so a
// reload stays signed in. The access token is refreshed shortly before it expires (the WebSocket's
// auth frame needs a fresh one) and whenever the server says it expired; refreshes are
// single-flight, since the server treats a refresh token used twice as stolen.
import type { AuthResponse } from '@parley/wire';
import { tokenExpiry, type ServerApi, type TokenSource, type Tokens } from './api';
import { ClientError } from './errors';
import type { KeyStore } from './key-store/key-store';
import type { Clock, Tuning } from './options';

const SESSION_KEY = 'session';

export type AuthAnswer = Pick<AuthResponse, 'user' | 'accessToken' | 'refreshToken'>;

export class Session implements TokenSource {
  private tokens: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;
  /** The account the session is of (known before its keys are, on a new device). */
  userId: string | undefined;
  username: string | undefined;

  constructor(
    private readonly store: KeyStore,
    private readonly clock: Clock,
    private readonly tuning: Tuning,
    /** The API (which itself asks this session for tokens). */
    private readonly api: () => ServerApi,
  ) {}

  get isOpen(): boolean {
    return this.tokens !== undefined;
  }

  current(): Tokens | undefined {
    return this.tokens;
  }

  async load(): Promise<void> {
    const session = (await this.store.get(SESSION_KEY)) as Record<string, string> | undefined;
    if (session === undefined) return;
    this.tokens = { accessToken: session.accessToken!, refreshToken: session.refreshToken! };
    this.userId = session.userId;
    this.username = session.username;
  }

  async save(answer: AuthAnswer): Promise<void> {
    this.tokens = { accessToken: answer.accessToken, refreshToken: answer.refreshToken };
    this.userId = answer.user.id;
    this.username = answer.user.username;
    await this.store.set(SESSION_KEY, {
      ...this.tokens,
      userId: answer.user.id,
      username: answer.user.username,
    });
  }

  /** Forgets the tokens here and in the key store (the session ended). */
  async clear(): Promise<void> {
    this.tokens = undefined;
    await this.store.delete(SESSION_KEY);
  }

  refresh(): Promise<Tokens> {
    this.refreshing ??= (async () => {
      const tokens = this.tokens;
      if (tokens === undefined) throw new ClientError('NOT_SIGNED_IN', 'refresh', 'no session');
      try {
        const answer = await this.api().refresh(tokens.refreshToken);
        await this.save({
          ...answer,
          user: answer.user ?? { id: this.userId!, username: this.username! },
        });
        return this.tokens!;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** An access token with some life left in it (refreshed first when it is about to expire). */
  async freshAccessToken(): Promise<string> {
    const tokens = this.tokens;
    if (tokens === undefined) throw new ClientError('NOT_SIGNED_IN', 'connect', 'no session');
    const expiry = tokenExpiry(tokens.accessToken);
    if (expiry !== undefined && expiry - this.clock.now() < this.tuning.refreshMarginMs) {
      return (await this.refresh()).accessToken;
    }
    return tokens.accessToken;
  }
}
