// The checks of a reliability run catch each way a delivery guarantee can break: a lost, doubled
// or reordered message, a hole in the sequence, an acknowledgement for a seq the message is not
// stored at, a client delivering twice or out of order, a socket skipping across the resume seam.
import { describe, expect, it } from 'vitest';
import {
  checkDelivery,
  checkHistory,
  checkSocketOrder,
  resendCount,
  type Delivery,
  type SentMessage,
  type SocketFrame,
  type StoredMessage,
} from './checks';

const ALICE = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
const ROOM = 'c'.repeat(32);

// Two members, two rounds: alice sends #1 #2, bob sends #1 #2, stored interleaved.
const sent = new Map<string, SentMessage>([
  ['id-a1', { sender: 0, number: 1, text: 'm0#1' }],
  ['id-b1', { sender: 1, number: 1, text: 'm1#1' }],
  ['id-a2', { sender: 0, number: 2, text: 'm0#2' }],
  ['id-b2', { sender: 1, number: 2, text: 'm1#2' }],
]);
const history: StoredMessage[] = [
  { seq: 1, messageId: 'id-a1', senderId: ALICE, counter: 1 },
  { seq: 2, messageId: 'id-b1', senderId: BOB, counter: 1 },
  { seq: 3, messageId: 'id-a2', senderId: ALICE, counter: 2 },
  { seq: 4, messageId: 'id-b2', senderId: BOB, counter: 2 },
];
const acks = history.map(({ messageId, seq }) => ({ member: 0, messageId, seq }));
const delivered: Delivery[] = history.map(({ seq, messageId }) => ({
  seq,
  messageId,
  text: sent.get(messageId)!.text,
}));

describe('checkHistory', () => {
  it('accepts a complete, ordered history whose acknowledgements match', () => {
    expect(checkHistory(history, sent, acks)).toEqual([]);
  });

  it('reports a lost message', () => {
    const lost = history.filter((m) => m.messageId !== 'id-b2');
    expect(checkHistory(lost, sent, [])).toEqual(['history: m1#2 is missing']);
  });

  it('reports a message stored twice', () => {
    const doubled = [...history, { ...history[2]!, seq: 5 }];
    expect(checkHistory(doubled, sent, [])).toContain('history: m0#2 stored at 3 and 5');
  });

  it('reports a hole in the sequence numbers', () => {
    const holed = history.map((m) => (m.seq >= 3 ? { ...m, seq: m.seq + 1 } : m));
    expect(checkHistory(holed, sent, [])).toContain('history: position 3 holds seq 4');
  });

  it("reports a sender's messages stored out of the order sent", () => {
    const swapped = [history[2]!, history[1]!, history[0]!, history[3]!].map((m, i) => ({
      ...m,
      seq: i + 1,
    }));
    expect(checkHistory(swapped, sent, [])).toContain('history: seq 3 has counter 1 after 2');
  });

  it('reports an acknowledgement for another seq than the stored one, or for nothing stored', () => {
    const problems = checkHistory(history.slice(0, 3), sent, [
      { member: 1, messageId: 'id-a2', seq: 4 },
      { member: 1, messageId: 'id-b2', seq: 4 },
    ]);
    expect(problems).toContain('member 1: m0#2 acknowledged as 4, stored at 3');
    expect(problems).toContain('member 1: m1#2 acknowledged as 4, stored at nothing');
  });

  it('reports a stored message nobody sent', () => {
    const forged = [...history, { seq: 5, messageId: 'id-x', senderId: BOB, counter: 3 }];
    expect(checkHistory(forged, sent, [])).toEqual(['history: seq 5 is no message a member sent']);
  });
});

describe('checkDelivery', () => {
  it('accepts a client that delivered the history once each, in order', () => {
    expect(checkDelivery(0, delivered, history, sent, 2)).toEqual([]);
  });

  it('reports a message delivered twice', () => {
    const twice = [...delivered.slice(0, 3), delivered[2]!, delivered[3]!];
    const [problem] = checkDelivery(0, twice, history, sent, 2);
    expect(problem).toMatch(/delivered 5 messages \(1 of them twice\), history has 4/);
  });

  it('reports a message never delivered', () => {
    const problems = checkDelivery(0, delivered.slice(0, 3), history, sent, 2);
    expect(problems).toContain('member 0: from member 1 delivered #1');
  });

  it('reports messages delivered out of order', () => {
    const reordered = [delivered[0]!, delivered[2]!, delivered[1]!, delivered[3]!];
    expect(checkDelivery(0, reordered, history, sent, 2)[0]).toMatch(
      /first difference at #1: got 3:id-a2, history 2:id-b1/,
    );
  });

  it('reports a text that is not what was sent', () => {
    const altered = delivered.map((m) => (m.seq === 2 ? { ...m, text: 'm1#9' } : m));
    expect(checkDelivery(0, altered, history, sent, 2)).toContain(
      'member 0: delivered "m1#9", which nobody sent as such',
    );
  });
});

describe('checkSocketOrder', () => {
  const frame = (socket: number, type: string, seq?: number): SocketFrame => ({
    socket,
    direction: 'in',
    frame: { type, room: ROOM, ...(seq === undefined ? {} : { seq }) },
  });

  it('accepts consecutive messages on each socket, a new socket resuming anywhere', () => {
    const frames = [
      frame(1, 'subscribed'),
      frame(1, 'message', 1),
      frame(1, 'message', 2),
      frame(2, 'subscribed'),
      frame(2, 'message', 3),
      frame(2, 'message', 4),
    ];
    expect(checkSocketOrder(0, frames, ROOM)).toEqual([]);
  });

  it('reports a gap or a repeat on one socket', () => {
    const frames = [
      frame(1, 'subscribed'),
      frame(1, 'message', 1),
      frame(1, 'message', 3),
      frame(1, 'message', 3),
    ];
    expect(checkSocketOrder(0, frames, ROOM)).toEqual([
      'member 0: socket 1 got seq 3 right after 1',
      'member 0: socket 1 got seq 3 right after 3',
    ]);
  });
});

describe('resendCount', () => {
  it('counts send frames that repeat an envelope', () => {
    const send = (envelope: string): SocketFrame => ({
      socket: 1,
      direction: 'out',
      frame: { type: 'send', room: ROOM, envelope },
    });
    expect(resendCount([send('x'), send('y'), send('x'), send('x')])).toBe(2);
  });
});
