import { createHmac } from 'node:crypto';

/**
 * Hand-made JWTs for the tests that must present what the server would never issue: another
 * algorithm, a forged signature, an expired or foreign token.
 */
export function makeJwt(
  claims: Record<string, unknown>,
  options: { secret: string; alg?: 'HS256' | 'HS384' | 'HS512' | 'none' },
): string {
  const alg = options.alg ?? 'HS256';
  const header = encode({ alg, typ: 'JWT' });
  const payload = encode(claims);
  if (alg === 'none') return `${header}.${payload}.`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = createHmac(hash, options.secret)
    .update(`${header}.${payload}`)
    .digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** The claims of a token the server issued. */
export function readClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
