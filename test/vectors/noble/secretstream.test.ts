import { describe, expect, it } from 'vitest';
import { ascii, equalBytes, fromHex } from './encoding';
import {
  STREAM_ABYTES,
  SecretStreamPull,
  SecretStreamPushForTests,
  TAG_FINAL,
  TAG_MESSAGE,
  TAG_PUSH,
  TAG_REKEY,
} from './secretstream';

// A stream made by libsodium's crypto_secretstream_xchacha20poly1305_push (published with the
// orion crate's secretstream tests): three messages, an explicit rekey, two more messages.
const KNOWN = {
  key: fromHex('3132333435363738396162636465666768696a6b6c6d6f6e7071727374757600'),
  header: fromHex('616261626162616261626162616261626162616162616200'),
  chunks: [
    ['fca400c41bc60839d87686689c2d47a1c71c4f9113ef04', 'test1\0'],
    [
      'f3347cad852c63f4fa59658e3b31dd34b0d60df756117de878df30867408cfb4f14c1a21cf',
      'this is longer text\0',
    ],
    ['edc6f0ac412710a0e611bd365dadf367b935db', '1\0'],
    'rekey',
    [
      'd209250bb6be58af000c7d9a3f68a6ffe70ce939ce635217bcd88cb6caf5fff46859d8a844820c50',
      'first text after rekey\0',
    ],
    [
      '7a1138b07cacdbf80025b8f241f845f29e771411e10a6bf0d28606b65bf3f3141ecde8a7f731260599ed08137de2bebda721bd4abd',
      'this is the second text after rekey\0',
    ],
  ] as const,
};

describe('secretstream pull (libsodium crypto_secretstream_xchacha20poly1305)', () => {
  it('decrypts a stream libsodium produced, across an explicit rekey', () => {
    const stream = new SecretStreamPull(KNOWN.key, KNOWN.header);
    for (const step of KNOWN.chunks) {
      if (step === 'rekey') {
        stream.rekey();
        continue;
      }
      const pulled = stream.pull(fromHex(step[0]));
      expect(pulled).not.toBeNull();
      expect(pulled!.tag).toBe(TAG_MESSAGE);
      expect(new TextDecoder().decode(pulled!.message)).toBe(step[1]);
    }
  });

  it('reproduces libsodium bytes when pushing (the test counterpart is faithful)', () => {
    const push = new SecretStreamPushForTests(KNOWN.key, KNOWN.header);
    const [first, second] = KNOWN.chunks as unknown as [[string, string], [string, string]];
    expect(push.push(ascii(first[1]), TAG_MESSAGE)).toEqual(fromHex(first[0]));
    expect(push.push(ascii(second[1]), TAG_MESSAGE)).toEqual(fromHex(second[0]));
  });

  it('refuses chunks out of order, modified, or under another key or header', () => {
    const [c1, c2] = [fromHex(KNOWN.chunks[0][0]), fromHex(KNOWN.chunks[1][0])];
    expect(new SecretStreamPull(KNOWN.key, KNOWN.header).pull(c2)).toBeNull();
    expect(new SecretStreamPull(new Uint8Array(32), KNOWN.header).pull(c1)).toBeNull();
    expect(new SecretStreamPull(KNOWN.key, new Uint8Array(24)).pull(c1)).toBeNull();
    for (const index of [0, 1, c1.length - 1]) {
      const tampered = c1.slice();
      tampered[index]! ^= 0x01;
      expect(new SecretStreamPull(KNOWN.key, KNOWN.header).pull(tampered)).toBeNull();
    }
    expect(new SecretStreamPull(KNOWN.key, KNOWN.header).pull(c1, ascii('ad'))).toBeNull();
    expect(
      new SecretStreamPull(KNOWN.key, KNOWN.header).pull(c1.subarray(0, STREAM_ABYTES - 1)),
    ).toBeNull();
  });

  it('round-trips every tag, with associated data, rekeying on TAG_REKEY and TAG_FINAL', () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const header = crypto.getRandomValues(new Uint8Array(24));
    const push = new SecretStreamPushForTests(key, header);
    const pull = new SecretStreamPull(key, header);
    const plan: [number, Uint8Array, Uint8Array][] = [
      [TAG_MESSAGE, new Uint8Array(0), new Uint8Array(0)],
      [TAG_PUSH, crypto.getRandomValues(new Uint8Array(100)), ascii('ad')],
      [TAG_REKEY, crypto.getRandomValues(new Uint8Array(64)), new Uint8Array(0)],
      [TAG_MESSAGE, crypto.getRandomValues(new Uint8Array(65536)), ascii('x'.repeat(17))],
      [TAG_FINAL, crypto.getRandomValues(new Uint8Array(3)), new Uint8Array(0)],
    ];
    for (const [tag, message, ad] of plan) {
      const chunk = push.push(message, tag, ad);
      expect(chunk).toHaveLength(message.length + STREAM_ABYTES);
      const pulled = pull.pull(chunk, ad);
      expect(pulled?.tag).toBe(tag);
      expect(equalBytes(pulled!.message, message)).toBe(true);
    }
  });
});
