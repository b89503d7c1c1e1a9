import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AuthResponse } from '@parley/wire';
import { describe, expect, it } from 'vitest';
import { redactQuery } from '../src/app';
import { strongPassword, uniqueUsername } from './accounts';
import { createTestApp } from './helpers';

describe('logs', () => {
  it('never contain passwords or tokens, even at trace level', async () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await createTestApp({ logStream, config: { logLevel: 'trace' } });
    try {
      const username = uniqueUsername();
      const password = strongPassword();
      const registered = (
        await app.inject({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username, password },
        })
      ).json<AuthResponse>();
      await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password: `${password}x` },
      });
      const refreshed = (
        await app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refreshToken: registered.refreshToken },
        })
      ).json<AuthResponse>();
      await app.inject({
        method: 'GET',
        url: '/api/me',
        headers: { authorization: `Bearer ${refreshed.accessToken}` },
      });
      await app.inject({ method: 'GET', url: `/ws?token=${refreshed.accessToken}&room=1` });

      const log = lines.join('');
      expect(log).toContain('request completed');
      expect(log).toContain('/ws?token=[redacted]&room=1');
      for (const secret of [
        password,
        registered.accessToken,
        registered.refreshToken,
        refreshed.accessToken,
        refreshed.refreshToken,
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await app.close();
    }
  });

  it('redactQuery hides token parameters only', () => {
    expect(redactQuery('/ws?access_token=abc&x=1&token=def')).toBe(
      '/ws?access_token=[redacted]&x=1&token=[redacted]',
    );
    expect(redactQuery('/api/users?q=token')).toBe('/api/users?q=token');
  });
});

describe('pnpm start', () => {
  it('serves the API with embedded PGlite and shuts down cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-start-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        DATABASE_URL: '',
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += String(chunk);
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const missing = await fetch(`${url}/api/nothing`);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
  }, 60_000);
});
