import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAnswer, checkFrame } from '../src/boundary';

const room = 'ab'.repeat(16);

describe('checkFrame', () => {
  it('passes a frame that matches its schema', () => {
    const frame = { type: 'typing', room, user: room, active: true };
    expect(checkFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
    expect(checkFrame(new TextEncoder().encode(JSON.stringify(frame)))).toEqual({
      ok: true,
      frame,
    });
  });

  it('names the type and the schema path of what is wrong', () => {
    const text = JSON.stringify({ type: 'ack', room, messageId: { toString: 0 }, seq: 1 });
    expect(checkFrame(text)).toMatchObject({
      ok: false,
      violation: { source: 'frame', type: 'ack', path: '/messageId' },
    });
    expect(checkFrame('{"type":"nonsense"}')).toMatchObject({
      ok: false,
      violation: { type: 'unknown', path: '/type' },
    });
  });

  it('never throws, whatever arrives', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const result = checkFrame(text);
          expect(typeof result.ok).toBe('boolean');
        },
      ),
    );
    expect(checkFrame('['.repeat(200_000) + ']'.repeat(200_000)).ok).toBe(false);
    expect(checkFrame(42).ok).toBe(false);
  });
});

describe('checkAnswer', () => {
  it('checks an answer against its route, ids in the path or not', () => {
    expect(checkAnswer('GET', '/api/rooms', { rooms: [] })).toBeUndefined();
    expect(checkAnswer('GET', `/api/rooms/${room}/receipts`, { receipts: 'x' })).toMatchObject({
      type: 'GET /api/rooms/:id/receipts',
      path: '/receipts',
    });
  });

  it('refuses an answer to a route it has no schema for', () => {
    expect(checkAnswer('GET', '/api/unknown', {})).toMatchObject({
      message: 'no schema for this route',
    });
  });
});
