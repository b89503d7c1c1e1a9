import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_KEY_BYTES,
  canon,
  generateDeviceKey,
  openForDevice,
  sealForDevice,
  u64,
} from '../src/index';
import { bytes, expectCode, flipByte, locate } from './helpers';

const key = bytes(32, 7);
const userId = bytes(16, 0x61);
const input = { key, purpose: 'search-index', userId };
const plaintext = new TextEncoder().encode('{"documents":["meet at the harbour"]}');

describe('device seal', () => {
  it('round-trips, and the blob holds no plaintext', () => {
    const blob = sealForDevice(plaintext, input);
    expect(openForDevice(blob, input)).toEqual(plaintext);
    expect(Buffer.from(blob).includes(Buffer.from('harbour'))).toBe(false);
  });

  it('matches an independent libsodium composition of the §7.1 layout', () => {
    const nonce = bytes(24, 9);
    const blob = sealForDevice(plaintext, input, nonce);
    const ad = canon('parley/v1/device-seal', [
      u64(1),
      new TextEncoder().encode('search-index'),
      userId,
    ]);
    const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext,
      ad,
      null,
      nonce,
      key,
    );
    const expected = canon('parley/v1/device-seal-blob', [
      u64(1),
      new TextEncoder().encode('search-index'),
      nonce,
      ciphertext,
    ]);
    expect(blob).toEqual(expected);
  });

  it('draws a fresh nonce and a fresh key each time', () => {
    expect(sealForDevice(plaintext, input)).not.toEqual(sealForDevice(plaintext, input));
    const a = generateDeviceKey();
    expect(a).toHaveLength(DEVICE_KEY_BYTES);
    expect(a).not.toEqual(generateDeviceKey());
  });

  it('refuses another key, another account and another purpose', () => {
    const blob = sealForDevice(plaintext, input);
    expectCode(
      () => openForDevice(blob, { ...input, key: bytes(32, 8) }),
      'DEVICE_SEAL_DECRYPT_FAILED',
    );
    expectCode(
      () => openForDevice(blob, { ...input, userId: bytes(16, 0x62) }),
      'DEVICE_SEAL_DECRYPT_FAILED',
    );
    expectCode(() => openForDevice(blob, { ...input, purpose: 'drafts' }), 'DEVICE_SEAL_MALFORMED');
  });

  it('refuses every flipped byte: structure as malformed, nonce and ciphertext as not opening', () => {
    const blob = sealForDevice(plaintext, input, bytes(24, 3));
    for (let index = 0; index < blob.length; index++) {
      const { field } = locate(blob, index);
      const code =
        field === 2 || field === 3 ? 'DEVICE_SEAL_DECRYPT_FAILED' : 'DEVICE_SEAL_MALFORMED';
      expectCode(() => openForDevice(flipByte(blob, index, 0x01), input), code);
    }
  });

  it('refuses a truncated blob, another version and bad arguments', () => {
    const blob = sealForDevice(plaintext, input);
    expectCode(
      () => openForDevice(blob.subarray(0, blob.length - 1), input),
      'DEVICE_SEAL_MALFORMED',
    );
    const nonce = bytes(24, 1);
    const v2 = canon('parley/v1/device-seal-blob', [
      u64(2),
      new TextEncoder().encode('search-index'),
      nonce,
      bytes(32, 0),
    ]);
    expectCode(() => openForDevice(v2, input), 'DEVICE_SEAL_MALFORMED');
    expectCode(() => sealForDevice(plaintext, { ...input, key: bytes(31, 1) }), 'INVALID_ARGUMENT');
    expectCode(
      () => sealForDevice(plaintext, { ...input, purpose: 'Search Index' }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => sealForDevice(plaintext, { ...input, userId: bytes(15, 1) }),
      'INVALID_ARGUMENT',
    );
  });
});
