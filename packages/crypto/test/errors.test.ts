import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { CRYPTO_ERROR_CODES, CryptoError, isCryptoError } from '../src/index';

describe('CryptoError', () => {
  it('lists exactly the codes of PROTOCOL.md §9', () => {
    const spec = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    const section = spec.slice(spec.indexOf('## 9. Failure codes'), spec.indexOf('## 10.'));
    const documented = [...section.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]);
    expect([...CRYPTO_ERROR_CODES].sort()).toEqual([...new Set(documented)].sort());
  });

  it('carries a code, the raising operation in its message, and a chain position', () => {
    const error = new CryptoError('CHAIN_FORK', 'verifyMembershipChain', 'entry 3: forked', {
      position: 3,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CryptoError');
    expect(error.message).toBe('verifyMembershipChain: entry 3: forked');
    expect(error.position).toBe(3);
    expect(isCryptoError(error, 'CHAIN_FORK')).toBe(true);
    expect(isCryptoError(error, 'CHAIN_MALFORMED')).toBe(false);
    expect(isCryptoError(new Error('x'))).toBe(false);
  });

  it('refuses to run before ready() with NOT_READY', async () => {
    vi.resetModules();
    const fresh = await import('../src/index');
    let code: unknown;
    try {
      fresh.identityKeyPair(new Uint8Array(32));
    } catch (error) {
      code = (error as CryptoError).code;
    }
    expect(code).toBe('NOT_READY');
    expect(fresh.isReady()).toBe(false);
    await fresh.ready();
    expect(fresh.isReady()).toBe(true);
    expect(fresh.identityKeyPair(new Uint8Array(32)).publicKey).toHaveLength(32);
  });
});
