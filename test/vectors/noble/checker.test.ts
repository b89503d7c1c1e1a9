import { describe, expect, it } from 'vitest';
import type { VectorCase, VectorFile } from '../types';
import { toHex, u64, canon } from './encoding';
import { boxKeyPair, sign, signKeyPair } from './primitives';
import { checkVectors } from './checker';

function identityFile(cases: VectorCase[]): VectorFile {
  return {
    operation: 'identity',
    protocol: 'parley/v1',
    description: 'checker self-test',
    generatedBy: 'checker.test.ts',
    cases,
  };
}

function bindingCase(id: number): VectorCase {
  const identitySeed = new Uint8Array(32).fill(id);
  const encryptionSeed = new Uint8Array(32).fill(100 + id);
  const userId = new Uint8Array(16).fill(200 + id);
  const identityPublicKey = signKeyPair(identitySeed).publicKey;
  const encryptionPublicKey = boxKeyPair(encryptionSeed).publicKey;
  const input = canon(
    'parley/v1/encryption-key',
    userId,
    identityPublicKey,
    encryptionPublicKey,
    u64(1),
  );
  return {
    id,
    comment: 'binding',
    result: 'valid',
    userId: toHex(userId),
    identityPublicKey: toHex(identityPublicKey),
    encryptionPublicKey: toHex(encryptionPublicKey),
    version: 1,
    signature: toHex(sign(identitySeed, input)),
    identitySeed: toHex(identitySeed),
    encryptionSeed: toHex(encryptionSeed),
  };
}

describe('checkVectors verdicts', () => {
  it('accepts a valid case and reproduces its outputs', async () => {
    expect(await checkVectors('identity', identityFile([bindingCase(1)]))).toEqual([
      { id: 1, ok: true },
    ]);
  });

  it('fails a valid case whose listed output is not reproduced', async () => {
    const wrongKey = { ...bindingCase(2), encryptionSeed: toHex(new Uint8Array(32)) };
    const [result] = await checkVectors('identity', identityFile([wrongKey]));
    expect(result).toMatchObject({ id: 2, ok: false });
    expect(result!.detail).toContain('encryptionPublicKey');
  });

  it('passes an invalid case only when rejected with exactly its code', async () => {
    const base = bindingCase(3);
    const badVersion = {
      ...base,
      id: 4,
      version: 2,
      result: 'invalid',
      error: 'IDENTITY_BAD_SIGNATURE',
    } as const;
    const wrongCode = { ...badVersion, id: 5, error: 'IDENTITY_MALFORMED' };
    const accepted = {
      ...base,
      id: 6,
      result: 'invalid',
      error: 'IDENTITY_BAD_SIGNATURE',
    } as const;
    const results = await checkVectors('identity', identityFile([badVersion, wrongCode, accepted]));
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      [4, true],
      [5, false],
      [6, false],
    ]);
    expect(results[1]!.detail).toContain('IDENTITY_BAD_SIGNATURE');
  });

  it('reports a broken case or an unknown operation instead of throwing', async () => {
    const broken = { ...bindingCase(7), userId: 'not hex' };
    const [result] = await checkVectors('identity', identityFile([broken]));
    expect(result).toMatchObject({ id: 7, ok: false });
    const [unknown] = await checkVectors('nonsense', {
      ...identityFile([bindingCase(8)]),
      operation: 'nonsense',
    });
    expect(unknown).toMatchObject({ id: 8, ok: false });
  });
});

describe('checkVectors strictness', () => {
  it('fails a case carrying a field it would not compare', async () => {
    const extra = { ...bindingCase(9), fingerprint: '00' };
    const [result] = await checkVectors('identity', identityFile([extra]));
    expect(result).toEqual({ id: 9, ok: false, detail: 'unknown fields: fingerprint' });
  });
});
