// A real server process started under `ulimit -n 1024` (1,024 file descriptors), faced with 1,100
// idle attacker connections, from one address and then from many: logins and new WebSockets
// still work, because connections are capped below the descriptor limit (an idle one making way
// for a new one) instead of running the process out of descriptors.
//
// On PGlite in a data directory of its own by default; on a fresh PostgreSQL database under
// `pnpm test:postgres`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, stopServer, type ServerProcess } from './processes';
import { createPerson, TestSocket, type Person } from './rooms-fixtures';

const ATTACKERS = 1100;
const adminUrl = process.env.DATABASE_URL;
const database = `parley_test_${randomBytes(8).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'parley-descriptors-'));
const attackers: Socket[] = [];
let server: ServerProcess;
let port: number;

beforeAll(async () => {
  const env: Record<string, string> = { DATA_DIR: dataDir };
  if (adminUrl !== undefined && adminUrl !== '') {
    await admin(adminUrl, `CREATE DATABASE ${database}`);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    env.DATABASE_URL = url.toString();
  }
  server = await startServer({ env, shellPrefix: 'ulimit -n 1024' });
  port = Number(new URL(server.baseUrl).port);
}, 60_000);

afterAll(async () => {
  for (const socket of attackers) socket.destroy();
  if (server !== undefined) await stopServer(server.child);
  if (adminUrl !== undefined && adminUrl !== '') {
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Opens `count` idle connections spread over `addresses` loopback addresses, as fast as it can. */
async function attack(count: number, addresses: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = tcpConnect({
            port,
            host: '127.0.0.1',
            localAddress: `127.0.1.${1 + (i % addresses)}`,
          });
          attackers.push(socket);
          socket.on('error', () => resolve());
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        }),
    ),
  );
}

async function stillServes(person: Person): Promise<void> {
  const login = await fetch(`${server.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: person.username, password: person.password }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(login.status, server.output.slice(-5).join('\n')).toBe(200);
  const socket = await TestSocket.authenticated(server.wsUrl, person);
  socket.send({ type: 'ping' });
  await socket.next((f) => f.type === 'pong');
  socket.close();
}

describe('under ulimit -n 1024', () => {
  it('runs with the limit it was given', () => {
    const limits = readFileSync(`/proc/${server.child.pid}/limits`, 'utf8');
    expect(limits).toMatch(/^Max open files\s+1024\s/m);
  });

  it('keeps serving logins and new sockets while 1,100 idle connections come from one address', async () => {
    const person = await createPerson(server.api);
    await attack(ATTACKERS, 1);
    await stillServes(person);
    for (const socket of attackers.splice(0)) socket.destroy();
  }, 60_000);

  it('and while they come from many addresses', async () => {
    const person = await createPerson(server.api);
    await attack(ATTACKERS, 50);
    await stillServes(person);
    // The process is alive and has not run out of descriptors.
    expect(server.child.exitCode).toBeNull();
    expect(server.output.join('\n')).not.toMatch(/EMFILE/);
  }, 60_000);
});

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
