import { randomBytes } from 'node:crypto';
import type { AuthResponse } from '@parley/wire';
import { expect } from 'vitest';
import type { ParleyApp } from '../src/app';

export interface TestUser {
  id: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** Headers that authenticate as this user. */
  auth: { authorization: string };
}

let counter = 0;

/** A username no other test of the run uses. */
export function uniqueUsername(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}`;
}

/** A password that passes the rules. */
export function strongPassword(): string {
  return `correct horse ${randomBytes(6).toString('hex')}`;
}

/** Registers a user through the API and returns its credentials and tokens. */
export async function registerUser(app: ParleyApp, username = uniqueUsername()): Promise<TestUser> {
  const password = strongPassword();
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { username, password },
  });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json<AuthResponse>();
  return {
    id: body.user.id,
    username: body.user.username,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** Asserts an error answer: the status and the stable code, in the `{ error }` shape. */
export function expectError(
  response: { statusCode: number; json: () => unknown; body: string },
  status: number,
  code: string,
): void {
  expect({ status: response.statusCode, body: response.json() }, response.body).toEqual({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
}
