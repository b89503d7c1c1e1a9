// `parley sessions` against a live server: two homes signed in to one account, each named by
// PARLEY_DEVICE_NAME, the list marking this device, and one home signing the other out.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-run';
import { startServer, type LiveServer } from './harness';

describe('the parley sessions commands', () => {
  let server: LiveServer;
  let root: string;

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-sessions-'));
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
    return runCli(
      { root, home, server: server.baseUrl },
      { PARLEY_PASSWORD: 'kim long password', ...env },
      args,
    );
  }

  async function parley(home: string, env: Record<string, string>, ...args: string[]) {
    const result = await run(home, env, ...args);
    expect(result.code, `parley ${args.join(' ')}: ${result.err}`).toBe(0);
    return result.out;
  }

  const LINE =
    /^([0-9a-f]{32}) {2}(.+) {2}last seen \d{4}-\d\d-\d\d \d\d:\d\d UTC( {2}\(this device\))?$/;

  function parse(out: string) {
    return out.split('\n').map((line) => {
      const match = LINE.exec(line);
      expect(match, line).not.toBeNull();
      return { current: match![3] !== undefined, id: match![1]!, device: match![2]! };
    });
  }

  it('lists the signed-in devices and signs one out', async () => {
    const desk = { PARLEY_DEVICE_NAME: 'Desk' };
    const laptop = { PARLEY_DEVICE_NAME: 'Laptop' };
    await parley('desk', desk, 'signup', 'kim', '--no-backup');
    await parley('laptop', laptop, 'login', 'kim');

    const fromDesk = parse(await parley('desk', desk, 'sessions'));
    expect(fromDesk.map(({ current, device }) => [device, current]).sort()).toEqual([
      ['Desk', true],
      ['Laptop', false],
    ]);
    // Without PARLEY_DEVICE_NAME the machine's name is used; `list` is the same as no subcommand.
    const fromLaptop = parse(await parley('laptop', {}, 'sessions', 'list'));
    expect(fromLaptop.find((s) => s.current)!.device).toMatch(/^Laptop$|^parley CLI on /);

    const laptopId = fromDesk.find((s) => s.device === 'Laptop')!.id;
    expect(await parley('desk', desk, 'sessions', 'revoke', laptopId)).toBe(
      `Signed out session ${laptopId}.`,
    );
    const signedOut = await run('laptop', laptop, 'sessions');
    expect(signedOut.code).toBe(1);
    expect(signedOut.err).toMatch(/^parley: (SESSION_REVOKED|REFRESH_TOKEN_INVALID): /);
    expect(parse(await parley('desk', desk, 'sessions')).map((s) => s.device)).toEqual(['Desk']);

    const again = await run('desk', desk, 'sessions', 'revoke', laptopId);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^parley: SESSION_NOT_FOUND: /);
    const bad = await run('desk', desk, 'sessions', 'revoke', 'not-an-id');
    expect(bad.err).toMatch(/^parley: INVALID_ARGUMENT: /);

    const deskId = fromDesk.find((s) => s.current)!.id;
    expect(await parley('desk', desk, 'sessions', 'revoke', deskId)).toBe(
      'Signed out this device.',
    );
    expect((await run('desk', desk, 'sessions')).err).toMatch(/NOT_SIGNED_IN/);
  });
});
