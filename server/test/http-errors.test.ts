import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { PERMISSIONS_POLICY } from '../src/plugins/web';
import { registerUser } from './accounts';
import { createTestApp } from './helpers';
import { TestSocket } from './rooms-fixtures';

/** Writes `request` as raw bytes and reads the whole answer (the server closes after it). */
function exchange(
  port: number,
  request: string,
): Promise<{ status: number; headers: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      resolve({
        status: Number(head.split(' ')[1]),
        headers: head,
        body: body === '' ? undefined : JSON.parse(body),
      });
    });
    socket.write(request);
  });
}

describe('errors before any route runs', () => {
  let app: ParleyApp;
  let port: number;
  const logs: Record<string, unknown>[] = [];
  beforeAll(async () => {
    app = await createTestApp({
      config: { logLevel: 'warn' },
      logStream: new Writable({
        write(chunk, _encoding, done) {
          logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
  });

  const shaped = (code: string) => ({ error: { code, message: expect.any(String) } });

  it('answers a path parameter over its limit with 414 URI_TOO_LONG', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/api/users/by-id/${'a'.repeat(200)}`,
    });
    expect(response.statusCode).toBe(414);
    expect(response.json()).toEqual(shaped('URI_TOO_LONG'));
  });

  it('answers a malformed percent-encoding with 400 BAD_REQUEST', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/users/%zz' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(shaped('BAD_REQUEST'));
  });

  it('answers a URL past the parser’s limit with 414, headers past it with 431', async () => {
    const longUrl = await exchange(
      port,
      `GET /api/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(longUrl).toMatchObject({ status: 414, body: shaped('URI_TOO_LONG') });
    expect(longUrl.headers).toContain('application/json');
    const bigHeaders = await exchange(
      port,
      `GET /api/auth/rules HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(bigHeaders).toMatchObject({ status: 431, body: shaped('HEADERS_TOO_LARGE') });
  });

  it('answers bytes that are not HTTP with 400 BAD_REQUEST', async () => {
    expect(await exchange(port, 'HELLO THERE\r\n\r\n')).toMatchObject({
      status: 400,
      body: shaped('BAD_REQUEST'),
    });
  });

  it('logs the client’s protocol errors at warn, without a stack', async () => {
    await exchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    const entry = logs.find((line) => line.reason === 'HPE_INVALID_METHOD');
    expect(entry, JSON.stringify(logs)).toMatchObject({
      level: 40,
      code: 'BAD_REQUEST',
      msg: 'malformed request refused',
    });
    expect(JSON.stringify(logs)).not.toMatch(/"stack"|"err"/);
  });

  it('logs a WebSocket protocol violation at warn, without a stack', async () => {
    const socket = await TestSocket.open(`ws://127.0.0.1:${port}/ws`);
    socket.send('x'.repeat(200 * 1024));
    expect((await socket.closed).code).toBe(1009);
    const entry = logs.find((line) => line.msg === 'websocket protocol error');
    expect(entry, JSON.stringify(logs)).toMatchObject({
      level: 40,
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
    expect(JSON.stringify(logs)).not.toMatch(/"stack"|"err"/);
  });
});

describe('response headers', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('keep API answers out of caches and set the cross-origin and permission policies', async () => {
    const user = await registerUser(app);
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: user.password },
    });
    const me = await app.inject({ method: 'GET', url: '/api/me', headers: user.auth });
    const refused = await app.inject({ method: 'GET', url: '/api/me' });
    for (const response of [login, me, refused]) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['permissions-policy']).toBe(PERMISSIONS_POLICY);
      expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
      // Not over TLS, and no trusted proxy says otherwise.
      expect(response.headers['strict-transport-security']).toBeUndefined();
    }
    expect(PERMISSIONS_POLICY).toContain('geolocation=()');
  });
});
