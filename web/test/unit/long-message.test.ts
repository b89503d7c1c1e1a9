import { describe, expect, it } from 'vitest';
import {
  isLongMessage,
  LONG_MESSAGE_CHARACTERS,
  LONG_MESSAGE_LINES,
} from '../../src/lib/long-message';

describe('isLongMessage', () => {
  it('collapses past the character bound, not at it', () => {
    expect(isLongMessage('a'.repeat(LONG_MESSAGE_CHARACTERS))).toBe(false);
    expect(isLongMessage('a'.repeat(LONG_MESSAGE_CHARACTERS + 1))).toBe(true);
  });

  it('collapses past the line bound, however short the lines', () => {
    expect(isLongMessage(Array(LONG_MESSAGE_LINES).fill('x').join('\n'))).toBe(false);
    expect(
      isLongMessage(
        Array(LONG_MESSAGE_LINES + 1)
          .fill('x')
          .join('\n'),
      ),
    ).toBe(true);
  });

  it('leaves an ordinary message alone', () => {
    expect(isLongMessage('see you at 6')).toBe(false);
    expect(isLongMessage('')).toBe(false);
  });
});
