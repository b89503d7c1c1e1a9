// What the client's modules share: the key store, the server's routes, the event emitter, the
// directory and trust, the rooms this account is in, and the account's keys on this device. One
// object handed to each module, so that a module names what it needs from the others instead of
// reaching into the whole client. Each room's tasks also run one after the other from here, so
// that its state changes in a single order whichever module changes it.
import { encryptionKeyPair, identityKeyPair, type EncryptionKeyPair } from '@parley/crypto';
import type { IdentityKeyPair } from '@parley/crypto';
import type { ServerApi } from './api';
import { ClientError } from './errors';
import type { ClientEventEmitter } from './events';
import type { KeyStore } from './key-store/key-store';
import type { Clock, Logger, Tuning } from './options';
import type { People } from './people';
import type { RoomState } from './room-state';
import type { TrustStore } from './trust';

/** The account as this device keeps it: its ids and the seeds of its key pairs. */
export interface AccountRecord {
  userId: string;
  username: string;
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  keyVersion: number;
}

export interface Secrets {
  record: AccountRecord;
  identity: IdentityKeyPair;
  encryption: EncryptionKeyPair;
}

export function secretsOf(record: AccountRecord): Secrets {
  return {
    record,
    identity: identityKeyPair(record.identitySeed),
    encryption: encryptionKeyPair(record.encryptionSeed),
  };
}

/** Where a room's record lives in the key store. */
export const ROOM_PREFIX = 'room:';

export interface ContextParts {
  store: KeyStore;
  api: ServerApi;
  events: ClientEventEmitter;
  trust: TrustStore;
  people: People;
  clock: Clock;
  logger: Logger;
  tuning: Tuning;
  /** Sends a frame if the socket is open; false otherwise. */
  send(frame: Record<string, unknown>): boolean;
}

export class ClientContext {
  readonly store: KeyStore;
  readonly api: ServerApi;
  readonly events: ClientEventEmitter;
  readonly trust: TrustStore;
  readonly people: People;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tuning: Tuning;
  readonly send: (frame: Record<string, unknown>) => boolean;
  /** The rooms of this account: only a verified chain that names it puts a room here. */
  readonly rooms = new Map<string, RoomState>();
  /**
   * Rooms the account was in before an identity reset: their keys and chain entries are the old
   * identity's, so this device neither reads nor rejoins them (the server still lists them).
   */
  readonly leftBehind = new Set<string>();
  /** The account's keys, once signed up, restored or loaded from the key store. */
  secrets: Secrets | undefined;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(parts: ContextParts) {
    this.store = parts.store;
    this.api = parts.api;
    this.events = parts.events;
    this.trust = parts.trust;
    this.people = parts.people;
    this.clock = parts.clock;
    this.logger = parts.logger;
    this.tuning = parts.tuning;
    this.send = parts.send;
  }

  requireSecrets(operation: string): Secrets {
    if (this.secrets === undefined) {
      throw new ClientError('NOT_SIGNED_IN', operation, 'no account keys on this device');
    }
    return this.secrets;
  }

  get myId(): string {
    return this.requireSecrets('client').record.userId;
  }

  /** Whether this device holds an account and the room's verified chain makes it a member. */
  isMine(room: RoomState): boolean {
    return this.secrets !== undefined && room.isMember(this.secrets.record.userId);
  }

  requireRoom(roomId: string, operation: string): RoomState {
    const room = this.rooms.get(roomId);
    if (room === undefined) {
      throw new ClientError(
        'ROOM_NOT_FOUND',
        operation,
        `this device does not know room ${roomId}`,
      );
    }
    return room;
  }

  async saveRoom(room: RoomState): Promise<void> {
    await this.store.set(ROOM_PREFIX + room.roomId, room.toRecord());
  }

  /** Subscribes to a room's live traffic, resuming after what this device has processed. */
  subscribe(room: RoomState): void {
    this.send({ type: 'subscribe', room: room.roomId, after: room.lastSeq });
  }

  /** Runs tasks of one room one after the other, so its state changes in a single order. */
  serial<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(roomId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(roomId, settled);
    return result;
  }

  /** Settles once every room's queued tasks have (for close()). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  /** Reports an error of background work (a frame, a resync) as an `error` event. */
  report(operation: string): (error: unknown) => void {
    return (error: unknown) => this.events.emit('error', { operation, error });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}
