import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * The server's configuration, read once from the environment at start and frozen.
 * Every variable is documented in .env.example at the repository root.
 */
export interface Config {
  readonly nodeEnv: string;
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; when absent the server uses embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Holds the PGlite database and the generated JWT secret. */
  readonly dataDir: string;
  /** Redis for cross-process fan-out; when absent fan-out stays in-process. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis pub/sub channel, so several deployments (or test runs) share a Redis. */
  readonly redisChannelPrefix: string;
  readonly jwtSecret: string;
  /** Origins allowed to open WebSockets. The web app is served from the same origin (or through
   * the dev server's proxy), so no CORS is configured. */
  readonly allowedOrigins: readonly string[];
  readonly logLevel: LogLevel;
  /**
   * The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses,
   * CIDR ranges, or proxy-addr's `loopback`/`linklocal`/`uniquelocal`); false believes none. The
   * client's address is the nearest one in X-Forwarded-For not in this list, so an entry the
   * client wrote itself is never taken.
   */
  readonly trustProxy: false | readonly string[];
  /** A spent refresh token presented again within this many seconds issues another token of the
   * same session instead of ending it: two tabs refreshing at once are not a stolen token. */
  readonly refreshReuseGraceSeconds: number;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** How long a new WebSocket may take to send its `auth` frame. */
  readonly wsAuthTimeoutMs: number;
  /** How often expired rooms are looked for and deleted. */
  readonly roomSweepIntervalMs: number;
  readonly mail: MailConfig;
  readonly limits: Limits;
  /**
   * STUN and TURN servers handed to clients for calls (ICE_SERVERS, a JSON array of RTCIceServer
   * objects); none by default, which is enough when both parties reach each other directly.
   */
  readonly iceServers: readonly IceServer[];
}

/** One entry of ICE_SERVERS, as WebRTC's RTCIceServer (urls always a list here). */
export interface IceServer {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** Where mail goes and what its links point at. */
export interface MailConfig {
  /** smtp:// or smtps:// URL of the relay (credentials in it); when absent mail goes to `outboxDir`. */
  readonly smtpUrl: string | undefined;
  /** Each mail as one .eml file here when no SMTP_URL is set (default DATA_DIR/outbox). */
  readonly outboxDir: string;
  /** The From header. */
  readonly from: string;
  /**
   * The web app's public address that mailed links start with. Configured, never taken from the
   * request's Host header: a forged Host would otherwise put an attacker's site in a reset link.
   */
  readonly publicUrl: string;
}

export interface Limits {
  /** Default maximum size of a request body. */
  readonly bodyBytes: number;
  /** Maximum size of an avatar image. */
  readonly avatarBytes: number;
  /** Password hashes computed at once; the rest wait in a queue. */
  readonly passwordHashConcurrency: number;
  /** Password hashes allowed to wait; beyond it requests fail fast with SERVER_BUSY. */
  readonly passwordHashQueue: number;
  /** Login, register and refresh attempts per client IP per minute. */
  readonly authPerIpPerMinute: number;
  /**
   * Failed logins per account per 15 minutes from addresses that never logged in to it; beyond it
   * only addresses that did may try (a botnet guessing one password is stopped, its owner is not).
   */
  readonly loginPerAccountPer15Minutes: number;
  /** Failed logins of one account from one address before each further one waits, doubling. */
  readonly loginFreeFailures: number;
  /** Longest wait the doubling reaches. */
  readonly loginBackoffMaxSeconds: number;
  /** Largest WebSocket frame accepted; a larger one closes the socket with 1009. */
  readonly wsFrameBytes: number;
  /** Bytes queued for one socket beyond which it is closed as a slow consumer (4008). */
  readonly wsSendBufferBytes: number;
  /** Malformed frames tolerated per socket (each answered with an error frame) before 4400. */
  readonly wsMalformedFrames: number;
  /** Largest encrypted attachment blob. */
  readonly attachmentBytes: number;
  /** Messages committed in one transaction at most (commits are batched under load). */
  readonly messageBatchSize: number;
  /**
   * Open TCP connections (HTTP and WebSocket) at most; at the cap a new one pushes out the oldest
   * idle one (no request in flight), or is closed when none is idle. The default stays below the
   * process's open-file limit, so connections never exhaust the descriptors the database needs.
   */
  readonly maxConnections: number;
  /** Open TCP connections from one address; not applied behind a trusted proxy (TRUST_PROXY). */
  readonly maxConnectionsPerIp: number;
  /** Open WebSockets at most; beyond it the upgrade is refused with 503 SERVER_BUSY. */
  readonly wsMaxSockets: number;
  /** Open WebSockets from one client address; beyond it 429 TOO_MANY_CONNECTIONS. */
  readonly wsMaxSocketsPerIp: number;
  /** WebSockets that have not authenticated yet; beyond it 503 SERVER_BUSY. */
  readonly wsMaxUnauthenticated: number;
  /** Time to receive a whole request, headers and body; a slower one is cut off. */
  readonly requestTimeoutMs: number;
  /** Time to receive a request's headers (or anything at all on a new connection). */
  readonly headersTimeoutMs: number;
  /** Encrypted attachment bytes one account may keep stored. */
  readonly attachmentBytesPerAccount: number;
  /** Avatar width and height at most, in pixels. */
  readonly avatarPixels: number;
  /** Messages one socket may send per 10 seconds (a bucket refilled evenly), and one account. */
  readonly wsMessagesPer10SecondsPerSocket: number;
  readonly wsMessagesPer10SecondsPerAccount: number;
  /** Typing frames, and pings, one socket may send per 10 seconds. */
  readonly wsTypingPer10Seconds: number;
  readonly wsPingsPer10Seconds: number;
  /** Sends of one socket waiting for their commit; beyond it a send is refused (SEND_QUEUE_FULL). */
  readonly wsPendingSends: number;
  /** Mails (verification, reset) sent to one account per hour; beyond it none is sent. */
  readonly mailPerAccountPerHour: number;
  /** Requests that send mail from one client IP per hour. */
  readonly mailPerIpPerHour: number;
  /** Contact requests one account may make per hour (a stranger's requests are unsolicited). */
  readonly contactRequestsPerAccountPerHour: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Overrides accepted by `loadConfig` and `build`; `limits` may be given in part. */
export type ConfigOverrides = Partial<Omit<Config, 'limits'>> & { limits?: Partial<Limits> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`loadConfig: invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

export const JWT_SECRET_FILE = 'jwt-secret';

/**
 * Reads and validates the environment. Throws a ConfigError naming every bad variable, so a
 * misconfigured server fails at start rather than at first use.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConfigOverrides = {},
): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const dataDir = resolve(overrides.dataDir ?? read.string('DATA_DIR', './data'));
  const nodeEnv = overrides.nodeEnv ?? read.string('NODE_ENV', 'development');
  const port = read.integer('PORT', 3000, 0, 65535);
  const limits: Limits = {
    bodyBytes: read.integer('BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    avatarBytes: read.integer('AVATAR_MAX_BYTES', 256 * 1024, 1024, 4 * 1024 * 1024),
    passwordHashConcurrency: read.integer('PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    passwordHashQueue: read.integer('PASSWORD_HASH_QUEUE', 64, 0, 100_000),
    authPerIpPerMinute: read.integer('RATE_LIMIT_AUTH_PER_IP_PER_MINUTE', 30, 1, 1_000_000),
    loginPerAccountPer15Minutes: read.integer(
      'RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15_MINUTES',
      100,
      1,
      1_000_000,
    ),
    wsFrameBytes: read.integer('WS_MAX_FRAME_BYTES', 128 * 1024, 4096, 16 * 1024 * 1024),
    wsSendBufferBytes: read.integer(
      'WS_SEND_BUFFER_BYTES',
      4 * 1024 * 1024,
      64 * 1024,
      1024 * 1024 * 1024,
    ),
    wsMalformedFrames: read.integer('WS_MAX_MALFORMED_FRAMES', 5, 0, 1000),
    attachmentBytes: read.integer(
      'ATTACHMENT_MAX_BYTES',
      10 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    messageBatchSize: read.integer('MESSAGE_BATCH_SIZE', 256, 1, 10_000),
    ...connectionLimits(read),
    loginFreeFailures: read.integer(
      'RATE_LIMIT_LOGIN_FREE_FAILURES_PER_ACCOUNT_AND_IP',
      5,
      1,
      1000,
    ),
    loginBackoffMaxSeconds: read.integer('LOGIN_BACKOFF_MAX_SECONDS', 900, 1, 24 * 3600),
    attachmentBytesPerAccount: read.integer(
      'ATTACHMENT_QUOTA_BYTES_PER_ACCOUNT',
      1024 * 1024 * 1024,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
    avatarPixels: read.integer('AVATAR_MAX_PIXELS', 1024, 16, 16_384),
    wsMessagesPer10SecondsPerSocket: read.integer(
      'WS_MESSAGES_PER_10_SECONDS_PER_SOCKET',
      100,
      1,
      1_000_000,
    ),
    wsMessagesPer10SecondsPerAccount: read.integer(
      'WS_MESSAGES_PER_10_SECONDS_PER_ACCOUNT',
      200,
      1,
      1_000_000,
    ),
    wsTypingPer10Seconds: read.integer('WS_TYPING_PER_10_SECONDS', 20, 1, 1_000_000),
    wsPingsPer10Seconds: read.integer('WS_PINGS_PER_10_SECONDS', 20, 1, 1_000_000),
    wsPendingSends: read.integer('WS_MAX_PENDING_SENDS', 256, 1, 1_000_000),
    mailPerAccountPerHour: read.integer('RATE_LIMIT_MAIL_PER_ACCOUNT_PER_HOUR', 5, 1, 1_000_000),
    mailPerIpPerHour: read.integer('RATE_LIMIT_MAIL_PER_IP_PER_HOUR', 20, 1, 1_000_000),
    contactRequestsPerAccountPerHour: read.integer(
      'RATE_LIMIT_CONTACT_REQUESTS_PER_HOUR',
      60,
      1,
      1_000_000,
    ),
    ...overrides.limits,
  };

  const config: Config = {
    nodeEnv,
    port,
    host: read.string('HOST', '0.0.0.0'),
    databaseUrl: read.optionalUrl('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir,
    redisUrl: read.optionalUrl('REDIS_URL', ['redis:', 'rediss:']),
    redisChannelPrefix: read.string('REDIS_CHANNEL_PREFIX', 'parley:'),
    jwtSecret: '',
    allowedOrigins: read.list('ALLOWED_ORIGINS', [
      'http://localhost:3000',
      'http://localhost:5173',
    ]),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    trustProxy: read.trustedProxies('TRUST_PROXY'),
    refreshReuseGraceSeconds: read.integer('REFRESH_REUSE_GRACE_SECONDS', 10, 0, 300),
    accessTokenTtlSeconds: read.integer('ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 10, 24 * 3600),
    refreshTokenTtlSeconds: read.integer(
      'REFRESH_TOKEN_TTL_SECONDS',
      30 * 24 * 3600,
      60,
      365 * 24 * 3600,
    ),
    wsAuthTimeoutMs: read.integer('WS_AUTH_TIMEOUT_MS', 5000, 100, 60_000),
    roomSweepIntervalMs: read.integer('ROOM_SWEEP_INTERVAL_MS', 60_000, 10, 24 * 3600 * 1000),
    mail: mailConfig(read, dataDir, port),
    iceServers: read.iceServers('ICE_SERVERS'),
    ...overrides,
    limits,
  };

  if (!isOrigin(config.mail.publicUrl)) {
    problems.push(`PUBLIC_URL: "${config.mail.publicUrl}" is not an origin (scheme, host, port)`);
  }
  for (const origin of config.allowedOrigins) {
    if (!isOrigin(origin)) problems.push(`ALLOWED_ORIGINS: "${origin}" is not an origin`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push('HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS');
  }
  const explicitSecret = overrides.jwtSecret ?? env.JWT_SECRET;
  if (explicitSecret !== undefined) {
    const weakness = jwtSecretWeakness(explicitSecret);
    if (weakness !== undefined) problems.push(`JWT_SECRET: ${weakness}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    ...config,
    limits: Object.freeze(limits),
    allowedOrigins: Object.freeze([...config.allowedOrigins]),
    jwtSecret: explicitSecret ?? persistedJwtSecret(dataDir),
  });
}

function mailConfig(read: EnvReader, dataDir: string, port: number): MailConfig {
  return {
    smtpUrl: read.optionalUrl('SMTP_URL', ['smtp:', 'smtps:']),
    outboxDir: resolve(read.string('MAIL_OUTBOX_DIR', join(dataDir, 'outbox'))),
    from: read.string('MAIL_FROM', 'Parley <parley@localhost>'),
    publicUrl: read.string('PUBLIC_URL', `http://localhost:${port}`),
  };
}

/**
 * Descriptors kept free of connections, for the database (embedded PGlite keeps a file open per
 * table and index it touched, some 130 to 200), Redis, files served and the runtime's own.
 */
const reservedDescriptors = (limit: number) => Math.max(256, Math.floor(limit / 4));

function connectionLimits(read: EnvReader) {
  const descriptors = openFileLimit();
  const fallback =
    descriptors === undefined
      ? 10_000
      : Math.max(64, descriptors - reservedDescriptors(descriptors));
  const maxConnections = read.integer('MAX_CONNECTIONS', fallback, 16, 10_000_000);
  return {
    maxConnections,
    maxConnectionsPerIp: read.integer('MAX_CONNECTIONS_PER_IP', 256, 1, 10_000_000),
    // A tenth of the connections stay for HTTP, so logins work while sockets are at their cap.
    wsMaxSockets: read.integer(
      'WS_MAX_SOCKETS',
      Math.max(1, Math.floor(maxConnections * 0.9)),
      1,
      10_000_000,
    ),
    wsMaxSocketsPerIp: read.integer('WS_MAX_SOCKETS_PER_IP', 128, 1, 10_000_000),
    wsMaxUnauthenticated: read.integer('WS_MAX_UNAUTHENTICATED', 256, 1, 10_000_000),
    requestTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 60_000, 1000, 3600_000),
    headersTimeoutMs: read.integer('HEADERS_TIMEOUT_MS', 10_000, 500, 3600_000),
  };
}

/** The soft limit on open files of this process (Linux), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Without JWT_SECRET the server generates a secret once and keeps it in DATA_DIR, so a restart
 * keeps every session valid. Several processes serving one deployment must share JWT_SECRET.
 */
function persistedJwtSecret(dataDir: string): string {
  const file = join(dataDir, JWT_SECRET_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Why a JWT secret is too weak to sign with, or undefined: too short, one of the secrets that
 * tutorials, jwt.io and framework templates publish, or too few distinct characters to be random
 * (`openssl rand -base64 48` gives ~40 of 64).
 */
export function jwtSecretWeakness(secret: string): string | undefined {
  if (secret.length < 32) return 'must be at least 32 characters';
  if (PUBLISHED_JWT_SECRETS.has(secret.toLowerCase())) {
    return 'is a published example secret; generate one (openssl rand -base64 48)';
  }
  if (new Set(secret).size < 12) {
    return 'has too few distinct characters to be random; generate one (openssl rand -base64 48)';
  }
  return undefined;
}

// Example secrets of at least 32 characters from jwt.io, tutorials and framework templates.
const PUBLISHED_JWT_SECRETS: ReadonlySet<string> = new Set([
  'a-string-secret-at-least-256-bits-long',
  'your-256-bit-secret-your-256-bit-secret',
  'supersecretkeyyoushouldnotcommittogithub',
  'thisismysupersecretkeyforjwttokengeneration',
  'my_super_secret_key_that_is_at_least_32_chars',
  'change-this-to-a-long-random-secret-in-production',
  'changeme-changeme-changeme-changeme',
  '0123456789abcdefghijklmnopqrstuvwxyz',
  'abcdefghijklmnopqrstuvwxyz0123456789',
  'qwertyuiopasdfghjklzxcvbnm1234567890',
]);

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

/** Why an ICE_SERVERS entry is not an RTCIceServer the clients can use, or undefined. */
function iceServerProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return 'is not an object';
  const { urls, username, credential, ...rest } = entry as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return 'has fields other than urls, username and credential';
  const list = typeof urls === 'string' ? [urls] : urls;
  if (!Array.isArray(list) || list.length === 0 || list.length > 16) return 'needs urls';
  for (const url of list) {
    if (typeof url !== 'string' || !/^(stun|stuns|turn|turns):\S{1,500}$/.test(url))
      return 'has a URL that is not stun:, stuns:, turn: or turns:';
  }
  for (const [field, value] of [
    ['username', username],
    ['credential', credential],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length > 512))
      return `has a ${field} that is not a short string`;
  }
  const turn = list.some((url) => /^turns?:/.test(url as string));
  if (turn && (username === undefined || credential === undefined))
    return 'is a TURN server without username and credential';
  return undefined;
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR range (address/bits) or one of proxy-addr's named ranges. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_KEYWORDS.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

class EnvReader {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}: expected an integer from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.problems.push(`${name}: expected true or false, got "${value}"`);
    return fallback;
  }

  /** TRUST_PROXY: `false` (or unset), or the proxies' addresses, comma-separated. */
  trustedProxies(name: string): false | string[] {
    const value = this.raw(name);
    if (value === undefined || value === 'false' || value === '0') return false;
    if (value === 'true' || value === '1') {
      this.problems.push(
        `${name}: name the proxies' addresses (e.g. 127.0.0.1 or 10.0.0.0/8); "true" would ` +
          'believe an X-Forwarded-For that the client wrote itself',
      );
      return false;
    }
    const entries = this.list(name, []);
    for (const entry of entries) {
      if (!isProxyAddress(entry)) this.problems.push(`${name}: "${entry}" is not an address`);
    }
    return entries;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  }

  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** ICE_SERVERS: a JSON array of { urls, username?, credential? } with stun:/turn: URLs. */
  iceServers(name: string): IceServer[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.problems.push(`${name}: expected a JSON array of { urls, username?, credential? }`);
      return [];
    }
    if (!Array.isArray(parsed) || parsed.length > 16) {
      this.problems.push(`${name}: expected a JSON array of at most 16 servers`);
      return [];
    }
    const out: IceServer[] = [];
    parsed.forEach((entry: unknown, index) => {
      const problem = iceServerProblem(entry);
      if (problem !== undefined) {
        // The entry may hold a TURN credential, so the problem names only its position.
        this.problems.push(`${name}: server ${index + 1} ${problem}`);
        return;
      }
      const server = entry as { urls: string | string[]; username?: string; credential?: string };
      out.push(
        Object.freeze({
          urls: Object.freeze(typeof server.urls === 'string' ? [server.urls] : [...server.urls]),
          ...(server.username === undefined ? {} : { username: server.username }),
          ...(server.credential === undefined ? {} : { credential: server.credential }),
        }),
      );
    });
    return out;
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      if (protocols.includes(new URL(value).protocol)) return value;
    } catch {
      // reported below
    }
    // The value may hold a password, so the problem names only the expected schemes.
    this.problems.push(`${name}: expected a ${protocols.join(' or ')}// URL`);
    return undefined;
  }
}
