import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateVectors, vectorPath } from './generate';
import { checkVectors } from './parley-checker';
import { VECTOR_OPERATIONS, type VectorFile } from './types';

// Generation and checking each spend a few MODERATE Argon2id derivations on backup.json.
const SLOW = 120_000;

describe('protocol test vectors', () => {
  it(
    'are byte-stable: the committed files equal a fresh generation',
    async () => {
      const fresh = await generateVectors();
      for (const operation of VECTOR_OPERATIONS) {
        expect(
          readFileSync(vectorPath(operation), 'utf8'),
          `${operation}.json is stale: run pnpm vectors`,
        ).toBe(fresh.get(operation));
      }
    },
    SLOW,
  );

  for (const operation of VECTOR_OPERATIONS) {
    it(
      `${operation}.json: @parley/crypto accepts every valid case and rejects every invalid one with its code`,
      async () => {
        const file = JSON.parse(readFileSync(vectorPath(operation), 'utf8')) as VectorFile;
        expect(file.operation).toBe(operation);
        expect(file.cases.some((c) => c.result === 'valid')).toBe(true);
        expect(file.cases.some((c) => c.result === 'invalid')).toBe(true);
        const results = await checkVectors(operation, file);
        expect(results.map((r) => r.id)).toEqual(file.cases.map((c) => c.id));
        expect(results.filter((r) => !r.ok)).toEqual([]);
      },
      SLOW,
    );
  }
});
