import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database';
import type { Bus } from '../plugins/bus';
import { deleteDisappeared } from '../messages/message.repository';
import { publishToRoom } from '../realtime/events';
import { deleteRooms, expiredRooms } from './room.repository';

/** Rooms deleted per sweep at most; a backlog is worked off over the next sweeps. */
const SWEEP_BATCH = 100;

export interface RoomSweeper {
  /**
   * Deletes every room whose expiry has passed (up to one batch), and the messages rooms' timers
   * made disappear; returns the deleted rooms' ids.
   */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Deletes expired rooms every `intervalMs` with everything in them (`deleteRooms`): messages,
 * chain, key envelopes, members and attachments; subscribers are told `removed`. Also deletes the
 * ciphertext of disappeared messages (clients have stopped showing them on their own).
 */
export function startRoomSweeper(options: {
  db: Db;
  bus: Bus;
  intervalMs: number;
  log: FastifyBaseLogger;
}): RoomSweeper {
  const { db, bus, log } = options;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const sweep = async (): Promise<string[]> => {
    const deleted = await deleteRooms(db, await expiredRooms(db, SWEEP_BATCH), {
      expiredOnly: true,
    });
    for (const roomId of deleted) publishToRoom(bus, roomId, { t: 'deleted', reason: 'expired' });
    if (deleted.length > 0) log.info({ rooms: deleted.length }, 'expired rooms deleted');
    const disappeared = await deleteDisappeared(db);
    if (disappeared > 0) log.info({ messages: disappeared }, 'disappeared messages deleted');
    return deleted;
  };

  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(sweep).catch((error: unknown) => {
      log.error({ err: error }, 'sweeping expired rooms and messages failed');
    });
  }, options.intervalMs);
  timer.unref();

  return {
    sweep: () => {
      const result = running.then(sweep);
      running = result.catch(() => {});
      return result;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
