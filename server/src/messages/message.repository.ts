import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { MessageRow } from './message.table';

/** A message waiting to be committed. */
export interface PendingMessage {
  roomId: string;
  senderId: string;
  /** The header's message id, hex. */
  messageId: string;
  envelope: Uint8Array;
}

/** What became of a pending message in its batch. */
export type CommitOutcome =
  | { status: 'stored'; seq: number; sentAt: Date; ephemeral: boolean }
  | { status: 'duplicate'; seq: number; sentAt: Date }
  | { status: 'refused'; code: 'ROOM_NOT_FOUND' | 'NOT_A_MEMBER' | 'MESSAGE_INVALID' };

/**
 * Commits a batch of messages in one transaction and returns each one's outcome, in order.
 *
 * The rooms' rows are locked first (in id order, so two batches never deadlock), which puts every
 * commit to a room in one order across all server processes: a sequence number is taken only
 * after every smaller one of the room is committed, and a retry of a message committed by another
 * process is seen as a duplicate. Membership is read under the same lock that a removal takes, so
 * nothing is stored for someone after their removal committed. Ephemeral rooms take sequence
 * numbers but store nothing. Three statements whatever the batch size.
 */
export async function commitBatch(
  db: Db,
  batch: readonly PendingMessage[],
  isRecentEphemeral: (roomId: string, messageId: string) => number | undefined,
): Promise<CommitOutcome[]> {
  return db.transaction().execute(async (trx) => {
    const roomIds = [...new Set(batch.map((m) => m.roomId))].sort();
    const rooms = await sql<{ id: string; head_seq: number; ephemeral: boolean; now: Date }>`
      select id, head_seq, ephemeral, now() as now from rooms
      where id = any(${roomIds}::text[]) order by id for update`.execute(trx);
    const roomById = new Map(rooms.rows.map((row) => [row.id, row]));

    // Who of the senders are members, and which of these ids are stored already: one statement.
    // Arrays rather than one parameter per value: the statement text stays the same whatever the
    // batch size, and the engines parse a handful of parameters instead of hundreds.
    const batchRooms = batch.map((m) => m.roomId);
    const senders = batch.map((m) => m.senderId);
    const messageIds = batch.map((m) => m.messageId);
    const known = await sql<{
      kind: 'member' | 'message';
      room_id: string;
      key: string;
      seq: number | null;
      sender_id: string | null;
      sent_at: Date | null;
    }>`
      select 'member' as kind, room_id, user_id as key,
        null::bigint as seq, null::text as sender_id, null::timestamptz as sent_at
      from room_members where (room_id, user_id) in
        (select * from unnest(${batchRooms}::text[], ${senders}::text[]))
      union all
      select 'message', room_id, message_id, seq, sender_id, sent_at
      from messages where (room_id, message_id) in
        (select * from unnest(${batchRooms}::text[], ${messageIds}::text[]))`.execute(trx);
    const isMember = new Set<string>();
    const existing: {
      room_id: string;
      message_id: string;
      seq: number;
      sender_id: string;
      sent_at: Date;
    }[] = [];
    for (const row of known.rows) {
      if (row.kind === 'member') isMember.add(`${row.room_id}:${row.key}`);
      else {
        existing.push({
          room_id: row.room_id,
          message_id: row.key,
          seq: row.seq!,
          sender_id: row.sender_id!,
          sent_at: row.sent_at!,
        });
      }
    }
    const stored = new Map(existing.map((row) => [`${row.room_id}:${row.message_id}`, row]));

    const outcomes: CommitOutcome[] = [];
    const heads = new Map<string, number>();
    const inserts: { roomId: string; seq: number; message: PendingMessage }[] = [];
    const taken = new Map<string, CommitOutcome & { sender: string }>();
    for (const message of batch) {
      const room = roomById.get(message.roomId);
      if (room === undefined) {
        outcomes.push({ status: 'refused', code: 'ROOM_NOT_FOUND' });
        continue;
      }
      if (!isMember.has(`${message.roomId}:${message.senderId}`)) {
        outcomes.push({ status: 'refused', code: 'NOT_A_MEMBER' });
        continue;
      }
      const key = `${message.roomId}:${message.messageId}`;
      const earlier = stored.get(key);
      if (earlier !== undefined) {
        outcomes.push(
          earlier.sender_id === message.senderId
            ? { status: 'duplicate', seq: earlier.seq, sentAt: earlier.sent_at }
            : { status: 'refused', code: 'MESSAGE_INVALID' },
        );
        continue;
      }
      const inBatch = taken.get(key);
      if (inBatch !== undefined) {
        outcomes.push(
          inBatch.sender === message.senderId && inBatch.status === 'stored'
            ? { status: 'duplicate', seq: inBatch.seq, sentAt: inBatch.sentAt }
            : { status: 'refused', code: 'MESSAGE_INVALID' },
        );
        continue;
      }
      if (room.ephemeral) {
        const recent = isRecentEphemeral(message.roomId, message.messageId);
        if (recent !== undefined) {
          outcomes.push({ status: 'duplicate', seq: recent, sentAt: room.now });
          continue;
        }
      }
      const seq = (heads.get(message.roomId) ?? room.head_seq) + 1;
      heads.set(message.roomId, seq);
      const outcome = {
        status: 'stored',
        seq,
        sentAt: room.now,
        ephemeral: room.ephemeral,
      } as const;
      taken.set(key, { ...outcome, sender: message.senderId });
      outcomes.push(outcome);
      if (!room.ephemeral) inserts.push({ roomId: message.roomId, seq, message });
    }

    // The new rows and the rooms' new heads in one statement.
    if (heads.size > 0) {
      const insert =
        inserts.length === 0
          ? sql``
          : sql`with inserted as (
              insert into messages (room_id, seq, message_id, sender_id, envelope, sent_at)
              select * from unnest(
                ${inserts.map((row) => row.roomId)}::text[],
                ${inserts.map((row) => row.seq)}::bigint[],
                ${inserts.map((row) => row.message.messageId)}::text[],
                ${inserts.map((row) => row.message.senderId)}::text[],
                ${inserts.map((row) => row.message.envelope)}::bytea[],
                ${inserts.map((row) => roomById.get(row.roomId)!.now)}::timestamptz[])
              returning 1)`;
      await sql`${insert}
        update rooms set head_seq = v.head, last_activity_at = now()
        from unnest(${[...heads.keys()]}::text[], ${[...heads.values()]}::bigint[]) as v(id, head)
        where rooms.id = v.id`.execute(trx);
    }
    return outcomes;
  });
}

/** Messages of a room after `afterSeq`, oldest first (replay, resume and gap filling). */
export async function messagesAfter(
  db: Db,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<Pick<MessageRow, 'seq' | 'envelope' | 'sent_at'>[]> {
  return db
    .selectFrom('messages')
    .select(['seq', 'envelope', 'sent_at'])
    .where('room_id', '=', roomId)
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
}

/** Messages of a room below `beforeSeq` (the newest when absent), newest first. */
export async function messagesBefore(
  db: Db,
  roomId: string,
  beforeSeq: number | undefined,
  limit: number,
): Promise<Pick<MessageRow, 'seq' | 'envelope' | 'sent_at'>[]> {
  let query = db
    .selectFrom('messages')
    .select(['seq', 'envelope', 'sent_at'])
    .where('room_id', '=', roomId);
  if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
  return query.orderBy('seq', 'desc').limit(limit).execute();
}
