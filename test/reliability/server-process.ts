// The real server as a child process (server/src/main.ts under tsx), so that a test can do to it
// what a machine failure does: SIGKILL it mid-flight and start it again on the same port, with
// nothing of the old process left but what it committed to the database.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'server');
/** Lines of the child's output kept for the error message when it fails to start or dies. */
const KEPT_LINES = 60;

export interface ServerProcessOptions {
  /** A PostgreSQL URL, or undefined for PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** The PGlite data (and the JWT secret file when `jwtSecret` is absent). */
  dataDir: string;
  /** Shared by every process of one deployment, so a token from one is valid at the others. */
  jwtSecret: string;
  redisUrl?: string;
  redisChannelPrefix?: string;
  /** Port to listen on; a free one is picked when absent and kept across restarts. */
  port?: number;
  /** Milliseconds a start may take before it counts as failed. */
  startTimeoutMs?: number;
}

/** One server process that can be killed and started again on the same port. */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private output: string[] = [];
  private port: number | undefined;
  /** Every start of this server (the first included) with how long it took to be ready, in ms. */
  readonly starts: number[] = [];
  kills = 0;

  constructor(private readonly options: ServerProcessOptions) {
    this.port = options.port;
  }

  get baseUrl(): string {
    if (this.port === undefined) throw new Error('ServerProcess.baseUrl: not started yet');
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process and resolves once /readyz answers 200 (migrations ran, database up). */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error('ServerProcess.start: already running');
    this.port ??= await freePort();
    const began = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: SERVER_DIR,
      env: this.environment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.output.push(line);
        if (this.output.length > KEPT_LINES) this.output.shift();
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `ServerProcess.start: the server exited (${signal ?? code}) ${Date.now() - began} ms ` +
              `into start ${this.starts.length + 1}, before it was ready:\n${this.output.join('\n')}`,
          ),
        ),
      ),
    );
    exited.catch(() => {});
    // Generous: on a busy two-core machine a PGlite start (initdb on first start, recovery after a
    // SIGKILL) takes tens of seconds.
    await Promise.race([this.untilReady(this.options.startTimeoutMs ?? 120_000), exited]);
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    this.starts.push(Date.now() - began);
  }

  /** SIGKILL: no shutdown hook runs, no socket is closed politely, nothing is flushed. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    this.kills += 1;
    await stopChild(child, 'SIGKILL');
  }

  /** SIGTERM (graceful shutdown), and SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 12_000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await stopChild(child, 'SIGTERM');
    } finally {
      clearTimeout(killer);
    }
  }

  /** The last lines the process wrote (warnings and errors: it logs at `warn`). */
  recentOutput(): string {
    return this.output.join('\n');
  }

  private environment(): NodeJS.ProcessEnv {
    // The parent's own DATABASE_URL or REDIS_URL (pnpm test:postgres sets one) must not leak in.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDIS_CHANNEL_PREFIX', 'NODE_OPTIONS']) {
      delete env[name];
    }
    return {
      ...env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(this.port),
      DATA_DIR: this.options.dataDir,
      JWT_SECRET: this.options.jwtSecret,
      LOG_LEVEL: 'warn',
      // The test signs up and reconnects many clients from one address.
      RATE_LIMIT_AUTH_PER_IP_PER_MINUTE: '100000',
      WS_MESSAGES_PER_10_SECONDS_PER_SOCKET: '1000000',
      WS_MESSAGES_PER_10_SECONDS_PER_ACCOUNT: '1000000',
      ...(this.options.databaseUrl === undefined ? {} : { DATABASE_URL: this.options.databaseUrl }),
      ...(this.options.redisUrl === undefined
        ? {}
        : {
            REDIS_URL: this.options.redisUrl,
            REDIS_CHANNEL_PREFIX: this.options.redisChannelPrefix ?? 'parley:',
          }),
    };
  }

  private async untilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const response = await fetch(`${this.baseUrl}/readyz`, {
          signal: AbortSignal.timeout(2000),
        });
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        const error = new Error(
          `ServerProcess.start: not ready within ${timeoutMs} ms:\n${this.output.join('\n')}`,
        );
        const child = this.child;
        this.child = undefined;
        if (child !== undefined) {
          child.removeAllListeners('exit');
          await stopChild(child, 'SIGKILL');
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A port nothing listens on right now (the kernel picks it; it is then released for the server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
