import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_SENDER_STATE,
  ascii,
  bucket,
  canon,
  classifyMessage,
  decodeHeader,
  decodeMessageEnvelope,
  decodePayload,
  deriveMessageKey,
  encodeHeader,
  encodeList,
  encodePayload,
  encryptMessage,
  identityKeyPair,
  messageHash,
  openMessage,
  u64,
  utf8,
  type AttachmentDescriptor,
  type MessageHeader,
  type OpenMessageContext,
  type SenderState,
} from '../src/index';
import { bytes, expectCode, expectEveryFlipRefused, fieldOf, flippedU64, locate } from './helpers';

const roomId = bytes(16, 0x51);
const senderId = bytes(16, 0x52);
const sender = identityKeyPair(bytes(32, 0x53));
const roomKey = bytes(32, 0x54);
const attachment: AttachmentDescriptor = {
  blobId: 'blob-1',
  fileKey: bytes(32, 1),
  hash: bytes(32, 2),
  size: 1234,
  mediaType: 'image/png',
  name: 'cat.png',
};

function send(counter: number, prevHash: Uint8Array, text = 'hello', nonce?: Uint8Array) {
  return encryptMessage(
    {
      roomId,
      epoch: 2,
      roomKey,
      senderId,
      sender,
      counter,
      prevHash,
      clientTime: 1_700_000_000_000,
      messageId: bytes(16, counter),
      payload: { kind: 'text', text, attachments: [attachment], replyTo: bytes(16, 9) },
    },
    nonce,
  );
}

const context: OpenMessageContext = {
  roomId,
  identityKeyOf: (id) => (sodium.memcmp(id, senderId) ? sender.publicKey : undefined),
  senderIsMember: true,
  roomKeyOf: (epoch) => (epoch === 2 ? roomKey : undefined),
};

/** Re-signs an envelope built from raw parts, to test what lies behind a valid signature. */
function resigned(headerBytes: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array) {
  const signature = sodium.crypto_sign_detached(
    canon('parley/v1/message', [headerBytes, nonce, ciphertext]),
    sender.secretKey,
  );
  return canon('parley/v1/message-envelope', [headerBytes, nonce, ciphertext, signature]);
}

function headerOf(overrides: Partial<MessageHeader> = {}): MessageHeader {
  return {
    version: 1,
    roomId,
    epoch: 2,
    senderId,
    counter: 1,
    messageId: bytes(16, 7),
    clientTime: 5,
    prevHash: new Uint8Array(),
    ...overrides,
  };
}

describe('header', () => {
  it('round-trips', () => {
    const header = headerOf({ counter: 4, prevHash: bytes(32, 3) });
    expect(decodeHeader(encodeHeader(header))).toEqual(header);
  });

  it('is canon("parley/v1/message-header", ...)', () => {
    const header = headerOf();
    expect(encodeHeader(header)).toEqual(
      canon('parley/v1/message-header', [
        u64(1),
        roomId,
        u64(2),
        senderId,
        u64(1),
        header.messageId,
        u64(5),
        new Uint8Array(),
      ]),
    );
  });

  it('rejects counter 0 and a prevHash that does not match the counter', () => {
    const raw = (counter: number, prevHash: Uint8Array) =>
      canon('parley/v1/message-header', [
        u64(1),
        roomId,
        u64(2),
        senderId,
        u64(counter),
        bytes(16, 7),
        u64(5),
        prevHash,
      ]);
    expectCode(() => decodeHeader(raw(0, new Uint8Array())), 'MESSAGE_MALFORMED');
    expectCode(() => decodeHeader(raw(1, bytes(32, 0))), 'MESSAGE_MALFORMED');
    expectCode(() => decodeHeader(raw(2, new Uint8Array())), 'MESSAGE_MALFORMED');
    expectCode(() => decodeHeader(raw(2, bytes(16, 0))), 'MESSAGE_MALFORMED');
    expectCode(() => encodeHeader(headerOf({ counter: 2 })), 'INVALID_ARGUMENT');
  });
});

describe('message key', () => {
  it('is KH(roomKey, canon("parley/v1/message-key", roomId, u64(epoch)))', () => {
    expect(deriveMessageKey(roomKey, roomId, 2)).toEqual(
      sodium.crypto_generichash(32, canon('parley/v1/message-key', [roomId, u64(2)]), roomKey),
    );
    expect(deriveMessageKey(roomKey, roomId, 3)).not.toEqual(deriveMessageKey(roomKey, roomId, 2));
  });
});

describe('payload', () => {
  it('pads to buckets', () => {
    expect([1, 256, 257, 512, 513, 65536, 65537, 131073].map(bucket)).toEqual([
      256, 256, 512, 512, 1024, 65536, 131072, 196608,
    ]);
    for (const length of [0, 100, 200, 400, 5000]) {
      const padded = encodePayload({ kind: 'text', text: 'x'.repeat(length) });
      const encodedLength = 4 + 17 + 4 + 4 + 4 + length + 4 * 4;
      expect(padded.length).toBe(bucket(encodedLength + 1));
    }
  });

  it('round-trips every field', () => {
    const payload = {
      kind: 'edit' as const,
      text: 'héllo **world** \u{1f600}',
      replyTo: bytes(16, 1),
      target: bytes(16, 2),
      attachments: [attachment, { ...attachment, blobId: 'b2', size: 0, name: '' }],
      extra: bytes(5, 3),
    };
    expect(decodePayload(encodePayload(payload))).toEqual(payload);
    expect(decodePayload(encodePayload({ kind: 'delete', target: bytes(16, 4) }))).toEqual({
      kind: 'delete',
      text: '',
      replyTo: new Uint8Array(),
      target: bytes(16, 4),
      attachments: [],
      extra: new Uint8Array(),
    });
  });

  it('round-trips any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(decodePayload(encodePayload({ kind: 'text', text })).text).toBe(text);
      }),
    );
  });

  it('rejects padding that is not canonical', () => {
    const padded = encodePayload({ kind: 'text', text: 'hi' });
    expectCode(() => decodePayload(new Uint8Array()), 'MESSAGE_BAD_PADDING');
    expectCode(() => decodePayload(new Uint8Array(256)), 'MESSAGE_BAD_PADDING');
    expectCode(() => decodePayload(padded.subarray(0, 255)), 'MESSAGE_BAD_PADDING'); // not a bucket
    expectCode(
      () => decodePayload(new Uint8Array([...padded, ...new Uint8Array(256)])),
      'MESSAGE_BAD_PADDING',
    );
    const withoutMarker = padded.slice();
    withoutMarker[withoutMarker.lastIndexOf(0x80)] = 0x81;
    expectCode(() => decodePayload(withoutMarker), 'MESSAGE_BAD_PADDING');
  });

  it('rejects malformed payloads', () => {
    const padTo = (encoded: Uint8Array) => sodium.pad(encoded, bucket(encoded.length + 1));
    const payload = (
      fields: Partial<
        Record<'kind' | 'text' | 'replyTo' | 'target' | 'attachments' | 'extra', Uint8Array>
      >,
    ) =>
      padTo(
        canon('parley/v1/payload', [
          fields.kind ?? ascii('text'),
          fields.text ?? utf8('hi'),
          fields.replyTo ?? new Uint8Array(),
          fields.target ?? new Uint8Array(),
          fields.attachments ?? new Uint8Array(),
          fields.extra ?? new Uint8Array(),
        ]),
      );
    expect(decodePayload(payload({})).text).toBe('hi');
    expectCode(() => decodePayload(payload({ kind: ascii('poll') })), 'MESSAGE_MALFORMED_PAYLOAD');
    expectCode(
      () => decodePayload(payload({ text: new Uint8Array([0xc3, 0x28]) })),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    expectCode(
      () => decodePayload(payload({ replyTo: bytes(15, 1) })),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    expectCode(() => decodePayload(payload({ target: bytes(17, 1) })), 'MESSAGE_MALFORMED_PAYLOAD');
    expectCode(
      () => decodePayload(payload({ attachments: bytes(3, 1) })),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    const descriptor = (blobId: Uint8Array, fileKey: Uint8Array) =>
      encodeList([
        canon('parley/v1/attachment', [
          blobId,
          fileKey,
          bytes(32, 0),
          u64(1),
          utf8('a'),
          utf8('b'),
        ]),
      ]);
    expect(
      decodePayload(payload({ attachments: descriptor(ascii('id'), bytes(32, 0)) })).attachments,
    ).toHaveLength(1);
    expectCode(
      () => decodePayload(payload({ attachments: descriptor(ascii('id'), bytes(31, 0)) })),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    expectCode(
      () => decodePayload(payload({ attachments: descriptor(ascii('i\nd'), bytes(32, 0)) })),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    expectCode(
      () => decodePayload(padTo(canon('parley/v1/payload', [ascii('text')]))),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
  });
});

describe('encrypt and open', () => {
  it('round-trips with the hash the sender reports', () => {
    const sealed = send(1, new Uint8Array());
    const opened = openMessage(sealed.envelope, context);
    expect(opened.header).toEqual(sealed.header);
    expect(opened.payload.text).toBe('hello');
    expect(opened.payload.attachments).toEqual([attachment]);
    expect(opened.messageHash).toEqual(sealed.messageHash);
    expect(messageHash(sealed.envelope)).toEqual(
      sodium.crypto_generichash(32, canon('parley/v1/message-hash', [sealed.envelope]), null),
    );
  });

  it('is canonical: header as AD, signature over header, nonce and ciphertext', () => {
    const sealed = send(1, new Uint8Array(), 'x', bytes(24, 6));
    const parts = decodeMessageEnvelope(sealed.envelope);
    expect(parts.nonce).toEqual(bytes(24, 6));
    const key = deriveMessageKey(roomKey, roomId, 2);
    const padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      parts.ciphertext,
      parts.headerBytes,
      parts.nonce,
      key,
    );
    expect(decodePayload(padded).text).toBe('x');
    expect(
      sodium.crypto_sign_verify_detached(
        parts.signature,
        canon('parley/v1/message', [parts.headerBytes, parts.nonce, parts.ciphertext]),
        sender.publicKey,
      ),
    ).toBe(true);
    expect(send(1, new Uint8Array(), 'x', bytes(24, 6)).envelope).toEqual(sealed.envelope);
    expect(send(1, new Uint8Array(), 'x').envelope).not.toEqual(
      send(1, new Uint8Array(), 'x').envelope,
    );
  });

  it('generates a message id when none is given', () => {
    const one = encryptMessage({
      roomId,
      epoch: 0,
      roomKey,
      senderId,
      sender,
      counter: 1,
      clientTime: 0,
      payload: { kind: 'text' },
    });
    expect(one.header.messageId.length).toBe(16);
  });

  it('rejects each check of §6.5 with its code, in order', () => {
    const sealed = send(2, bytes(32, 1));
    const { envelope } = sealed;
    const parts = decodeMessageEnvelope(envelope);
    expectCode(() => openMessage(envelope.subarray(0, 100), context), 'MESSAGE_MALFORMED');
    const v2 = encodeHeader({ ...sealed.header, version: 2 });
    expectCode(
      () => openMessage(resigned(v2, parts.nonce, parts.ciphertext), context),
      'MESSAGE_UNSUPPORTED_VERSION',
    );
    expectCode(
      () => openMessage(envelope, { ...context, roomId: bytes(16, 0) }),
      'MESSAGE_WRONG_ROOM',
    );
    expectCode(
      () => openMessage(envelope, { ...context, identityKeyOf: () => undefined }),
      'MESSAGE_BAD_SIGNATURE',
    );
    expectCode(
      () =>
        openMessage(envelope, {
          ...context,
          identityKeyOf: () => identityKeyPair(bytes(32, 1)).publicKey,
        }),
      'MESSAGE_BAD_SIGNATURE',
    );
    expectCode(
      () => openMessage(envelope, { ...context, senderIsMember: false }),
      'MESSAGE_SENDER_NOT_MEMBER',
    );
    expectCode(
      () => openMessage(envelope, { ...context, senderIsMember: (_id, epoch) => epoch !== 2 }),
      'MESSAGE_SENDER_NOT_MEMBER',
    );
    expectCode(
      () => openMessage(envelope, { ...context, roomKeyOf: () => undefined }),
      'MESSAGE_UNKNOWN_EPOCH',
    );
    expectCode(
      () => openMessage(envelope, { ...context, roomKeyOf: () => bytes(32, 0) }),
      'MESSAGE_DECRYPT_FAILED',
    );
    // A validly signed message whose plaintext is not a padded payload.
    const key = deriveMessageKey(roomKey, roomId, 2);
    const encrypt = (plaintext: Uint8Array) =>
      resigned(
        parts.headerBytes,
        parts.nonce,
        sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
          plaintext,
          parts.headerBytes,
          null,
          parts.nonce,
          key,
        ),
      );
    expectCode(() => openMessage(encrypt(new Uint8Array(256)), context), 'MESSAGE_BAD_PADDING');
    expectCode(
      () => openMessage(encrypt(sodium.pad(utf8('not a payload'), 256)), context),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    // The signature is checked before membership: a forged message from a non-member is BAD_SIGNATURE.
    expectCode(
      () =>
        openMessage(envelope, {
          ...context,
          senderIsMember: false,
          identityKeyOf: () => undefined,
        }),
      'MESSAGE_BAD_SIGNATURE',
    );
  });

  it('rejects a signature made under another label', () => {
    const parts = decodeMessageEnvelope(send(1, new Uint8Array()).envelope);
    const wrongLabel = sodium.crypto_sign_detached(
      canon('parley/v1/room-key', [parts.headerBytes, parts.nonce, parts.ciphertext]),
      sender.secretKey,
    );
    const envelope = canon('parley/v1/message-envelope', [
      parts.headerBytes,
      parts.nonce,
      parts.ciphertext,
      wrongLabel,
    ]);
    expectCode(() => openMessage(envelope, context), 'MESSAGE_BAD_SIGNATURE');
  });

  it('binds the header through the AEAD too: a re-signed changed header does not decrypt', () => {
    const sealed = send(2, bytes(32, 1));
    const parts = decodeMessageEnvelope(sealed.envelope);
    const changed = encodeHeader({ ...sealed.header, clientTime: sealed.header.clientTime + 1 });
    expectCode(
      () => openMessage(resigned(changed, parts.nonce, parts.ciphertext), context),
      'MESSAGE_DECRYPT_FAILED',
    );
  });

  it('rejects every flipped byte with the code of the field it lands in', () => {
    const { envelope, header } = send(3, bytes(32, 8), 'property', bytes(24, 1));
    const headerBytes = fieldOf(envelope, 0);
    const codeFor = (index: number, mask: number): string => {
      const outer = locate(envelope, index);
      if (outer.field === -1) return 'MESSAGE_MALFORMED';
      if (outer.field > 0) return 'MESSAGE_BAD_SIGNATURE';
      const inner = locate(headerBytes, outer.offset);
      const u64Or = (code: string) =>
        flippedU64(fieldOf(headerBytes, inner.field), inner.offset, mask) === undefined
          ? 'MESSAGE_MALFORMED'
          : code;
      switch (inner.field) {
        case -1:
          return 'MESSAGE_MALFORMED';
        case 0:
          return u64Or('MESSAGE_UNSUPPORTED_VERSION');
        case 1:
          return 'MESSAGE_WRONG_ROOM';
        case 4: {
          const counter = flippedU64(fieldOf(headerBytes, 4), inner.offset, mask);
          return counter === undefined || counter <= 1
            ? 'MESSAGE_MALFORMED'
            : 'MESSAGE_BAD_SIGNATURE';
        }
        case 2:
        case 6:
          return u64Or('MESSAGE_BAD_SIGNATURE');
        default:
          return 'MESSAGE_BAD_SIGNATURE'; // sender (unknown key), message id, prevHash
      }
    };
    expect(header.counter).toBe(3);
    expectEveryFlipRefused(envelope, (tampered) => openMessage(tampered, context), codeFor, 400);
  });

  it('rejects every flipped ciphertext byte behind a valid signature as MESSAGE_DECRYPT_FAILED', () => {
    const parts = decodeMessageEnvelope(send(1, new Uint8Array()).envelope);
    expectEveryFlipRefused(
      parts.ciphertext,
      (ciphertext) => openMessage(resigned(parts.headerBytes, parts.nonce, ciphertext), context),
      () => 'MESSAGE_DECRYPT_FAILED',
      100,
    );
  });
});

describe('classification', () => {
  const h = (n: number) => bytes(32, n);
  const seen = (...pairs: [number, number][]): SenderState => ({
    highest: Math.max(0, ...pairs.map(([c]) => c)),
    hashes: new Map(pairs.map(([c, n]) => [c, h(n)])),
  });
  const classify = (
    state: SenderState | undefined,
    counter: number,
    prev: number | undefined,
    own: number,
  ) =>
    classifyMessage(
      state,
      { counter, prevHash: prev === undefined ? new Uint8Array() : h(prev) },
      h(own),
    ).status;

  it('follows the table of §6.5', () => {
    expect(classify(undefined, 1, undefined, 1)).toBe('new');
    expect(classify(seen([1, 1]), 2, 1, 2)).toBe('new');
    expect(classify(seen([1, 1]), 1, undefined, 1)).toBe('duplicate');
    expect(classify(seen([1, 1]), 1, undefined, 9)).toBe('fork');
    expect(classify(seen([1, 1]), 2, 7, 2)).toBe('fork');
    expect(classify(seen([1, 1]), 4, 3, 4)).toBe('gap');
    expect(classify(undefined, 3, 2, 3)).toBe('gap');
    expect(classify(seen([1, 1], [4, 4]), 3, 2, 3)).toBe('out-of-order');
    expect(classify(seen([1, 1], [4, 4]), 2, 1, 2)).toBe('out-of-order');
    expect(classify(seen([1, 1], [4, 4]), 2, 9, 2)).toBe('fork');
    expect(classify(seen([4, 4]), 1, undefined, 1)).toBe('out-of-order');
    expect(classify(seen([1, 1], [3, 3]), 4, 3, 4)).toBe('new');
    expect(classify(seen([1, 1], [3, 3]), 4, 8, 4)).toBe('fork');
  });

  it('records new, gap and out-of-order messages, not duplicates or forks', () => {
    let state: SenderState = EMPTY_SENDER_STATE;
    const step = (counter: number, prev: number | undefined, own: number) => {
      const result = classifyMessage(
        state,
        { counter, prevHash: prev === undefined ? new Uint8Array() : h(prev) },
        h(own),
      );
      state = result.state;
      return result.status;
    };
    expect([
      step(1, undefined, 1),
      step(3, 2, 3),
      step(2, 1, 2),
      step(2, 1, 2),
      step(3, 2, 9),
      step(4, 3, 4),
    ]).toEqual(['new', 'gap', 'out-of-order', 'duplicate', 'fork', 'new']);
    expect(state.highest).toBe(4);
    expect([...state.hashes.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(EMPTY_SENDER_STATE.hashes.size).toBe(0);
  });

  it('classifies a real sender chain: replay is a duplicate, equivocation a fork', () => {
    const first = send(1, new Uint8Array(), 'one');
    const second = send(2, first.messageHash, 'two');
    const equivocation = send(2, first.messageHash, 'other two');
    let state = classifyMessage(undefined, first.header, first.messageHash).state;
    const result = classifyMessage(state, second.header, second.messageHash);
    expect(result.status).toBe('new');
    state = result.state;
    expect(classifyMessage(state, second.header, second.messageHash).status).toBe('duplicate');
    expect(classifyMessage(state, equivocation.header, equivocation.messageHash).status).toBe(
      'fork',
    );
  });
});
