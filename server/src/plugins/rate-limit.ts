import fastifyRateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { parleyError } from '../errors';
import { createMemoryCounters, createRedisCounters, type Counters } from '../limits/counters';

declare module 'fastify' {
  interface FastifyInstance {
    /** Failure counters for the login throttle: in Redis with REDIS_URL, so shared by processes. */
    counters: Counters;
  }
}

/**
 * Registers @fastify/rate-limit without a global limit; routes opt in with `config.rateLimit` or
 * stack several limiters with `app.rateLimit({ keyGenerator, ... })` as preHandlers. With
 * REDIS_URL the counters live in Redis (the library's own Redis store, under the deployment's
 * prefix), so a limit holds across every process behind the load balancer; without, in memory.
 *
 * While Redis is unreachable requests are let through rather than refused, and the failure is
 * logged: a limit that fails closed would turn a Redis outage into a login outage.
 */
export const rateLimitPlugin = fp(
  async (app) => {
    const { redisUrl, redisChannelPrefix } = app.config;
    const redis =
      redisUrl === undefined
        ? undefined
        : new Redis(redisUrl, {
            // Fail a counter update fast rather than hold the request while Redis is away.
            connectTimeout: 1000,
            maxRetriesPerRequest: 1,
            enableOfflineQueue: false,
            lazyConnect: true,
          });
    if (redis !== undefined) {
      redis.on('error', (error) => app.log.warn({ err: error }, 'redis rate-limit store error'));
      // Not awaited: the server starts with Redis down and counts in Redis once it is up.
      redis.connect().catch(() => {});
      app.addHook('onClose', async () => {
        await redis.quit().catch(() => redis.disconnect());
      });
    }
    await app.register(fastifyRateLimit, {
      global: false,
      ...(redis === undefined
        ? {}
        : { redis, nameSpace: `${redisChannelPrefix}rate-limit:`, skipOnError: true }),
      errorResponseBuilder: (_request, context) =>
        parleyError('RATE_LIMITED', `Too many requests; retry in ${context.after}`),
    });
    app.decorate(
      'counters',
      redis === undefined
        ? createMemoryCounters()
        : createRedisCounters(redis, `${redisChannelPrefix}counters:`),
    );
  },
  { name: 'parley-rate-limit', fastify: '5.x' },
);
