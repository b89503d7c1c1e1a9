// `parley identity reset` against a live server: ann lost her machine and her passphrase, starts
// a new identity from another one after confirming it, and ben's CLI sees that her keys changed,
// with a new safety number once he accepts them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-run';
import { startServer, type LiveServer } from './harness';
const ANN = {
  PARLEY_PASSWORD: 'ann long password',
  PARLEY_PASSPHRASE: 'copper violin glacier mango',
};
const BEN = { PARLEY_PASSWORD: 'ben long password' };

describe('the parley identity reset command', () => {
  let server: LiveServer;
  let root: string;

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-identity-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function run(
    home: string,
    env: Record<string, string>,
    ...args: string[]
  ): Promise<CliResult> {
    return runCli({ root, home, server: server.baseUrl }, env, args);
  }

  async function parley(home: string, env: Record<string, string>, ...args: string[]) {
    const result = await run(home, env, ...args);
    expect(result.code, `parley ${args.join(' ')}: ${result.err}`).toBe(0);
    return result.out;
  }

  it('starts a new identity that contacts see as a key change', async () => {
    const signedUp = await parley('lost', ANN, 'signup', 'ann');
    const oldFingerprint = /Fingerprint ([0-9a-f]+)/.exec(signedUp)![1]!;
    await parley('ben', BEN, 'signup', 'ben', '--no-backup');
    const before = await parley('ben', {}, 'safety-number', 'ann');

    // The machine with the keys refuses: a reset is for keys that are gone.
    const kept = await run('lost', ANN, 'identity', 'reset', 'ann', '--yes');
    expect(kept.code).toBe(1);
    expect(kept.err).toMatch(/holds the keys/);

    const fresh = { ...ANN, PARLEY_PASSPHRASE: 'saffron pebble octave walrus' };
    const unconfirmed = await run(
      'new',
      { ...fresh, PARLEY_CONFIRM: 'yes' },
      'identity',
      'reset',
      'ann',
    );
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.err).toMatch(/every contact is warned/);
    expect(unconfirmed.err).toMatch(/^parley: not confirmed$/m);
    const wrong = await run(
      'wrong',
      { ...fresh, PARLEY_PASSWORD: 'not anns password' },
      'identity',
      'reset',
      'ann',
      '--yes',
    );
    expect(wrong.err).toMatch(/^parley: INVALID_CREDENTIALS: /m);

    const reset = await parley(
      'new',
      { ...fresh, PARLEY_CONFIRM: 'new identity' },
      'identity',
      'reset',
      'ann',
    );
    const newFingerprint = /^New identity for ann\. Fingerprint ([0-9a-f]+)$/.exec(reset)![1]!;
    expect(newFingerprint).not.toBe(oldFingerprint);
    expect(await parley('new', {}, 'whoami')).toContain(`fingerprint ${newFingerprint}`);

    // Ben's next look-up warns; the number changes once he accepts the new keys.
    const warned = await parley('ben', {}, 'safety-number', 'ann');
    expect(warned).toContain("! ann's keys changed since they were pinned");
    expect(await parley('ben', {}, 'accept-key-change', 'ann')).toBe(
      "Now trusting ann's new keys.",
    );
    const after = await parley('ben', {}, 'safety-number', 'ann');
    expect(after).not.toContain('changed');
    expect(after).not.toBe(before);
    // Ann's side computes the same new number.
    expect(await parley('new', {}, 'safety-number', 'ben')).toBe(after);
  });
});
