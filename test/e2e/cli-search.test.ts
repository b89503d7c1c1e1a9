// `parley search` against a live server: what a person's machine has read is searched there, by
// room and across rooms, an edit and a delete are followed, and the key store on disk holds the
// index sealed (none of the searched words in it).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-run';
import { startServer, type LiveServer } from './harness';

describe('the parley search command', () => {
  let server: LiveServer;
  let root: string;

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-search-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function run(user: string, ...args: string[]): Promise<CliResult> {
    return runCli(
      { root, home: user, server: server.baseUrl },
      { PARLEY_PASSWORD: `${user}-password-1234` },
      args,
    );
  }

  async function parley(user: string, ...args: string[]): Promise<string> {
    const { code, out, err } = await run(user, ...args);
    expect(code, `parley ${args.join(' ')}: ${err}`).toBe(0);
    return out;
  }

  it('searches across rooms and in one, follows edits and deletes, and keeps the index sealed', async () => {
    await parley('alice', 'signup', 'alice', '--no-backup');
    await parley('bob', 'signup', 'bob', '--no-backup');
    await parley('alice', 'create-group', 'picnic', 'bob');
    await parley('alice', 'create-group', 'office', 'bob');
    await parley('bob', 'send', 'picnic', 'bring', 'strawberries', 'and', 'a', 'blanket');
    await parley('bob', 'send', 'office', 'strawberries', 'in', 'the', 'kitchen');
    const edited = await parley('bob', 'send', 'picnic', 'we', 'meet', 'at', 'the', 'fountain');
    const seq = edited.replace('sent ', '');

    const across = await parley('alice', 'search', 'strawberries');
    expect(across).toMatch(
      /^picnic:\n {2}#\d+ \S+ \S+ bob: bring \[strawberries\] and a blanket$/m,
    );
    expect(across).toMatch(/^office:\n {2}#\d+ \S+ \S+ bob: \[strawberries\] in the kitchen$/m);
    const inOne = await parley('alice', 'search', 'straw', '--room', 'office', '--no-sync');
    expect(inOne).toContain('office:');
    expect(inOne).not.toContain('picnic');
    expect(await parley('alice', 'search', 'fountain', '--no-sync')).toContain('[fountain]');

    await parley('bob', 'edit', 'picnic', seq, 'we', 'meet', 'at', 'the', 'bandstand');
    expect(await parley('alice', 'search', 'fountain')).toBe('no messages found');
    expect(await parley('alice', 'search', 'bandstand', '--no-sync')).toContain('[bandstand]');
    await parley('bob', 'delete', 'picnic', seq);
    expect(await parley('alice', 'search', 'bandstand')).toBe('no messages found');

    const keys = await readFile(join(root, 'alice', 'keys.json'), 'utf8');
    expect(keys).toContain('search:index');
    for (const word of ['strawberries', 'blanket', 'kitchen', 'fountain', 'bandstand']) {
      expect(keys).not.toContain(word);
    }

    const unknown = await run('alice', 'search', 'x', '--room', 'nowhere');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no room nowhere');
  });
});
