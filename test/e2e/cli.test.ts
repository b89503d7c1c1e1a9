// The `parley` command against a live server, as a person or a script would use it: sign up, make
// a channel, join it (admitted by a member following the room), send, and see the message printed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startServer, type LiveServer } from './harness';

const CLIENT = resolve(import.meta.dirname, '../../packages/client');

describe('the parley command', () => {
  let server: LiveServer;
  let root: string;
  const running: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-'));
  });

  afterAll(async () => {
    for (const child of running) child.kill('SIGTERM');
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  function start(user: string, args: string[]): ChildProcessWithoutNullStreams {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: CLIENT,
      env: {
        ...process.env,
        PARLEY_HOME: join(root, user),
        PARLEY_SERVER: server.baseUrl,
        PARLEY_PASSWORD: `${user}-password-1234`,
      },
    });
    running.push(child);
    return child;
  }

  async function parley(user: string, ...args: string[]): Promise<string> {
    const child = start(user, args);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code, `parley ${args.join(' ')}: ${err}`).toBe(0);
    return out.trim();
  }

  it('signs up, creates a channel, admits a newcomer while following, and prints what is sent', async () => {
    expect(await parley('alice', 'signup', 'alice', '--no-backup')).toMatch(/^Signed up as alice/);
    expect((await stat(join(root, 'alice', 'keys.json'))).mode & 0o777).toBe(0o600);
    const roomId = await parley(
      'alice',
      'create-channel',
      'rust',
      '--topic',
      'systems programming',
    );
    expect(roomId).toMatch(/^[0-9a-f]{32}$/);
    await parley('bob', 'signup', 'bob', '--no-backup');
    expect(await parley('bob', 'channels', 'systems')).toContain(roomId);

    // Alice follows the channel: her client admits bob when he asks, and prints the room.
    const follow = start('alice', ['follow', 'rust']);
    let printed = '';
    follow.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    follow.stdin.write('alice is here\n');
    await eventually(
      () => printed.includes('alice: alice is here'),
      20_000,
      'alice sees her own line',
    );

    expect(await parley('bob', 'join', roomId)).toBe('Joined rust.');
    expect(await parley('bob', 'send', 'rust', 'hello', 'from', 'bob')).toMatch(/^sent #\d+$/);
    await eventually(() => printed.includes('bob: hello from bob'), 20_000, 'alice sees bob');
    const rooms = await parley('bob', 'rooms');
    expect(rooms).toContain(`${roomId}  channel  rust`);
    expect(rooms).toMatch(/alice\*/);
    follow.kill('SIGTERM');
  });
});
