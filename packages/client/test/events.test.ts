import { describe, expect, it } from 'vitest';
import { ClientEventEmitter } from '../src/events';
import type { Logger } from '../src/options';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const nothing = (): void => undefined;
  return {
    errors,
    debug: nothing,
    info: nothing,
    warn: nothing,
    error: (message) => errors.push(message),
  };
}

describe('ClientEventEmitter', () => {
  it('delivers typed events until unsubscribed', () => {
    const events = new ClientEventEmitter(recordingLogger());
    const seen: string[] = [];
    const off = events.on('verification-failed', (failure) => seen.push(failure.code));
    events.emit('verification-failed', { code: 'MESSAGE_GAP', severity: 'warning', detail: 'x' });
    off();
    events.emit('verification-failed', { code: 'MESSAGE_FORK', severity: 'warning', detail: 'y' });
    expect(seen).toEqual(['MESSAGE_GAP']);
  });

  it('keeps delivering to other listeners when one throws, and logs it', () => {
    const logger = recordingLogger();
    const events = new ClientEventEmitter(logger);
    const seen: number[] = [];
    events.on('acked', () => {
      throw new Error('listener bug');
    });
    events.on('acked', (ack) => seen.push(ack.seq));
    events.emit('acked', { roomId: 'r', messageId: 'm', seq: 4 });
    expect(seen).toEqual([4]);
    expect(logger.errors).toEqual(['event listener threw']);
  });

  it('resolves next() with the first matching event only', async () => {
    const events = new ClientEventEmitter(recordingLogger());
    const next = events.next('acked', (ack) => ack.seq > 1);
    events.emit('acked', { roomId: 'r', messageId: 'a', seq: 1 });
    events.emit('acked', { roomId: 'r', messageId: 'b', seq: 2 });
    events.emit('acked', { roomId: 'r', messageId: 'c', seq: 3 });
    expect((await next).messageId).toBe('b');
  });
});
