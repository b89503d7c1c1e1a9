import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../src/client';
import { FileKeyStore } from '../src/key-store/file';
import { nodeTransport } from '../src/node';
import { expectClientCode } from './helpers';
import { eventually, movableClock, passwordOf, person, startServer, type LiveServer } from './live';

const HOUR_MS = 3600_000;
let server: LiveServer;
let dir: string;
let alice: Client;
let bob: Client;
const clock = movableClock();

async function aliceOn(path: string): Promise<Client> {
  return createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: await FileKeyStore.open(path),
    clock,
    tuning: { reconnectMs: 50, maxReconnectMs: 500, searchSaveDelayMs: 20 },
  });
}

const words = (hit: { snippet: { text: string; match: boolean }[] }) =>
  hit.snippet.filter((part) => part.match).map((part) => part.text.toLowerCase());

beforeAll(async () => {
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'parley-search-'));
  alice = await aliceOn(join(dir, 'alice.json'));
  await alice.signUp({ username: 'alice', password: passwordOf('alice') });
  alice.connect();
  await alice.connected();
  bob = await person(server, 'bob');
});

afterAll(async () => {
  await Promise.all([alice.close(), bob.close()]);
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('search in history', () => {
  it('finds live messages across rooms and in one room, with sender, time and snippet', async () => {
    const lunch = await alice.createGroup({ name: 'lunch club', members: ['bob'] });
    const work = await alice.createGroup({ name: 'work', members: ['bob'] });
    await bob.syncRooms();
    const { messageId } = await bob.send(lunch.roomId, 'shall we try the new ramen place?');
    await bob.send(work.roomId, 'the ramen budget is approved');
    await alice.send(work.roomId, 'unrelated status update');
    const hits = await eventually(async () => {
      const found = await alice.search('ramen');
      return found.length === 2 && found;
    }, 'both ramen messages indexed');
    const inLunch = hits.find((hit) => hit.roomId === lunch.roomId)!;
    expect(inLunch).toMatchObject({ messageId, senderName: 'bob', roomName: 'lunch club' });
    expect(words(inLunch)).toEqual(['ramen']);
    expect(Date.parse(inLunch.time)).toBeGreaterThan(Date.now() - 60_000);
    const only = await alice.search('ram', { roomId: work.roomId });
    expect(only.map((hit) => hit.roomId)).toEqual([work.roomId]);
    expect(await alice.search('ramen place budget')).toEqual([]);
    // What the room's name says is found too.
    expect((await alice.search('lunch')).map((hit) => hit.messageId)).toEqual([messageId]);
  });

  it('follows edits and deletes, and loads a result in its context', async () => {
    const room = await alice.createGroup({ name: 'edits', members: ['bob'] });
    await bob.syncRooms();
    for (let i = 1; i <= 6; i++) await bob.send(room.roomId, `filler message ${i}`);
    const { messageId } = await bob.send(room.roomId, 'the meeting is on tuesday');
    for (let i = 7; i <= 12; i++) await bob.send(room.roomId, `filler message ${i}`);
    const [hit] = await eventually(async () => {
      const found = await alice.search('tuesday');
      return found.length === 1 && found;
    }, 'indexed');
    // The result in its context: a page up to it and a page after it.
    const before = await alice.history(room.roomId, { before: hit!.seq + 1, limit: 4 });
    const after = await alice.history(room.roomId, { after: hit!.seq, limit: 3 });
    expect(before.map((m) => m.text)).toEqual([
      'filler message 4',
      'filler message 5',
      'filler message 6',
      'the meeting is on tuesday',
    ]);
    expect(after.map((m) => m.text)).toEqual([
      'filler message 7',
      'filler message 8',
      'filler message 9',
    ]);

    await bob.edit(room.roomId, messageId, 'the meeting is on thursday');
    await eventually(async () => (await alice.search('thursday')).length === 1, 'edit indexed');
    expect(await alice.search('tuesday')).toEqual([]);
    await bob.deleteMessage(room.roomId, messageId);
    await eventually(async () => (await alice.search('thursday')).length === 0, 'delete indexed');
    // Reading the history again does not bring the deleted message back.
    await alice.history(room.roomId, { limit: 50 });
    expect(await alice.search('meeting')).toEqual([]);
  });

  it('drops messages past the room timer, and forgets a room it leaves', async () => {
    const room = await bob.createGroup({ name: 'fleeting', members: ['alice'] });
    await bob.setMessageTimer(room.roomId, 3600);
    await eventually(async () => {
      await alice.syncRooms();
      return alice.room(room.roomId).messageTimer === 3600;
    }, 'alice sees the timer');
    await bob.send(room.roomId, 'this note self destructs');
    await eventually(async () => (await alice.search('destructs')).length === 1, 'indexed');
    clock.offsetMs = 2 * HOUR_MS;
    expect(await alice.search('destructs')).toEqual([]);
    clock.offsetMs = 0;
    // Gone from the index itself, not only from the answers.
    expect(await alice.search('destructs')).toEqual([]);

    const left = await bob.createGroup({ name: 'farewell', members: ['alice'] });
    await bob.send(left.roomId, 'goodbye everyone');
    await eventually(async () => (await alice.search('goodbye')).length === 1, 'indexed');
    await alice.leave(left.roomId);
    await eventually(async () => (await alice.search('goodbye')).length === 0, 'forgotten');
  });

  it('keeps the index sealed in the file key store, and finds it again after a restart', async () => {
    const room = await alice.createGroup({ name: 'persisted', members: ['bob'] });
    await bob.syncRooms();
    await bob.send(room.roomId, 'the password is xylophone');
    await eventually(async () => (await alice.search('xylophone')).length === 1, 'indexed');
    const stats = await alice.searchStats();
    expect(stats.messages).toBeGreaterThan(0);
    await alice.close();
    const file = await readFile(join(dir, 'alice.json'), 'utf8');
    expect(file).toContain('search:index');
    expect(file).not.toContain('xylophone');
    expect(file).not.toContain('ramen');

    alice = await aliceOn(join(dir, 'alice.json'));
    await alice.logIn({ username: 'alice', password: passwordOf('alice') });
    expect((await alice.search('xylophone')).map((hit) => hit.roomId)).toEqual([room.roomId]);
    expect(await alice.search('goodbye')).toEqual([]);
    alice.connect();
    await alice.connected();
  });

  it('needs an account on the device, and is erased with a forgotten device', async () => {
    const blank = await createClient({
      transport: nodeTransport(server.baseUrl),
      keyStore: await FileKeyStore.open(join(dir, 'blank.json')),
    });
    await expectClientCode(blank.search('anything'), 'NOT_SIGNED_IN');
    await blank.signUp({ username: 'carol', password: passwordOf('carol') });
    const room = await blank.createGroup({ name: 'mine' });
    await blank.send(room.roomId, 'carol writes alone');
    blank.connect();
    await blank.connected();
    await blank.syncRooms();
    await eventually(async () => (await blank.search('alone')).length === 1, 'indexed');
    await blank.logOut({ forget: true });
    await blank.close();
    const file = await readFile(join(dir, 'blank.json'), 'utf8');
    expect(file).not.toContain('search:');
  });
});
