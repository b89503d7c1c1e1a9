// The message commit (commitBatch, the database function commit_messages) on its own, on the
// engine the suite runs on: every outcome a batch can hold, in one call and across calls, what it
// leaves in the tables, concurrent batches to one room taking distinct, gapless numbers, and a
// room deleted while a batch commits into it.
import { toHex } from '@parley/crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import {
  commitBatch,
  type CommitOutcome,
  type PendingMessage,
} from '../src/messages/message.repository';
import { createMessageService, type Accepted } from '../src/messages/message.service';
import { deleteRooms } from '../src/rooms/room.repository';
import { createTestApp } from './helpers';
import {
  appendEntry,
  createPerson,
  createRoom,
  type Person,
  type TestRoom,
} from './rooms-fixtures';

let app: ParleyApp;
let alice: Person;
let bob: Person;
let carol: Person;
let room: TestRoom;
let ephemeral: TestRoom;

beforeAll(async () => {
  app = await createTestApp();
  [alice, bob, carol] = [await createPerson(app), await createPerson(app), await createPerson(app)];
  room = await createRoom(app, alice, 'group');
  await appendEntry(app, room, alice, 'add', bob);
  ephemeral = await createRoom(app, alice, 'group', { ephemeral: true });
  await appendEntry(app, ephemeral, alice, 'add', bob);
});

afterAll(async () => {
  await app.close();
});

function pending(to: TestRoom | string, sender: Person, messageId: string): PendingMessage {
  const roomId = typeof to === 'string' ? to : to.id;
  return { roomId, senderId: sender.id, messageId, envelope: new TextEncoder().encode(messageId) };
}

/** Outcomes without their times, which are checked apart. */
function shapes(outcomes: CommitOutcome[]): unknown[] {
  return outcomes.map((o) => {
    if (o.status === 'refused') return o;
    if (o.status === 'duplicate') return { status: o.status, seq: o.seq };
    return { status: o.status, seq: o.seq, ephemeral: o.ephemeral };
  });
}

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('commitBatch', () => {
  it('numbers, deduplicates and refuses within one batch, and stores only what it numbers', async () => {
    const unknownRoom = toHex(crypto.getRandomValues(new Uint8Array(16)));
    const recent = new Map([[`${ephemeral.id}:${id(9)}`, 7]]);
    const outcomes = await commitBatch(
      app.db,
      [
        pending(room, alice, id(1)),
        pending(room, bob, id(2)),
        pending(room, carol, id(3)),
        pending(unknownRoom, alice, id(4)),
        pending(room, alice, id(1)),
        pending(room, bob, id(1)),
        pending(ephemeral, alice, id(5)),
        pending(ephemeral, alice, id(5)),
        pending(ephemeral, bob, id(9)),
        pending(ephemeral, bob, id(6)),
        pending(ephemeral, carol, id(6)),
      ],
      (roomId, messageId) => recent.get(`${roomId}:${messageId}`),
    );
    expect(shapes(outcomes)).toEqual([
      { status: 'stored', seq: 1, ephemeral: false },
      { status: 'stored', seq: 2, ephemeral: false },
      { status: 'refused', code: 'NOT_A_MEMBER' },
      { status: 'refused', code: 'ROOM_NOT_FOUND' },
      { status: 'duplicate', seq: 1 },
      { status: 'refused', code: 'MESSAGE_INVALID' },
      { status: 'stored', seq: 1, ephemeral: true },
      { status: 'duplicate', seq: 1 },
      // Remembered by the process from an earlier batch.
      { status: 'duplicate', seq: 7 },
      { status: 'stored', seq: 2, ephemeral: true },
      { status: 'refused', code: 'NOT_A_MEMBER' },
    ]);
    // One commit, one time for everything it numbered.
    const times = outcomes.flatMap((o) => (o.status === 'refused' ? [] : [o.sentAt.getTime()]));
    expect(new Set(times).size).toBe(1);

    const stored = await app.db
      .selectFrom('messages')
      .select(['room_id', 'seq', 'message_id', 'sender_id', 'envelope', 'sent_at'])
      .where('room_id', 'in', [room.id, ephemeral.id])
      .orderBy('seq')
      .execute();
    expect(stored.map((row) => [row.room_id, row.seq, row.message_id, row.sender_id])).toEqual([
      [room.id, 1, id(1), alice.id],
      [room.id, 2, id(2), bob.id],
    ]);
    expect(new TextDecoder().decode(stored[0]!.envelope)).toBe(id(1));
    expect(stored[0]!.sent_at.getTime()).toBe(times[0]);
    expect(await heads()).toEqual({ [room.id]: 2, [ephemeral.id]: 2 });
  });

  it('recognises a later batch retrying a stored message, and continues the numbering', async () => {
    const [first] = await app.db
      .selectFrom('messages')
      .select('sent_at')
      .where('room_id', '=', room.id)
      .where('seq', '=', 1)
      .execute();
    const outcomes = await commitBatch(
      app.db,
      [
        pending(room, alice, id(1)),
        pending(room, bob, id(1)),
        pending(room, carol, id(1)),
        pending(room, alice, id(10)),
      ],
      () => undefined,
    );
    expect(shapes(outcomes)).toEqual([
      { status: 'duplicate', seq: 1 },
      { status: 'refused', code: 'MESSAGE_INVALID' },
      { status: 'refused', code: 'NOT_A_MEMBER' },
      { status: 'stored', seq: 3, ephemeral: false },
    ]);
    // A retry answers with the time of the original commit.
    expect((outcomes[0] as { sentAt: Date }).sentAt.getTime()).toBe(first!.sent_at.getTime());
    expect(await heads()).toEqual({ [room.id]: 3, [ephemeral.id]: 2 });
    expect(await commitBatch(app.db, [], () => undefined)).toEqual([]);
  });

  it('matches an id within a batch against the message stored under it, not a refused one', async () => {
    const outcomes = await commitBatch(
      app.db,
      [
        pending(room, carol, id(20)),
        pending(room, alice, id(20)),
        pending(room, bob, id(20)),
        pending(room, alice, id(20)),
      ],
      () => undefined,
    );
    expect(shapes(outcomes)).toEqual([
      { status: 'refused', code: 'NOT_A_MEMBER' },
      { status: 'stored', seq: 4, ephemeral: false },
      { status: 'refused', code: 'MESSAGE_INVALID' },
      { status: 'duplicate', seq: 4 },
    ]);
  });

  it('plans its statements at every call, so a plan made while the tables were small never stays', async () => {
    // Without it, the statements' cached plans scanned the whole messages table once the engine
    // switched to a generic plan, and each commit took longer as the room filled (`pnpm bench`).
    const { rows } = await sql<{
      proconfig: string[] | null;
    }>`select proconfig from pg_proc where proname = 'commit_messages'`.execute(app.db);
    expect(rows).toEqual([{ proconfig: ['plan_cache_mode=force_custom_plan'] }]);
  });

  it('gives batches committed at the same time distinct numbers with no gap', async () => {
    const batches = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 20 }, (_, i) =>
        pending(room, i % 2 === 0 ? alice : bob, id(1000 + b * 100 + i)),
      ),
    );
    const results = await Promise.all(
      batches.map((batch) => commitBatch(app.db, batch, () => undefined)),
    );
    const seqs = results.flat().map((o) => (o.status === 'stored' ? o.seq : o.status));
    expect([...seqs].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 120 }, (_, i) => 5 + i),
    );
    // Within a batch, numbers follow the arrival order.
    for (const result of results) {
      const numbers = result.map((o) => (o as { seq: number }).seq);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }
    expect(await heads()).toEqual({ [room.id]: 124, [ephemeral.id]: 2 });
  });
});

describe('the message service', () => {
  // Frames from many sockets read in one turn of the event loop each get a callback of their own,
  // with microtasks run between them. On PGlite a commit runs inside those microtasks, so a
  // service that started committing from the first callback committed every message alone.
  it('commits the messages of one turn of the event loop in one batch', async () => {
    const service = createMessageService({ db: app.db, bus: app.bus, batchSize: 256 });
    const messages = Array.from({ length: 12 }, (_, n) =>
      room.message(n % 2 === 0 ? alice : bob, `message ${n}`),
    );
    const accepted = await Promise.all(
      messages.map(
        ({ envelope }, n) =>
          new Promise<Accepted>((resolve, reject) =>
            setImmediate(() =>
              service.send(room.id, (n % 2 === 0 ? alice : bob).id, envelope).then(resolve, reject),
            ),
          ),
      ),
    );
    await service.idle();
    // One commit, one time for every message.
    expect(new Set(accepted.map((a) => a.sentAt.getTime())).size).toBe(1);
    const seqs = accepted.map((a) => a.seq);
    expect(seqs).toEqual(seqs.map((_, n) => seqs[0]! + n));
  });
});

describe('deleting expired rooms while their messages commit', () => {
  it('leaves no message behind its room, whichever of the two locks the room first', async () => {
    for (let round = 0; round < 6; round++) {
      const doomed = await createRoom(app, alice, 'group');
      await appendEntry(app, doomed, alice, 'add', bob);
      await app.db
        .updateTable('rooms')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', doomed.id)
        .execute();
      const batch = Array.from({ length: 30 }, (_, i) =>
        pending(doomed, i % 2 === 0 ? alice : bob, id(5000 + round * 100 + i)),
      );
      const [outcomes, deleted] = await Promise.all([
        commitBatch(app.db, batch, () => undefined),
        deleteRooms(app.db, [doomed.id], { expiredOnly: true }),
      ]);
      expect(deleted).toEqual([doomed.id]);
      // Either the batch committed first (and its rows went with the room) or it found no room.
      expect(new Set(outcomes.map((o) => o.status)).size).toBe(1);
      const orphans = await app.db
        .selectFrom('messages')
        .select('seq')
        .where('room_id', '=', doomed.id)
        .execute();
      expect(orphans).toEqual([]);
    }
  });
});

async function heads(): Promise<Record<string, number>> {
  const rows = await app.db
    .selectFrom('rooms')
    .select(['id', 'head_seq'])
    .where('id', 'in', [room.id, ephemeral.id])
    .execute();
  return Object.fromEntries(rows.map((row) => [row.id, Number(row.head_seq)]));
}
