// The `parley` command against a live server, as a person or a script would use it: sign up, make
// a channel, join it (admitted by a member following the room), send, and see the message printed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
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
    const sent = await parley('bob', 'send', 'rust', 'hello', 'from', 'bob');
    expect(sent).toMatch(/^sent #\d+$/);
    await eventually(() => printed.includes('bob: hello from bob'), 20_000, 'alice sees bob');
    const seq = sent.slice('sent '.length);
    expect(await parley('bob', 'reply', 'rust', seq, 'and', 'welcome')).toMatch(/^sent #\d+$/);
    expect(await parley('bob', 'edit', 'rust', seq, 'hello', 'again')).toMatch(/^sent #\d+$/);
    await eventually(
      () =>
        printed.includes('bob (reply): and welcome') &&
        printed.includes('* bob edited a message: hello again'),
      20_000,
      'alice sees the reply and the edit',
    );
    // Membership changes print as lines of the room too.
    expect(printed).toMatch(/\] \* Bob joined/);
    const rooms = await parley('bob', 'rooms');
    expect(rooms).toContain(`${roomId}  channel  rust`);
    expect(rooms).toMatch(/alice\*/);
    follow.kill('SIGTERM');
  });

  it('leaves a join request waiting while no member is online, lists it and withdraws it', async () => {
    const roomId = await parley('alice', 'create-channel', 'quiet', '--topic', 'nobody home');
    await parley('dora', 'signup', 'dora', '--no-backup');
    expect(await parley('dora', 'join', roomId, '--wait', '1')).toMatch(
      /^Waiting for a member to come online; you will be let in automatically/,
    );
    expect(await parley('dora', 'requests')).toMatch(new RegExp(`^${roomId}  #quiet  asked `));
    expect(await parley('dora', 'cancel-join', roomId)).toBe('Request withdrawn.');
    expect(await parley('dora', 'requests')).toBe('');
  });

  /** Runs `parley` expecting it to fail; returns what it said on stderr. */
  async function parleyFails(user: string, ...args: string[]): Promise<string> {
    const child = start(user, args);
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code, `parley ${args.join(' ')} should fail`).not.toBe(0);
    return err.trim();
  }

  it('sets a message timer as an admin, shows it to members, and refuses anyone else', async () => {
    const roomId = await parley('alice', 'create-group', 'timed', 'bob');
    expect(await parley('alice', 'timer', roomId, '1h')).toBe(
      'Messages now disappear after 1 hour.',
    );
    expect(await parley('bob', 'rooms')).toContain(
      'timed  epoch 0  [alice*, bob]  messages disappear after 1 hour',
    );
    expect(await parleyFails('bob', 'timer', roomId, '5m')).toMatch(/not allowed/);
    expect(await parleyFails('alice', 'timer', roomId, 'soon')).toMatch(/not a duration/);
    expect(await parley('alice', 'timer', roomId, 'off')).toBe('Messages no longer disappear.');
  });

  it('renames a channel, edits its topic and deletes it', async () => {
    const roomId = await parley('alice', 'create-channel', 'draft', '--topic', 'first try');
    expect(await parley('alice', 'rename', roomId, 'final', 'name')).toMatch(
      new RegExp(`^${roomId}  channel  final name  `),
    );
    expect(await parley('alice', 'set-topic', roomId, 'what', 'we', 'do')).toMatch(
      /\n {2}topic: what we do$/,
    );
    expect(await parley('alice', 'delete-room', roomId)).toBe('Deleted.');
    expect(await parley('alice', 'rooms')).not.toContain(roomId);
  });

  it('follows a room it was added to while offline, sends files and downloads them', async () => {
    await parley('carol', 'signup', 'carol', '--no-backup');
    // Carol's machine is not running: alice adds her to a group, and says something there.
    const groupId = await parley('alice', 'create-group', 'plans', 'carol');
    expect(await parley('alice', 'send', 'plans', 'for carol')).toMatch(/^sent #\d+$/);

    // Without a `parley rooms` first: the name is found on the server, history and all.
    const follow = start('carol', ['follow', 'plans']);
    let printed = '';
    follow.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await eventually(() => printed.includes('alice: for carol'), 20_000, 'carol sees the history');

    const files = join(root, 'files');
    await mkdir(files);
    const photo = Buffer.from('not really a png, but bytes all the same');
    await writeFile(join(files, 'photo.png'), photo);
    await writeFile(join(files, 'notes.txt'), 'line one\nline two\n');
    const sent = await parley(
      'alice',
      'send-file',
      groupId,
      join(files, 'photo.png'),
      join(files, 'notes.txt'),
      '--text',
      'two files',
    );
    const seq = /^sent #(\d+) with 2 file\(s\)$/.exec(sent)?.[1];
    expect(seq, sent).toBeDefined();
    // Following carol sees the message and each file with the name to download it by.
    await eventually(() => printed.includes('alice: two files'), 20_000, 'carol sees the files');
    expect(printed).toContain(`file #${seq}.1 photo.png (${photo.length} bytes, image/png)`);
    expect(printed).toContain(`file #${seq}.2 notes.txt (18 bytes, text/plain)`);
    follow.kill('SIGTERM');

    const out = join(root, 'carol-downloads');
    await mkdir(out);
    expect(await parley('carol', 'download', 'plans', `#${seq}`, '--out', out)).toContain(
      'photo.png',
    );
    expect(await readFile(join(out, 'photo.png'))).toEqual(photo);
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('line one\nline two\n');
    // A second download never replaces the first.
    expect(await parley('carol', 'download', 'plans', `${seq}.2`, '--out', out)).toContain(
      'notes (2).txt',
    );
    expect((await readdir(out)).sort()).toEqual(['notes (2).txt', 'notes.txt', 'photo.png']);
  });

  it('saves a file under its plain name only, whatever the sender called it', async () => {
    // The CLI sends a file under its own name; a hostile sender may name it anything, so the name
    // is checked where the file lands.
    const { createClient, MemoryKeyStore } = await import('@parley/client');
    const { nodeTransport } = await import('@parley/client/node');
    const mallory = await createClient({
      transport: nodeTransport(server.baseUrl),
      keyStore: new MemoryKeyStore(),
    });
    try {
      await mallory.signUp({ username: 'mallory', password: 'mallory-password-1234' });
      const room = await mallory.createGroup({ name: 'names', members: ['carol'] });
      mallory.connect();
      const { messageId } = await mallory.sendFiles(room.roomId, [
        {
          data: new TextEncoder().encode('gotcha'),
          name: '../../.bashrc',
          mediaType: 'text/plain',
        },
      ]);
      const seq = await mallory.acked(messageId);
      const out = join(root, 'carol-safe');
      await mkdir(out);
      expect(await parley('carol', 'download', room.roomId, `#${seq}`, '--out', out)).toContain(
        join(out, 'bashrc'),
      );
      expect(await readdir(out)).toEqual(['bashrc']);
      expect(await readFile(join(out, 'bashrc'), 'utf8')).toBe('gotcha');
    } finally {
      await mallory.close();
    }
  });
});
