import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  U64_LIMIT,
  canon,
  decodeCanon,
  decodeList,
  encodeList,
  fromBase64Url,
  fromHex,
  generateId,
  lp,
  readU64,
  toBase64Url,
  toHex,
  u64,
} from '../src/index';
import { expectCode } from './helpers';

describe('lp and canon', () => {
  it('prefixes with a big-endian u32 length', () => {
    expect(toHex(lp(new Uint8Array([0xaa, 0xbb])))).toBe('00000002aabb');
    expect(toHex(lp(new Uint8Array()))).toBe('00000000');
  });

  it('encodes the label and then each field', () => {
    const encoded = canon('ab', [new Uint8Array([1]), new Uint8Array()]);
    expect(toHex(encoded)).toBe('00000002' + '6162' + '00000001' + '01' + '00000000');
  });

  it('round-trips any fields', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (fields) => {
        const decoded = decodeCanon(
          canon('parley/v1/x', fields),
          'parley/v1/x',
          fields.length,
          'CHAIN_MALFORMED',
          't',
        );
        expect(decoded).toEqual(fields);
      }),
    );
  });

  it('rejects another label, another field count, overruns and trailing bytes', () => {
    const good = canon('parley/v1/a', [new Uint8Array([1, 2]), new Uint8Array([3])]);
    expectCode(
      () => decodeCanon(good, 'parley/v1/b', 2, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () => decodeCanon(good, 'parley/v1/a', 3, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () => decodeCanon(good, 'parley/v1/a', 1, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () =>
        decodeCanon(good.subarray(0, good.length - 1), 'parley/v1/a', 2, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
    const trailing = new Uint8Array([...good, 0]);
    expectCode(
      () => decodeCanon(trailing, 'parley/v1/a', 2, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () => decodeCanon(new Uint8Array(), 'parley/v1/a', 0, 'MESSAGE_MALFORMED', 't'),
      'MESSAGE_MALFORMED',
    );
  });

  it('never accepts a truncation of a valid encoding', () => {
    const good = canon('parley/v1/a', [new Uint8Array(5), new Uint8Array(7)]);
    for (let length = 0; length < good.length; length++) {
      expectCode(
        () => decodeCanon(good.subarray(0, length), 'parley/v1/a', 2, 'BACKUP_MALFORMED', 't'),
        'BACKUP_MALFORMED',
      );
    }
  });

  it('raises messages prefixed with the operation name', () => {
    const error = expectCode(
      () => decodeCanon(new Uint8Array([1]), 'l', 0, 'ENVELOPE_MALFORMED', 'openThing'),
      'ENVELOPE_MALFORMED',
    );
    expect(error.message).toMatch(/^openThing: /);
  });
});

describe('lists', () => {
  it('round-trips, and the empty list is the empty string', () => {
    expect(encodeList([])).toEqual(new Uint8Array());
    expect(decodeList(new Uint8Array(), 'MESSAGE_MALFORMED_PAYLOAD', 't')).toEqual([]);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), (items) => {
        expect(decodeList(encodeList(items), 'MESSAGE_MALFORMED_PAYLOAD', 't')).toEqual(items);
      }),
    );
  });

  it('rejects an item running past the end', () => {
    expectCode(
      () => decodeList(new Uint8Array([0, 0, 0, 2, 1]), 'MESSAGE_MALFORMED_PAYLOAD', 't'),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
  });
});

describe('u64', () => {
  it('is 8 bytes big-endian', () => {
    expect(toHex(u64(1))).toBe('0000000000000001');
    expect(toHex(u64(2 ** 40 + 258))).toBe('0000010000000102');
    expect(toHex(u64(U64_LIMIT - 1))).toBe('001fffffffffffff');
  });

  it('round-trips every value below 2^53', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(readU64(u64(n), 'MESSAGE_MALFORMED', 't', 'n')).toBe(n);
      }),
    );
  });

  it('refuses negative, fractional and too large values', () => {
    for (const bad of [-1, 1.5, U64_LIMIT, Number.NaN, Infinity]) {
      expectCode(() => u64(bad), 'INVALID_ARGUMENT');
    }
  });

  it('decodes only 8 bytes below 2^53', () => {
    expectCode(
      () => readU64(new Uint8Array(7), 'MESSAGE_MALFORMED', 't', 'n'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () => readU64(fromHex('0020000000000000'), 'MESSAGE_MALFORMED', 't', 'n'),
      'MESSAGE_MALFORMED',
    );
    expectCode(
      () => readU64(fromHex('ffffffffffffffff'), 'MESSAGE_MALFORMED', 't', 'n'),
      'MESSAGE_MALFORMED',
    );
  });
});

describe('hex and base64url', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        expect(fromHex(toHex(data))).toEqual(data);
        expect(fromBase64Url(toBase64Url(data))).toEqual(data);
      }),
    );
  });

  it('write unpadded base64url', () => {
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it('refuse uppercase or odd hex, padded or non-canonical base64url', () => {
    expectCode(() => fromHex('AB'), 'INVALID_ARGUMENT');
    expectCode(() => fromHex('abc'), 'INVALID_ARGUMENT');
    expectCode(() => fromBase64Url('-_8='), 'INVALID_ARGUMENT');
    expectCode(() => fromBase64Url('+/8'), 'INVALID_ARGUMENT');
    expectCode(() => fromBase64Url('-_9'), 'INVALID_ARGUMENT');
    expectCode(() => fromBase64Url('a'), 'INVALID_ARGUMENT');
  });
});

describe('generateId', () => {
  it('makes distinct 16-byte identifiers', () => {
    const a = generateId();
    expect(a.length).toBe(16);
    expect(toHex(a)).not.toBe(toHex(generateId()));
  });
});
