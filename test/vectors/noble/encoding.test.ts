import { describe, expect, it } from 'vitest';
import {
  EncodingError,
  ascii,
  canon,
  concat,
  decodeCanon,
  decodeList,
  encodeList,
  equalBytes,
  fromHex,
  readU64,
  readUtf8,
  toHex,
  u64,
} from './encoding';
import { bucket, padPayload, unpadPayload } from './padding';

describe('canonical encoding (§2.2)', () => {
  it('writes lp(label) || lp(f1) || ... with big-endian u32 lengths', () => {
    expect(toHex(canon('ab', fromHex('ff'), new Uint8Array(0)))).toBe(
      '00000002' + '6162' + '00000001' + 'ff' + '00000000',
    );
  });

  it('round-trips fields', () => {
    const fields = [fromHex('00112233'), new Uint8Array(0), u64(2 ** 53 - 1)];
    const decoded = decodeCanon(canon('parley/v1/x', ...fields), 'parley/v1/x', 3);
    expect(decoded.map(toHex)).toEqual(fields.map(toHex));
    expect(readU64(decoded[2]!)).toBe(2 ** 53 - 1);
  });

  it('rejects another label, another field count, overruns and leftover bytes', () => {
    const good = canon('parley/v1/x', fromHex('01'), fromHex('0203'));
    const cases = [
      () => decodeCanon(good, 'parley/v1/y', 2),
      () => decodeCanon(good, 'parley/v1/x', 1),
      () => decodeCanon(good, 'parley/v1/x', 3),
      () => decodeCanon(good.subarray(0, good.length - 1), 'parley/v1/x', 2),
      () => decodeCanon(concat(good, fromHex('00')), 'parley/v1/x', 2),
      () => decodeCanon(concat(good, fromHex('00000000')), 'parley/v1/x', 2),
      () => decodeCanon(new Uint8Array(0), 'parley/v1/x', 0),
      () => decodeCanon(fromHex('ffffffff'), 'parley/v1/x', 0),
    ];
    for (const decode of cases) expect(decode).toThrow(EncodingError);
  });

  it('reads u64 only as 8 bytes below 2^53', () => {
    expect(readU64(u64(1))).toBe(1);
    expect(() => readU64(fromHex('01'))).toThrow(EncodingError);
    expect(() => readU64(fromHex('0020000000000000'))).toThrow(EncodingError);
    expect(() => u64(2 ** 53)).toThrow(RangeError);
  });

  it('round-trips lists, the empty list being the empty string', () => {
    expect(encodeList([])).toHaveLength(0);
    expect(decodeList(new Uint8Array(0))).toEqual([]);
    const items = [ascii('a'), new Uint8Array(0), ascii('bcd')];
    expect(decodeList(encodeList(items)).map(toHex)).toEqual(items.map(toHex));
    expect(() => decodeList(fromHex('000000'))).toThrow(EncodingError);
  });

  it('rejects invalid UTF-8 and keeps a leading byte-order mark', () => {
    expect(() => readUtf8(fromHex('c3'), 'text')).toThrow(EncodingError);
    expect(() => readUtf8(fromHex('eda080'), 'text')).toThrow(EncodingError);
    expect(readUtf8(fromHex('efbbbf61'), 'text')).toBe('\uFEFFa');
  });
});

describe('payload padding (§6.3)', () => {
  it('assigns buckets', () => {
    const expected: [number, number][] = [
      [1, 256],
      [256, 256],
      [257, 512],
      [4096, 4096],
      [4097, 8192],
      [65536, 65536],
      [65537, 131072],
      [131073, 196608],
    ];
    for (const [n, size] of expected) expect(bucket(n)).toBe(size);
  });

  it('pads to the bucket of len + 1 and unpads back', () => {
    for (const length of [0, 1, 254, 255, 256, 1000, 65535, 65536, 70000]) {
      const payload = Uint8Array.from({ length }, (_, i) => (i * 7 + 0x80) & 0xff);
      const padded = padPayload(payload);
      expect(padded).toHaveLength(bucket(length + 1));
      expect(padded[length]).toBe(0x80);
      expect(equalBytes(unpadPayload(padded)!, payload)).toBe(true);
    }
  });

  it('rejects a missing marker, a non-zero tail and a length that is not the bucket', () => {
    const padded = padPayload(ascii('hello'));
    expect(unpadPayload(new Uint8Array(256))).toBeNull();
    const noMarker = padded.slice();
    noMarker[5] = 0x81;
    expect(unpadPayload(noMarker)).toBeNull();
    const dirtyTail = padded.slice();
    dirtyTail[200] = 0x01;
    expect(unpadPayload(dirtyTail)).toBeNull();
    // Valid ISO/IEC 7816-4 padding, but 512 bytes for a 5-byte payload is not its bucket.
    expect(unpadPayload(concat(padded, new Uint8Array(256)))).toBeNull();
    expect(unpadPayload(padded.subarray(0, 255))).toBeNull();
  });
});
