// Real processes for the tests that need them: the server (src/main.ts under tsx) as a child
// process, driven over HTTP, and a redis-server of the test's own, on a free port, that the test
// may kill and start again (the shared Redis on 6379 is never touched).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { ParleyApp } from '../src/app';
import { openPostgres } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrations';
import { TEST_JWT_SECRET } from './helpers';

const SERVER_DIR = join(import.meta.dirname, '..');
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A migrated PostgreSQL database of the test's own, for processes that share one. */
export interface SharedDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createSharedDatabase(): Promise<SharedDatabase> {
  const name = `parley_test_${randomBytes(8).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const handle = openPostgres(url.toString(), { maxConnections: 1 });
  await migrateToLatest(handle.db);
  await handle.close();
  return {
    url: url.toString(),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function admin(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  wsUrl: string;
  /** The REST API of this process in the shape of `app.inject`, for the fixtures. */
  api: ParleyApp;
  /** Everything the process wrote, for the message of a failing test. */
  output: string[];
}

export interface ServerProcessOptions {
  /** Variables on top of the test defaults (PostgreSQL, Redis, limits...). */
  env: Record<string, string>;
  /** A shell command run before the server in the same shell, such as `ulimit -n 1024`. */
  shellPrefix?: string;
}

/** Starts src/main.ts and resolves once it logs the address it listens on. */
export async function startServer(options: ServerProcessOptions): Promise<ServerProcess> {
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    RATE_LIMIT_AUTH_PER_IP_PER_MINUTE: '10000',
    ...options.env,
  };
  const node = [process.execPath, '--import', 'tsx', 'src/main.ts'];
  const child =
    options.shellPrefix === undefined
      ? spawn(node[0]!, node.slice(1), { cwd: SERVER_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `${options.shellPrefix} && exec "$@"`, 'sh', ...node], {
          cwd: SERVER_DIR,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start: ${output.join('')}`)),
      30_000,
    );
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return {
    child,
    baseUrl,
    wsUrl: `${baseUrl.replace('http', 'ws')}/ws`,
    api: httpApi(baseUrl),
    output,
  };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** `app.inject` over real HTTP, so the fixtures written for injection drive a live process. */
function httpApi(baseUrl: string): ParleyApp {
  const inject = async (options: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: unknown;
  }) => {
    const hasBody = options.payload !== undefined;
    const response = await fetch(baseUrl + options.url, {
      method: options.method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(hasBody ? { body: JSON.stringify(options.payload) } : {}),
    });
    const body = await response.text();
    return {
      statusCode: response.status,
      body,
      json: <T>() => JSON.parse(body) as T,
    };
  };
  return { inject } as unknown as ParleyApp;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server of the test's own on `port`, without persistence. */
export class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server: ${output.join('')}`)), 10_000);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** SIGKILL, as a crash would: connections drop without a goodbye. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
