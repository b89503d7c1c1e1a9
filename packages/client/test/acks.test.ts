import { describe, expect, it } from 'vitest';
import { AckBook, REMEMBERED_ACKS } from '../src/acks';

describe('AckBook', () => {
  it('resolves the waiters of a message when it is acknowledged', async () => {
    const book = new AckBook();
    const first = book.wait('m1');
    const second = book.wait('m1');
    book.settle('m1', 7);
    await expect(Promise.all([first, second])).resolves.toEqual([7, 7]);
  });

  it('answers at once for a message acknowledged already', async () => {
    const book = new AckBook();
    book.settle('m1', 9);
    await expect(book.wait('m1')).resolves.toBe(9);
  });

  it('remembers only the newest acknowledgements', async () => {
    const book = new AckBook();
    for (let i = 0; i <= REMEMBERED_ACKS; i += 1) book.settle(`m${i}`, i);
    await expect(book.wait(`m${REMEMBERED_ACKS}`)).resolves.toBe(REMEMBERED_ACKS);
    const forgotten = await Promise.race([
      book.wait('m0'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 20)),
    ]);
    expect(forgotten).toBe('waiting');
  });
});
