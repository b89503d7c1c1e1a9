import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../src/api';
import { checkFrame } from '../src/boundary';

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

describe("the routes' answer checks", () => {
  it("check an answer against its route's schema and name the route and the path", () => {
    expect(ROUTES.rooms.check?.({ rooms: [] })).toBeUndefined();
    expect(ROUTES.receipts.check?.({ receipts: 'x' })).toMatchObject({
      source: 'answer',
      type: 'GET /api/rooms/:id/receipts',
      path: '/receipts',
    });
  });

  it('give every JSON route a check, and raw-byte routes none', () => {
    for (const [name, route] of Object.entries(ROUTES)) {
      expect(route.check === undefined, name).toBe(route.answer === null);
    }
  });
});
