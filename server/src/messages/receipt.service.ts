import { sql } from 'kysely';
import type { ReceiptKind } from '@parley/wire';
import type { Db } from '../db/database';
import type { Bus } from '../plugins/bus';
import { publishToRoom } from '../realtime/events';

/** Rooms above this size do not relay `delivered` receipts (each would go to every member). */
export const DELIVERED_RELAY_MAX_MEMBERS = 32;

export interface Markers {
  delivered?: number;
  read?: number;
}

export interface ReceiptService {
  /**
   * Moves a member's marker forward soon: markers are coalesced per member and written (and
   * relayed to the room) together, so a client acknowledging every message costs one row update
   * per flush, not one per message.
   */
  record(roomId: string, userId: string, kind: ReceiptKind, seq: number): void;
  /** Writes markers at once (REST) and relays them. */
  recordNow(roomId: string, userId: string, markers: Markers): Promise<void>;
  /** Writes everything recorded so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createReceiptService(options: {
  db: Db;
  bus: Bus;
  flushIntervalMs: number;
  onError?: (error: unknown) => void;
}): ReceiptService {
  const { db, bus } = options;
  let pending = new Map<string, { roomId: string; userId: string } & Markers>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const batch = [...pending.values()];
    pending = new Map();
    if (batch.length === 0) return flushing;
    flushing = flushing
      .then(() => write(db, bus, batch))
      .catch((error: unknown) => {
        options.onError?.(error);
      });
    return flushing;
  }

  return {
    record(roomId, userId, kind, seq) {
      if (closed) return;
      const key = `${roomId}:${userId}`;
      const markers = pending.get(key) ?? { roomId, userId };
      markers[kind] = Math.max(markers[kind] ?? 0, seq);
      pending.set(key, markers);
      timer ??= setTimeout(() => void flush(), options.flushIntervalMs);
    },
    async recordNow(roomId, userId, markers) {
      await write(db, bus, [{ roomId, userId, ...markers }]);
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}

/**
 * One statement for the whole batch: markers only move forward and never past the room's newest
 * message; then each moved marker is relayed to the room's other subscribers.
 */
async function write(
  db: Db,
  bus: Bus,
  batch: ({ roomId: string; userId: string } & Markers)[],
): Promise<void> {
  const values = sql.join(
    batch.map(
      (m) =>
        sql`(${m.roomId}::text, ${m.userId}::text, ${m.delivered ?? null}::bigint, ${m.read ?? null}::bigint)`,
    ),
  );
  const updated = await sql<{
    room_id: string;
    user_id: string;
    delivered_seq: number;
    read_seq: number;
    member_count: number;
    moved_delivered: boolean;
    moved_read: boolean;
  }>`
    with v(room_id, user_id, delivered, read) as (values ${values}),
    old as (
      select m.room_id, m.user_id, m.delivered_seq, m.read_seq from room_members m
      join v on v.room_id = m.room_id and v.user_id = m.user_id
    )
    update room_members m set
      delivered_seq = greatest(m.delivered_seq, least(coalesce(v.delivered, 0), r.head_seq)),
      read_seq = greatest(m.read_seq, least(coalesce(v.read, 0), r.head_seq))
    from v, rooms r, old
    where m.room_id = v.room_id and m.user_id = v.user_id and r.id = v.room_id
      and old.room_id = m.room_id and old.user_id = m.user_id
    returning m.room_id, m.user_id, m.delivered_seq, m.read_seq, r.member_count,
      m.delivered_seq > old.delivered_seq as moved_delivered,
      m.read_seq > old.read_seq as moved_read`.execute(db);
  for (const row of updated.rows) {
    if (row.moved_read) relay(bus, row.room_id, row.user_id, 'read', row.read_seq);
    if (row.moved_delivered && row.member_count <= DELIVERED_RELAY_MAX_MEMBERS) {
      relay(bus, row.room_id, row.user_id, 'delivered', row.delivered_seq);
    }
  }
}

function relay(bus: Bus, roomId: string, userId: string, kind: ReceiptKind, seq: number): void {
  publishToRoom(
    bus,
    roomId,
    { t: 'relay', except: userId },
    `{"type":"receipt","room":"${roomId}","user":"${userId}","kind":"${kind}","seq":${seq}}`,
  );
}
