import { fromHex, type MessagePayload } from '@parley/crypto';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../src/events';
import { MAX_WAITING_ACTIONS, MessageActions } from '../src/message-actions';

const ALICE = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
const ADMIN = 'c'.repeat(32);
let nextSeq = 1;

function message(
  senderId: string,
  kind: MessagePayload['kind'],
  text: string,
  target?: string,
  options: { id?: string; seq?: number; replyTo?: string } = {},
): ReceivedMessage {
  const seq = options.seq ?? nextSeq++;
  return {
    roomId: 'f'.repeat(32),
    seq,
    messageId: options.id ?? seq.toString(16).padStart(32, '0'),
    senderId,
    senderName: undefined,
    epoch: 0,
    counter: seq,
    clientTime: 0,
    sentAt: undefined,
    status: 'new',
    payload: {
      kind,
      text,
      replyTo: options.replyTo === undefined ? new Uint8Array() : fromHex(options.replyTo),
      target: target === undefined ? new Uint8Array() : fromHex(target),
      attachments: [],
      extra: new Uint8Array(),
    },
    text,
    own: false,
  };
}

const actions = () => new MessageActions((userId) => userId === ADMIN);

describe('message actions', () => {
  it('applies the author’s edits, newest by sequence, and refuses anyone else’s', () => {
    const room = actions();
    const original = message(ALICE, 'text', 'helo');
    room.add(original);
    const late = message(ALICE, 'edit', 'hello', original.messageId);
    const later = message(ALICE, 'edit', 'hello!', original.messageId);
    expect(room.add(later)).toEqual([original.messageId]);
    expect(room.add(late)).toEqual([]);
    expect(room.add(message(BOB, 'edit', 'I said nothing', original.messageId))).toEqual([]);
    expect(room.add(message(ADMIN, 'edit', 'nor did I', original.messageId))).toEqual([]);
    expect(room.get(original.messageId)).toMatchObject({ text: 'hello!', edited: true });
  });

  it('deletes for the author or an admin only, and a deleted message takes no edits or reactions', () => {
    const room = actions();
    const mine = message(ALICE, 'text', 'oops');
    const theirs = message(BOB, 'text', 'spam');
    room.add(mine);
    room.add(theirs);
    expect(room.add(message(BOB, 'delete', '', mine.messageId))).toEqual([]);
    expect(room.get(mine.messageId)!.deletedBy).toBeUndefined();
    expect(room.add(message(ALICE, 'delete', '', mine.messageId))).toEqual([mine.messageId]);
    expect(room.add(message(ADMIN, 'delete', '', theirs.messageId))).toEqual([theirs.messageId]);
    expect(room.get(mine.messageId)).toMatchObject({ deletedBy: ALICE, text: '' });
    expect(room.get(theirs.messageId)).toMatchObject({ deletedBy: ADMIN, text: '' });
    expect(room.add(message(ALICE, 'edit', 'back', mine.messageId))).toEqual([]);
    expect(room.add(message(BOB, 'reaction', '👍', mine.messageId))).toEqual([]);
  });

  it('keeps one reaction per person, the newest, and an empty one takes it back', () => {
    const room = actions();
    const target = message(ALICE, 'text', 'lunch?');
    room.add(target);
    room.add(message(BOB, 'reaction', '👍', target.messageId));
    room.add(message(ALICE, 'reaction', '🎉', target.messageId));
    room.add(message(BOB, 'reaction', '❤️', target.messageId));
    expect([...room.get(target.messageId)!.reactions]).toEqual([
      [BOB, '❤️'],
      [ALICE, '🎉'],
    ]);
    room.add(message(BOB, 'reaction', '', target.messageId));
    expect([...room.get(target.messageId)!.reactions]).toEqual([[ALICE, '🎉']]);
    expect(room.add(message(BOB, 'reaction', 'x'.repeat(33), target.messageId))).toEqual([]);
  });

  it('holds actions that arrive before their target, a bounded number of them', () => {
    const room = actions();
    const target = message(ALICE, 'text', 'first', undefined, { seq: 1, id: '1'.repeat(32) });
    expect(room.add(message(ALICE, 'edit', 'first, edited', target.messageId))).toEqual([]);
    expect(room.add(message(BOB, 'reaction', '👀', target.messageId))).toEqual([]);
    room.add(target);
    expect(room.get(target.messageId)).toMatchObject({ text: 'first, edited', edited: true });
    expect(room.get(target.messageId)!.reactions.get(BOB)).toBe('👀');

    const flood = actions();
    for (let i = 0; i < MAX_WAITING_ACTIONS + 10; i++) {
      flood.add(
        message(BOB, 'reaction', '👍', i.toString(16).padStart(32, '0'), { seq: 10_000 + i }),
      );
    }
    // The oldest waiting targets were let go: their messages arrive with no reaction.
    const dropped = message(ALICE, 'text', 'old', undefined, { id: '0'.repeat(32), seq: 5 });
    flood.add(dropped);
    expect(flood.get(dropped.messageId)!.reactions.size).toBe(0);
  });

  it('remembers what a message replies to, and ignores a second copy of a message', () => {
    const room = actions();
    const question = message(ALICE, 'text', 'tea?');
    room.add(question);
    const answer = message(BOB, 'text', 'yes', undefined, { replyTo: question.messageId });
    expect(room.add(answer)).toEqual([answer.messageId]);
    expect(room.add(answer)).toEqual([]);
    expect(room.get(answer.messageId)!.replyTo).toBe(question.messageId);
  });
});
