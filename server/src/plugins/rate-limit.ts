import fastifyRateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { parleyError } from '../errors';

/**
 * Registers @fastify/rate-limit without a global limit; routes opt in with `config.rateLimit` or
 * stack several limiters with `app.rateLimit({ keyGenerator, ... })` as preHandlers (one keyed on
 * the client IP, one on the account). Counters live in process memory.
 */
export const rateLimitPlugin = fp(
  async (app) => {
    await app.register(fastifyRateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        parleyError('RATE_LIMITED', `Too many requests; retry in ${context.after}`),
    });
  },
  { name: 'parley-rate-limit', fastify: '5.x' },
);
