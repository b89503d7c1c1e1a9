// `parley contacts …`, `parley block|unblock` and `parley privacy direct …` against a live server:
// a request accepted, the contact's verified state from this machine's trust store, a block that
// refuses the direct conversation, and a contacts-only setting that refuses a stranger.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-run';
import { startServer, type LiveServer } from './harness';

describe('the parley contacts, block and privacy commands', () => {
  let server: LiveServer;
  let root: string;

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-contacts-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function run(home: string, ...args: string[]): Promise<CliResult> {
    return runCli(
      { root, home, server: server.baseUrl },
      { PARLEY_PASSWORD: `${home} password 1234` },
      args,
    );
  }

  async function parley(home: string, ...args: string[]): Promise<string> {
    const result = await run(home, ...args);
    expect(result.code, `parley ${args.join(' ')}: ${result.err}`).toBe(0);
    return result.out;
  }

  it('adds and accepts a contact, blocks, and keeps strangers out with contacts-only', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      await parley(name, 'signup', name, '--no-backup');
    }
    expect(await parley('alice', 'contacts')).toBe(
      'No contacts yet: `parley contacts add <username>`.',
    );
    expect(await parley('alice', 'contacts', 'add', 'bob')).toBe('Asked bob to be a contact.');
    expect(await parley('alice', 'contacts')).toBe('bob  asked by you');
    expect(await parley('bob', 'contacts', 'list')).toBe(
      'alice  asks to be a contact (parley contacts accept)',
    );
    expect(await parley('bob', 'contacts', 'accept', 'alice')).toBe('alice is a contact now.');
    expect(await parley('bob', 'contacts')).toBe('alice  not verified');
    // Alice compares safety numbers with bob: verified on her machine only.
    await parley('alice', 'safety-number', 'bob', '--verified');
    expect(await parley('alice', 'contacts')).toBe('bob  verified');
    const again = await run('bob', 'contacts', 'accept', 'alice');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^parley: CONTACT_REQUEST_NOT_FOUND:/);

    expect(await parley('bob', 'block', 'alice')).toBe('Blocked alice.');
    expect(await parley('bob', 'blocked')).toBe('alice');
    expect(await parley('alice', 'contacts')).toBe(
      'No contacts yet: `parley contacts add <username>`.',
    );
    const refused = await run('alice', 'dm', 'bob');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^parley: DIRECT_REFUSED:/);
    expect(await parley('bob', 'unblock', 'alice')).toBe('Unblocked alice.');
    expect(await parley('bob', 'blocked')).toBe('');

    expect(await parley('bob', 'privacy', 'direct', 'contacts')).toBe(
      'Only your contacts may open a direct conversation with you.',
    );
    expect(await parley('bob', 'privacy', 'direct')).toBe(
      'Only your contacts may open a direct conversation with you.',
    );
    const stranger = await run('carol', 'dm', 'bob');
    expect(stranger.code).toBe(1);
    expect(stranger.err).toMatch(/^parley: DIRECT_REFUSED:/);
    const wrong = await run('bob', 'privacy', 'direct', 'nobody');
    expect(wrong.code).toBe(1);
    expect(await parley('bob', 'privacy', 'direct', 'everyone')).toBe(
      'Anyone may open a direct conversation with you.',
    );
    await parley('carol', 'dm', 'bob');
  });
});
