// Signature checks the server makes as a first line of defence (PROTOCOL.md §4, §5.1). The
// structures are decoded and the signed inputs rebuilt with @parley/crypto's canonical encoding;
// libsodium verifies, exactly as the clients' library does. Clients still verify everything.
import sodium from 'libsodium-wrappers-sumo';
import { canon, u64, type MembershipEntry, type RoomKeyEnvelope } from '@parley/crypto';

const LABEL_ROOM_KEY = 'parley/v1/room-key';
const HASH_BYTES = 32;

/** Loads libsodium; call once before the functions below (route modules await it at start). */
export async function signaturesReady(): Promise<void> {
  await sodium.ready;
}

/** §5.1: the actor's signature over the entry's body. */
export function entrySignatureValid(entry: MembershipEntry, actorIdentityKey: Uint8Array): boolean {
  return verifyDetached(entry.signature, entry.body, actorIdentityKey);
}

/** §4: the distributor's signature over (room, epoch, recipient, distributor, H(sealed)). */
export function envelopeSignatureValid(
  envelope: RoomKeyEnvelope,
  distributorIdentityKey: Uint8Array,
): boolean {
  const input = canon(LABEL_ROOM_KEY, [
    envelope.roomId,
    u64(envelope.epoch),
    envelope.recipientId,
    envelope.distributorId,
    sodium.crypto_generichash(HASH_BYTES, envelope.sealed, null),
  ]);
  return verifyDetached(envelope.signature, input, distributorIdentityKey);
}

function verifyDetached(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}
