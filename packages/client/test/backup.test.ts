import { utf8 } from '@parley/crypto';
import { describe, expect, it } from 'vitest';
import { checkPassphrase, MIN_PASSPHRASE_SCORE, parseBackupExtra } from '../src/backup';

describe('backup passphrases', () => {
  it('accepts a long passphrase of unrelated words and refuses a short one', () => {
    expect(checkPassphrase('correct horse battery staple orbit').acceptable).toBe(true);
    const weak = checkPassphrase('alice123', ['alice']);
    expect(weak.acceptable).toBe(false);
    expect(weak.score).toBeLessThan(MIN_PASSPHRASE_SCORE);
  });
});

describe('parseBackupExtra', () => {
  it('reads the verified contacts and left-behind rooms and ignores anything else', () => {
    expect(parseBackupExtra(utf8(JSON.stringify({ verified: ['a', 1, 'b'] })))).toEqual({
      verified: ['a', 'b'],
      leftBehind: [],
    });
    expect(
      parseBackupExtra(utf8(JSON.stringify({ verified: [], leftBehind: ['r', null, 'q'] }))),
    ).toEqual({ verified: [], leftBehind: ['r', 'q'] });
    const nothing = { verified: [], leftBehind: [] };
    expect(parseBackupExtra(utf8('not json'))).toEqual(nothing);
    expect(parseBackupExtra(utf8('{"verified":{"toString":0}}'))).toEqual(nothing);
    expect(parseBackupExtra(utf8('{"leftBehind":"room"}'))).toEqual(nothing);
  });
});
