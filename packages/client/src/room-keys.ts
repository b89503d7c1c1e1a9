// Room keys (PROTOCOL.md §4): each epoch's key is made by one member, sealed to every member's
// pinned encryption key and signed by its distributor; a received envelope is opened only when the
// verified chain entitles its distributor to hand it out. Which member makes a new epoch's key is
// decided the same way by every client, so that two members never hand out two keys for one epoch.
import {
  CryptoError,
  decodeMembershipEntry,
  decodeRoomKeyEnvelope,
  fromBase64Url,
  fromHex,
  generateRoomKey,
  sealRoomKey,
  toBase64Url,
  toHex,
} from '@parley/crypto';
import type { ClientContext } from './context';
import { isClientError } from './errors';
import type { RoomState } from './room-state';

/** What the keys need of the chain and the messages (which need the keys in turn). */
export interface RoomKeysHooks {
  /** Re-reads and verifies the room's chain. */
  syncChain(room: RoomState): Promise<void>;
  /** Retries the messages held for a key that was missing. */
  releaseHeld(room: RoomState): Promise<void>;
}

export class RoomKeys {
  constructor(
    private readonly ctx: ClientContext,
    private readonly hooks: RoomKeysHooks,
  ) {}

  /** Gets the current epoch's key: from the server's envelopes, or by making it if this device should. */
  async ensureEpochKey(room: RoomState): Promise<void> {
    const { ctx } = this;
    if (room.epoch < 0 || !room.isMember(ctx.myId) || room.currentKey() !== undefined) return;
    await this.fetchKeys(room);
    if (room.currentKey() !== undefined) return;
    if (rotatorOf(room) === ctx.myId) await this.distributeNewKey(room);
  }

  /** A fresh key for the current epoch, sealed to every member (this device included). */
  async distributeNewKey(room: RoomState): Promise<void> {
    const key = generateRoomKey();
    room.setRoomKey(room.epoch, key);
    await this.sealCurrentKeyTo(room, [...room.members().keys()]);
    this.ctx.events.emit('room-key', { roomId: room.roomId, epoch: room.epoch });
  }

  /** Seals the current key to `userIds`, skipping anyone whose changed keys are not accepted. */
  async sealCurrentKeyTo(room: RoomState, userIds: string[]): Promise<void> {
    const { ctx } = this;
    const secrets = ctx.requireSecrets('sealRoomKey');
    const current = room.currentKey();
    if (current === undefined) return;
    await ctx.people.ensurePinned(userIds);
    const envelopes: string[] = [];
    for (const userId of userIds) {
      let recipientKey: Uint8Array;
      try {
        recipientKey =
          userId === secrets.record.userId
            ? secrets.encryption.publicKey
            : ctx.trust.encryptionKeyFor(userId);
      } catch (error) {
        if (isClientError(error, 'KEY_CHANGE_PENDING')) {
          ctx.logger.warn('not sealing a room key to a contact whose keys changed', { userId });
          continue;
        }
        throw error;
      }
      envelopes.push(
        toBase64Url(
          sealRoomKey({
            roomKey: current.key,
            roomId: room.roomIdBytes,
            epoch: current.epoch,
            recipientId: fromHex(userId),
            recipientEncryptionKey: recipientKey,
            distributorId: fromHex(secrets.record.userId),
            distributor: secrets.identity,
          }),
        ),
      );
    }
    if (envelopes.length === 0) return;
    await ctx.api.sealKeys(room.roomId, envelopes);
  }

  /** Reads the envelopes the server holds for this device and opens the new ones. */
  async fetchKeys(room: RoomState): Promise<void> {
    const answer = await this.ctx.api.keys(room.roomId);
    let added = false;
    for (const item of answer.envelopes) {
      if (await this.acceptEnvelope(room, item.envelope)) added = true;
    }
    // Messages held for a key are released whichever way it arrives: a frame or this fetch.
    if (added && room.heldCount > 0) await this.hooks.releaseHeld(room);
  }

  /**
   * Opens a room-key envelope (§4). An envelope can overtake the membership entry that entitles
   * it (they travel separately), so a refusal on entitlement re-reads the chain once before it is
   * reported.
   */
  async acceptEnvelope(room: RoomState, envelope: string): Promise<boolean> {
    const { people, trust, events } = this.ctx;
    const secrets = this.ctx.requireSecrets('acceptEnvelope');
    const me = { userId: secrets.record.userId, keyPair: secrets.encryption };
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(envelope);
      if (decodeRoomKeyEnvelope(bytes).epoch > room.epoch) await this.hooks.syncChain(room);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      people.fail({
        code: 'ENVELOPE_MALFORMED',
        severity: 'critical',
        roomId: room.roomId,
        detail: error.message,
      });
      return false;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const { epoch, added } = room.acceptEnvelope(bytes, me, people.identityKeyOf);
        if (added) events.emit('room-key', { roomId: room.roomId, epoch });
        return added;
      } catch (error) {
        if (!(error instanceof CryptoError)) throw error;
        if (error.code === 'ENVELOPE_UNAUTHORISED_DISTRIBUTOR' && attempt === 0) {
          await this.hooks.syncChain(room);
          continue;
        }
        if (error.code === 'ENVELOPE_BAD_SIGNATURE' && attempt === 0) {
          // The distributor may be someone this device has not pinned yet.
          const distributor = toHex(decodeRoomKeyEnvelope(bytes).distributorId);
          if (trust.get(distributor) === undefined) {
            await people.ensurePinned([distributor]);
            continue;
          }
        }
        people.fail({
          code: error.code,
          severity: 'critical',
          roomId: room.roomId,
          detail: error.message,
        });
        return false;
      }
    }
  }

  /** A contact's changed keys were accepted: the rooms they share with us seal them the key again. */
  async resealTo(userId: string): Promise<void> {
    const { ctx } = this;
    for (const room of ctx.rooms.values()) {
      const current = room.currentKey();
      if (current === undefined || !room.isMember(userId) || !room.isMember(ctx.myId)) continue;
      await ctx.serial(room.roomId, () => this.sealCurrentKeyTo(room, [userId]));
    }
  }
}

/**
 * Who makes a new epoch's key: the admin who removed someone (they do it at once), and after a
 * leave or at genesis one member chosen the same way by every client (the lowest admin id, else
 * the lowest member id).
 */
export function rotatorOf(room: RoomState): string | undefined {
  const entries = room.chain.map((entry) => decodeMembershipEntry(entry));
  const starter = [...entries]
    .reverse()
    .find((entry) => entry.op === 'remove' || entry.op === 'leave' || entry.op === 'genesis');
  if (starter !== undefined && starter.op !== 'leave') return toHex(starter.actorId);
  const members = [...room.members()].sort(([a], [b]) => a.localeCompare(b));
  return (members.find(([, role]) => role === 'admin') ?? members[0])?.[0];
}
