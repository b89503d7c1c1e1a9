import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { ConfigError, JWT_SECRET_FILE, loadConfig } from '../src/config';

const tempDir = () => mkdtempSync(join(tmpdir(), 'parley-config-'));
const STRONG_SECRET = 'Jq3v9XzR2mT7wLp4sK8nB1cY6hD0fG5e';

describe('loadConfig', () => {
  it('has working defaults for a fresh machine', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir,
      logLevel: 'info',
      accessTokenTtlSeconds: 900,
    });
    expect(config.limits.bodyBytes).toBe(65_536);
    expect(config.limits.avatarBytes).toBe(262_144);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('keeps connections below the open-file limit, and timeouts in order', () => {
    const soft = Number(
      /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1],
    );
    const { limits } = loadConfig({ DATA_DIR: tempDir() });
    expect(limits.maxConnections).toBe(soft - Math.max(256, Math.floor(soft / 4)));
    expect(limits.wsMaxSockets).toBe(Math.floor(limits.maxConnections * 0.9));
    expect(limits).toMatchObject({ requestTimeoutMs: 60_000, headersTimeoutMs: 10_000 });
    expect(loadConfig({ DATA_DIR: tempDir(), MAX_CONNECTIONS: '500' }).limits).toMatchObject({
      maxConnections: 500,
      wsMaxSockets: 450,
    });
    expect(() =>
      loadConfig({ DATA_DIR: tempDir(), REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }),
    ).toThrow(/HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
  });

  it('generates a JWT secret once and keeps it in DATA_DIR, readable by the owner only', () => {
    const dataDir = tempDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    const file = join(dataDir, JWT_SECRET_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('prefers JWT_SECRET and never writes a file then', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: STRONG_SECRET });
    expect(config.jwtSecret).toBe(STRONG_SECRET);
    expect(() => statSync(join(dataDir, JWT_SECRET_FILE))).toThrow();
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@db:5432/parley',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: STRONG_SECRET,
      ALLOWED_ORIGINS: 'https://chat.example, https://other.example',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, ::1, loopback',
      BODY_LIMIT_BYTES: '2048',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u@db:5432/parley',
      redisUrl: 'redis://cache:6379',
      allowedOrigins: ['https://chat.example', 'https://other.example'],
      logLevel: 'warn',
      trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1', 'loopback'],
    });
    expect(config.limits.bodyBytes).toBe(2048);
  });

  it('refuses a JWT secret that is short, published or not random', () => {
    for (const secret of [
      'short',
      'x'.repeat(64),
      'abababababababababababababababababab',
      'a-string-secret-at-least-256-bits-long',
      'A-String-Secret-At-Least-256-Bits-Long',
    ]) {
      expect(() => loadConfig({ JWT_SECRET: secret, DATA_DIR: tempDir() }), secret).toThrow(
        /JWT_SECRET/,
      );
    }
    expect(loadConfig({ JWT_SECRET: STRONG_SECRET, DATA_DIR: tempDir() }).jwtSecret).toBe(
      STRONG_SECRET,
    );
  });

  it('refuses TRUST_PROXY=true, which would believe a forged X-Forwarded-For', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true', DATA_DIR: tempDir() })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33', DATA_DIR: tempDir() })).toThrow(
      /TRUST_PROXY/,
    );
    expect(loadConfig({ TRUST_PROXY: 'false', DATA_DIR: tempDir() }).trustProxy).toBe(false);
  });

  it('names every bad variable at once, without echoing a database password', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '70000',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://user:hunter2@db/parley',
        ALLOWED_ORIGINS: 'not an origin',
        JWT_SECRET: 'short',
        TRUST_PROXY: 'maybe',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(
      ['ALLOWED_ORIGINS', 'DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL', 'PORT', 'TRUST_PROXY'].sort(),
    );
    expect(message).not.toContain('hunter2');
  });
});

describe('build', () => {
  it('refuses the cheap test hashing when NODE_ENV is production', async () => {
    await expect(
      build({
        env: { NODE_ENV: 'production', JWT_SECRET: STRONG_SECRET, DATA_DIR: tempDir() },
        dangerouslyLowerPasswordHashingCostForTests: true,
      }),
    ).rejects.toThrow(/refused when NODE_ENV is production/);
  });
});
