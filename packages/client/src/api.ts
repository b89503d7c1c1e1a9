// The server's REST routes as typed calls: JSON in and out, `{ error: { code, message } }` turned
// into a ClientError with the server's code, a timeout on every request, and one refresh of the
// access token when it has expired. Everything route-specific lives here, in one place.
import { fromBase64Url } from '@parley/crypto';
import { isErrorCode } from '@parley/wire';
import { checkAnswer, type ProtocolViolation } from './boundary';
import { ClientError } from './errors';
import type { Clock, Logger, Transport } from './options';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** How the API gets and renews the session's tokens (the client keeps them in the key store). */
export interface TokenSource {
  current(): Tokens | undefined;
  /** Exchanges the refresh token (single-flight); rejects when the session is over. */
  refresh(): Promise<Tokens>;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw bytes to send instead of a JSON body (avatars, encrypted attachments). */
  bytes?: { data: Uint8Array; contentType: string };
  /** Sends the access token; on TOKEN_EXPIRED refreshes once and retries. Default true. */
  auth?: boolean;
  query?: Record<string, string | number | undefined>;
}

export class ServerApi {
  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenSource,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    /** Told of every answer that fails its schema (the request then fails with BAD_RESPONSE). */
    private readonly onViolation: (violation: ProtocolViolation) => void = () => {},
  ) {}

  get baseUrl(): string {
    return this.transport.baseUrl.replace(/\/+$/, '');
  }

  /** The WebSocket endpoint: the base URL with ws(s) for http(s), at /ws. */
  get socketUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws`;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return this.withRefresh(options, () => this.once<T>(method, path, options, 'json'));
  }

  /** A request whose answer is raw bytes (an avatar, an attachment). */
  async requestBytes(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ data: Uint8Array; contentType: string }> {
    return this.withRefresh(options, () =>
      this.once<{ data: Uint8Array; contentType: string }>(method, path, options, 'bytes'),
    );
  }

  private async withRefresh<T>(options: RequestOptions, attempt: () => Promise<T>): Promise<T> {
    const auth = options.auth ?? true;
    try {
      return await attempt();
    } catch (error) {
      if (!auth || !(error instanceof ClientError) || error.code !== 'TOKEN_EXPIRED') throw error;
      await this.tokens.refresh();
      return attempt();
    }
  }

  private async once<T>(
    method: string,
    path: string,
    options: RequestOptions,
    answer: 'json' | 'bytes',
  ): Promise<T> {
    const auth = options.auth ?? true;
    const operation = `${method} ${path.replace(/[0-9a-f]{32}/g, ':id')}`;
    const headers: Record<string, string> = {
      accept: answer === 'json' ? 'application/json' : '*/*',
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.bytes !== undefined) headers['content-type'] = options.bytes.contentType;
    if (auth) {
      const tokens = this.tokens.current();
      if (tokens === undefined) {
        throw new ClientError('NOT_SIGNED_IN', operation, 'no session on this device; log in');
      }
      headers.authorization = `Bearer ${tokens.accessToken}`;
    }
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const abort = new AbortController();
    const timer = this.clock.setTimeout(() => abort.abort(), this.timeoutMs);
    let response: Response;
    let raw: Uint8Array;
    try {
      response = await this.transport.fetch(url.toString(), {
        method,
        headers,
        body:
          options.bytes !== undefined
            ? (options.bytes.data as Uint8Array<ArrayBuffer>)
            : options.body === undefined
              ? undefined
              : JSON.stringify(options.body),
        signal: abort.signal,
      });
      raw = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (abort.signal.aborted) {
        throw new ClientError('TIMEOUT', operation, `no answer in ${this.timeoutMs} ms`);
      }
      throw new ClientError('NETWORK_ERROR', operation, 'the server cannot be reached', {
        cause: error,
      });
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (response.ok && answer === 'bytes') {
      return { data: raw, contentType: response.headers.get('content-type') ?? '' } as T;
    }
    const json = parseJson(new TextDecoder().decode(raw));
    if (!response.ok) {
      const answer = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = isErrorCode(answer?.code) ? answer.code : 'BAD_RESPONSE';
      const message = typeof answer?.message === 'string' ? answer.message : response.statusText;
      this.logger.debug('request failed', { operation, status: response.status, code });
      throw new ClientError(code, operation, message, { status: response.status });
    }
    const violation = checkAnswer(method, path, json);
    if (violation !== undefined) {
      this.onViolation(violation);
      throw new ClientError(
        'BAD_RESPONSE',
        operation,
        `the answer does not match its schema at ${violation.path || '/'}: ${violation.message}`,
        { status: response.status },
      );
    }
    return json as T;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `exp` claim of a JWT in milliseconds (read, not verified: only to refresh in time). */
export function tokenExpiry(accessToken: string): number | undefined {
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
