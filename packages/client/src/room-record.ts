// How a room is kept in the key store: its verified chain (verified again when loaded), its epoch
// keys, each sender's recent counters and hashes, this device's own counter, and the messages held
// for a key. Bytes are base64url and maps plain objects, so any key store can hold the record.
import { fromBase64Url, toBase64Url, type ChainCheckpoint } from '@parley/crypto';
import type { StoredValue } from './key-store/key-store';
import type { HeldMessage, RoomInfo, SenderMemory } from './room-state';

/** What a room record holds, decoded. */
export interface StoredRoom {
  roomId: string;
  info: RoomInfo;
  lastSeq: number;
  chain: readonly Uint8Array[];
  checkpoint: ChainCheckpoint | undefined;
  epochKeys: ReadonlyMap<number, Uint8Array>;
  senders: ReadonlyMap<string, SenderMemory>;
  own: { counter: number; lastHash: Uint8Array | undefined };
  held: HeldMessage[];
  /** When the server stored each chain entry, by position (advisory, for display). */
  chainTimes: ReadonlyMap<number, string>;
}

interface RoomRecord {
  roomId: string;
  info: { name: string | null; topic: string | null; tags: string[] | null };
  lastSeq: number;
  chain: string[];
  checkpoint: { position: number; hash: string } | null;
  epochKeys: Record<string, string>;
  senders: Record<string, { highest: number; seen: Record<string, [string, string, number]> }>;
  own: { counter: number; lastHash: string | null };
  held: { seq: number; envelope: string; sentAt: string | null }[];
  /** Absent in records written before entries were dated. */
  chainTimes?: Record<string, string>;
}

export function encodeRoom(room: StoredRoom): StoredValue {
  const record: RoomRecord = {
    roomId: room.roomId,
    info: {
      name: room.info.name ?? null,
      topic: room.info.topic ?? null,
      tags: room.info.tags ?? null,
    },
    lastSeq: room.lastSeq,
    chain: room.chain.map(toBase64Url),
    checkpoint:
      room.checkpoint === undefined
        ? null
        : { position: room.checkpoint.position, hash: toBase64Url(room.checkpoint.hash) },
    epochKeys: Object.fromEntries(
      [...room.epochKeys].map(([epoch, key]) => [String(epoch), toBase64Url(key)]),
    ),
    senders: Object.fromEntries(
      [...room.senders].map(([sender, memory]) => [
        sender,
        {
          highest: memory.highest,
          seen: Object.fromEntries(
            [...memory.seen].map(([counter, [hash, prev, seq]]) => [
              String(counter),
              [toBase64Url(hash), toBase64Url(prev), seq],
            ]),
          ),
        },
      ]),
    ),
    own: {
      counter: room.own.counter,
      lastHash: room.own.lastHash === undefined ? null : toBase64Url(room.own.lastHash),
    },
    held: room.held.map((held) => ({
      seq: held.seq,
      envelope: toBase64Url(held.envelope),
      sentAt: held.sentAt ?? null,
    })),
    chainTimes: Object.fromEntries(room.chainTimes),
  };
  return record as unknown as StoredValue;
}

export function decodeRoom(value: StoredValue): StoredRoom {
  const record = value as unknown as RoomRecord;
  return {
    roomId: record.roomId,
    info: {
      name: record.info.name ?? undefined,
      topic: record.info.topic ?? undefined,
      tags: record.info.tags ?? undefined,
    },
    lastSeq: record.lastSeq,
    chain: record.chain.map(fromBase64Url),
    checkpoint:
      record.checkpoint === null
        ? undefined
        : { position: record.checkpoint.position, hash: fromBase64Url(record.checkpoint.hash) },
    epochKeys: new Map(
      Object.entries(record.epochKeys).map(([epoch, key]) => [Number(epoch), fromBase64Url(key)]),
    ),
    senders: new Map(
      Object.entries(record.senders).map(([sender, memory]) => [
        sender,
        {
          highest: memory.highest,
          seen: new Map(
            Object.entries(memory.seen).map(([counter, [hash, prev, seq]]) => [
              Number(counter),
              [fromBase64Url(hash), fromBase64Url(prev), seq] as [Uint8Array, Uint8Array, number],
            ]),
          ),
        },
      ]),
    ),
    own: {
      counter: record.own.counter,
      lastHash: record.own.lastHash === null ? undefined : fromBase64Url(record.own.lastHash),
    },
    held: record.held.map((held) => ({
      seq: held.seq,
      envelope: fromBase64Url(held.envelope),
      sentAt: held.sentAt ?? undefined,
    })),
    chainTimes: new Map(
      Object.entries(record.chainTimes ?? {}).map(([position, at]) => [Number(position), at]),
    ),
  };
}
