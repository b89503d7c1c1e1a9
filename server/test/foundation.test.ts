import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { build } from '../src/app';
import { openPostgres } from '../src/db/database';
import { createTestApp, TEST_JWT_SECRET } from './helpers';

describe('foundation', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers /healthz and /readyz', async () => {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });

  it('answers an unknown route with NOT_FOUND in the error shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('serves the OpenAPI document generated from the route schemas, and its UI', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    for (const path of [
      '/api/auth/register',
      '/api/auth/login',
      '/api/me/keys',
      '/api/users/{username}/keys',
      '/api/users/by-id/{userId}/keys/history',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const register = document.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.additionalProperties).toBe(
      false,
    );
    expect(Object.keys(register.responses)).toEqual(expect.arrayContaining(['201', '4XX']));
    const ui = await app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('/readyz answers NOT_READY while the database does not answer', async () => {
    const unreachable = await build({
      env: {},
      config: { jwtSecret: TEST_JWT_SECRET, logLevel: 'silent' },
      database: openPostgres('postgres://postgres@127.0.0.1:1/nowhere'),
      skipMigrations: true,
    });
    const response = await unreachable.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('NOT_READY');
    expect((await unreachable.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await unreachable.close();
  });

  it('answers an unexpected failure with INTERNAL and keeps the details in the log', async () => {
    const broken = await createTestApp();
    broken.get('/boom', async () => {
      throw new Error('connection string postgres://user:hunter2@db leaked');
    });
    const response = await broken.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'INTERNAL', message: 'Internal server error' },
    });
    await broken.close();
  });
});
