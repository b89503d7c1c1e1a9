// Disappearing messages (PROTOCOL.md §6.6) on the server: who may set a room's timer (the chain's
// rule), history and replay leaving out what the timer made disappear, and the sweeper deleting
// that ciphertext with its attachments.
import { ascii, canon, toBase64Url, u64 } from '@parley/crypto';
import type { HistoryPage } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError } from './accounts';
import { createTestApp } from './helpers';
import {
  appendEntry,
  createPerson,
  createRoom,
  distributeKey,
  listen,
  sendOver,
  TestSocket,
  type Person,
  type TestRoom,
} from './rooms-fixtures';

const HOUR = 3600;

let app: ParleyApp;
beforeAll(async () => {
  // The sweeper runs every 50 ms here, so a test sees it work without waiting a minute.
  app = await createTestApp({ config: { roomSweepIntervalMs: 50 } });
});
afterAll(async () => {
  await app.close();
});

async function timerOf(roomId: string): Promise<number> {
  const row = await app.db
    .selectFrom('rooms')
    .select('message_timer')
    .where('id', '=', roomId)
    .executeTakeFirstOrThrow();
  return row.message_timer;
}

function postEntry(actor: Person, room: TestRoom, entry: Uint8Array) {
  return app.inject({
    method: 'POST',
    url: `/api/rooms/${room.id}/chain`,
    headers: actor.auth,
    payload: { entry: toBase64Url(entry) },
  });
}

/** Moves a stored message back in time, as if it had been sent `seconds` ago. */
async function backdate(roomId: string, seq: number, seconds: number): Promise<void> {
  await app.db
    .updateTable('messages')
    .set({ sent_at: new Date(Date.now() - seconds * 1000) })
    .where('room_id', '=', roomId)
    .where('seq', '=', seq)
    .execute();
}

describe('the message timer', () => {
  it('is set by an admin of a group and by either party of a direct conversation', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const group = await createRoom(app, alice, 'group');
    await appendEntry(app, group, alice, 'set-timer', alice, HOUR);
    expect(await timerOf(group.id)).toBe(HOUR);
    await appendEntry(app, group, alice, 'set-timer', alice, 0);
    expect(await timerOf(group.id)).toBe(0);

    const direct = await createRoom(app, alice, 'direct', {}, bob);
    await appendEntry(app, direct, bob, 'set-timer', bob, 300);
    expect(await timerOf(direct.id)).toBe(300);
  });

  it('is refused to plain members and for someone else, and malformed timers are refused', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await createRoom(app, alice, 'channel');
    await appendEntry(app, room, alice, 'add', bob);

    expectError(
      await postEntry(bob, room, room.entry(bob, 'set-timer', bob, 60)),
      403,
      'CHAIN_NOT_ALLOWED',
    );
    // A set-timer entry of more than a year does not decode (before its signature is looked at).
    const body = canon('parley/v1/membership', [
      room.idBytes,
      u64(room.head.position + 1),
      room.head.hash,
      alice.idBytes,
      ascii('set-timer'),
      alice.idBytes,
      canon('parley/v1/message-timer', [u64(366 * 24 * HOUR)]),
    ]);
    const oversized = canon('parley/v1/membership-entry', [body, new Uint8Array(64)]);
    expectError(await postEntry(alice, room, oversized), 400, 'CHAIN_INVALID');
    expect(await timerOf(room.id)).toBe(0);
  });
});

describe('messages the timer made disappear', () => {
  it('are left out of history and replay at once, then deleted with their attachments', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await createRoom(app, alice, 'group');
    await appendEntry(app, room, alice, 'add', bob);
    await distributeKey(app, room, alice, [alice, bob]);
    // Epoch 1 began two hours ago (when its key was handed out); epoch 0's key is no longer needed.
    const carol = await createPerson(app);
    await appendEntry(app, room, alice, 'add', carol);
    await appendEntry(app, room, alice, 'remove', carol);
    await distributeKey(app, room, alice, [alice, bob]);
    await app.db
      .updateTable('room_key_envelopes')
      .set({ created_at: new Date(Date.now() - 2 * HOUR * 1000) })
      .where('room_id', '=', room.id)
      .execute();
    const other = await createRoom(app, alice, 'group');
    await distributeKey(app, other, alice, [alice]);
    const url = await listen(app);
    const socket = await TestSocket.authenticated(url, alice);
    for (const text of ['old', 'recent']) {
      expect((await sendOver(socket, room.id, room.message(alice, text))).type).toBe('ack');
    }
    expect((await sendOver(socket, other.id, other.message(alice, 'kept'))).type).toBe('ack');
    const upload = await app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/attachments`,
      headers: { ...alice.auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('opaque bytes'),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    // Two hours old, in both rooms; only one room has a timer (of an hour).
    await backdate(room.id, 1, 2 * HOUR);
    await backdate(other.id, 1, 2 * HOUR);
    await app.db
      .updateTable('attachments')
      .set({ created_at: new Date(Date.now() - 2 * HOUR * 1000) })
      .where('room_id', '=', room.id)
      .execute();

    const history = async (roomId: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/api/rooms/${roomId}/messages`,
          headers: alice.auth,
        })
      ).json<HistoryPage>().messages;
    expect((await history(room.id)).map((m) => m.seq)).toEqual([1, 2]);

    await appendEntry(app, room, alice, 'set-timer', alice, HOUR);
    // Gone for every reader before the sweeper has deleted anything.
    expect((await history(room.id)).map((m) => m.seq)).toEqual([2]);
    expect((await history(other.id)).map((m) => m.seq)).toEqual([1]);
    const replay = await TestSocket.authenticated(url, bob);
    replay.send({ type: 'subscribe', room: room.id, after: 0 });
    expect(await replay.next((f) => f.type === 'message')).toMatchObject({ seq: 2 });

    const stored = () =>
      app.db.selectFrom('messages').select('seq').where('room_id', '=', room.id).execute();
    const envelopeEpochs = async () =>
      new Set(
        (
          await app.db
            .selectFrom('room_key_envelopes')
            .select('epoch')
            .where('room_id', '=', room.id)
            .execute()
        ).map((row) => row.epoch),
      );
    // Envelopes go last in a sweep: once they have, the whole sweep is done.
    const deadline = Date.now() + 5000;
    while ((await envelopeEpochs()).has(0)) {
      if (Date.now() > deadline) throw new Error('the sweeper did not delete epoch 0');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await envelopeEpochs()).toEqual(new Set([1]));
    expect((await stored()).map((row) => row.seq)).toEqual([2]);
    expect(
      await app.db.selectFrom('attachments').select('id').where('room_id', '=', room.id).execute(),
    ).toEqual([]);
    // The room without a timer keeps its old message.
    expect(
      await app.db.selectFrom('messages').select('seq').where('room_id', '=', other.id).execute(),
    ).toEqual([{ seq: 1 }]);
    expect(replay.frames.filter((f) => f.type === 'message').map((f) => f.seq)).toEqual([2]);
    socket.close();
    replay.close();
  });
});
