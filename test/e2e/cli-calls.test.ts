// `parley calls <room>` against a live server: two clients ring, answer, hang up, decline and miss
// calls in a direct conversation (the signalling state machine of @parley/client, with text SDPs),
// then the command prints the history from alice's key store on disk.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client, DtlsFingerprint } from '@parley/client';
import { FileKeyStore } from '@parley/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedUsers, eventually, startServer, type LiveServer } from './harness';

const CLIENT = resolve(import.meta.dirname, '../../packages/client');

function fingerprint(byte: number): DtlsFingerprint {
  const bytes = Array.from({ length: 32 }, (_, i) =>
    ((byte + i) % 256).toString(16).padStart(2, '0'),
  );
  return { algorithm: 'sha-256', value: bytes.join(':').toUpperCase() };
}
const description = (fp: DtlsFingerprint) => ({
  sdp: `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:${fp.algorithm} ${fp.value}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n`,
  fingerprint: fp,
});

describe('the parley calls command', () => {
  let server: LiveServer;
  let root: string;

  beforeAll(async () => {
    server = await startServer();
    root = await mkdtemp(join(tmpdir(), 'parley-cli-calls-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function parley(
    ...args: string[]
  ): Promise<{ code: number | null; out: string; err: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: CLIENT,
      env: { ...process.env, PARLEY_HOME: join(root, 'alice'), PARLEY_SERVER: server.baseUrl },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    return { code, out: out.trim(), err: err.trim() };
  }

  it('lists a completed, a declined and a missed call, and says a terminal cannot call', async () => {
    const [alice, bob] = (await connectedUsers(server, ['alice', 'bob'], async (name) =>
      name === 'alice'
        ? {
            keyStore: await FileKeyStore.open(join(root, 'alice', 'keys.json')),
            tuning: { ringTimeoutMs: 1000 },
          }
        : { tuning: { ringTimeoutMs: 1000 } },
    )) as [Client, Client];
    const { roomId } = await alice.createDirect('bob');
    await eventually(
      async () => {
        await bob.syncRooms();
        return bob.listRooms().some((room) => room.roomId === roomId);
      },
      10_000,
      'bob has the room',
    );
    const bobPhase = (phase: string) => bob.next('call', (state) => state.phase === phase);
    const alicePhase = (phase: string) => alice.next('call', (state) => state.phase === phase);

    // Answered, then hung up.
    let ringing = bobPhase('incoming-ringing');
    const first = await alice.calls.start(roomId, 'audio', description(fingerprint(1)));
    await ringing;
    const connecting = alicePhase('connecting');
    await bob.calls.accept(first.callId, description(fingerprint(2)));
    await connecting;
    alice.calls.mediaConnected(first.callId);
    const over = bobPhase('ended');
    await alice.calls.hangUp(first.callId);
    await over;

    // Declined by bob.
    ringing = bobPhase('incoming-ringing');
    const second = await alice.calls.start(roomId, 'video', description(fingerprint(1)));
    await ringing;
    const declined = alicePhase('ended');
    await bob.calls.decline(second.callId);
    await declined;

    // Bob calls; alice lets it ring out.
    const rang = alicePhase('incoming-ringing');
    await bob.calls.start(roomId, 'audio', description(fingerprint(2)));
    await rang;
    await Promise.all([alicePhase('ended'), bobPhase('ended')]);
    await eventually(
      async () => (await alice.callHistory(roomId)).length === 3,
      10_000,
      'three calls',
    );
    await alice.close();
    await bob.close();

    const listed = await parley('calls', roomId);
    expect(listed.code, listed.err).toBe(0);
    const lines = listed.out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] Call with bob, 0:0\d$/);
    expect(lines[1]).toMatch(/\] bob declined the call$/);
    expect(lines[2]).toMatch(/\] Missed call from bob$/);

    const help = await parley('calls', '--help');
    expect(help.out.replace(/\s+/g, ' ')).toMatch(/a terminal has no camera or speaker/);
  });
});
