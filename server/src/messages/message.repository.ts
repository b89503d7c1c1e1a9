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
  | {
      status: 'refused';
      code:
        'ROOM_NOT_FOUND' | 'NOT_A_MEMBER' | 'MESSAGE_INVALID' | 'DIRECT_REFUSED' | 'USER_BLOCKED';
    };

/**
 * Commits a batch of messages in one transaction and returns each one's outcome, in order: one
 * call of the database function `commit_messages` (migration 20261122000000, which documents the
 * rules: rooms locked in id order, membership read under that lock, retries recognised as
 * duplicates, ephemeral rooms numbering without storing).
 */
export async function commitBatch(
  db: Db,
  batch: readonly PendingMessage[],
  isRecentEphemeral: (roomId: string, messageId: string) => number | undefined,
): Promise<CommitOutcome[]> {
  const { rows } = await sql<{
    o_status: 'stored' | 'duplicate' | 'refused';
    o_seq: number | null;
    o_sent_at: Date | null;
    o_ephemeral: boolean | null;
    o_code: 'ROOM_NOT_FOUND' | 'NOT_A_MEMBER' | 'MESSAGE_INVALID' | null;
  }>`select o_status, o_seq, o_sent_at, o_ephemeral, o_code from commit_messages(
      ${batch.map((m) => m.roomId)}::text[],
      ${batch.map((m) => m.senderId)}::text[],
      ${batch.map((m) => m.messageId)}::text[],
      ${batch.map((m) => m.envelope)}::bytea[],
      ${batch.map((m) => isRecentEphemeral(m.roomId, m.messageId) ?? null)}::bigint[])`.execute(db);
  if (rows.length !== batch.length) {
    throw new Error(`commit_messages: ${rows.length} outcomes for ${batch.length} messages`);
  }
  return rows.map((row): CommitOutcome => {
    switch (row.o_status) {
      case 'stored':
        return {
          status: 'stored',
          seq: row.o_seq!,
          sentAt: row.o_sent_at!,
          ephemeral: row.o_ephemeral!,
        };
      case 'duplicate':
        return { status: 'duplicate', seq: row.o_seq!, sentAt: row.o_sent_at! };
      case 'refused':
        return { status: 'refused', code: row.o_code! };
    }
  });
}

/**
 * Keeps to messages the room's timer has not made disappear (PROTOCOL.md §6.6) even before the
 * sweeper deletes them. The timer is read once per query, not once per row.
 */
function notDisappeared(roomId: string) {
  return sql<boolean>`messages.sent_at > coalesce((select now() - rooms.message_timer * interval '1 second' from rooms where rooms.id = ${roomId} and rooms.message_timer > 0), '-infinity'::timestamptz)`;
}

/** Whether `column` (a time) lies more than its room's timer back; `rooms` must be in scope. */
function pastTimer(column: string) {
  return sql<boolean>`rooms.message_timer > 0 and ${sql.ref(column)} <= now() - rooms.message_timer * interval '1 second'`;
}

/**
 * Deletes what rooms' timers made disappear: every message and attachment stored more than the
 * timer ago (an attachment is uploaded before the message that names it), and the room-key
 * envelopes of epochs that ended more than the timer ago (when the next epoch's key was first
 * handed out), which no message still served needs. Returns how many messages went.
 */
export async function deleteDisappeared(db: Db): Promise<number> {
  const messages = await db
    .deleteFrom('messages')
    .using('rooms')
    .whereRef('messages.room_id', '=', 'rooms.id')
    .where(pastTimer('messages.sent_at'))
    .executeTakeFirst();
  await db
    .deleteFrom('attachments')
    .using('rooms')
    .whereRef('attachments.room_id', '=', 'rooms.id')
    .where(pastTimer('attachments.created_at'))
    .execute();
  await db
    .deleteFrom('room_key_envelopes')
    .using('rooms')
    .whereRef('room_key_envelopes.room_id', '=', 'rooms.id')
    .whereRef('room_key_envelopes.epoch', '<', 'rooms.epoch')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('room_key_envelopes as next')
          .select(sql`1`.as('one'))
          .whereRef('next.room_id', '=', 'rooms.id')
          .where(sql<boolean>`next.epoch = room_key_envelopes.epoch + 1`)
          .where(pastTimer('next.created_at')),
      ),
    )
    .execute();
  return Number(messages.numDeletedRows);
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
    .where(notDisappeared(roomId))
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
    .where('room_id', '=', roomId)
    .where(notDisappeared(roomId));
  if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
  return query.orderBy('seq', 'desc').limit(limit).execute();
}
