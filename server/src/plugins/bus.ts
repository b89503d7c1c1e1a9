import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

/**
 * Fan-out between the parts of a deployment: every event that reaches sockets (a committed
 * message, a membership change, a key for one user...) is published on a channel, and each server
 * process delivers it to the sockets it holds. In one process the bus is a map of listeners; with
 * REDIS_URL it is Redis pub/sub, so several processes behind a load balancer serve one deployment.
 *
 * Delivery is at most once and, per channel, in publish order from one process. Nothing relies on
 * the bus for durability: messages are committed before they are published, and subscribers fill
 * any gap they notice from the database.
 */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  /** Publishes `payload` to every listener of `channel` in every process. */
  publish(channel: string, payload: string): void;
  /** Adds a listener; resolves once the channel is subscribed (events after that are received). */
  subscribe(channel: string, listener: BusListener): Promise<void>;
  unsubscribe(channel: string, listener: BusListener): void;
  close(): Promise<void>;
}

export type BusListener = (payload: string) => void;

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus;
  }
}

export interface BusPluginOptions {
  /** Redis for cross-process fan-out; in-process when absent. */
  redisUrl?: string | undefined;
  /** Prefix of every Redis channel. */
  channelPrefix?: string;
}

export const busPlugin = fp<BusPluginOptions>(
  async (app, options) => {
    const bus =
      options.redisUrl === undefined
        ? createMemoryBus()
        : await createRedisBus(options.redisUrl, options.channelPrefix ?? 'parley:', (error) =>
            app.log.warn({ err: error }, 'redis bus error'),
          );
    app.decorate('bus', bus);
    // After the sockets are closed (websocket preClose) nothing publishes any more.
    app.addHook('onClose', async () => bus.close());
  },
  { name: 'parley-bus', fastify: '5.x' },
);

/** The bus inside one process: listeners are called synchronously, in publish order. */
export function createMemoryBus(): Bus {
  const channels = new Map<string, Set<BusListener>>();
  return {
    kind: 'memory',
    publish(channel, payload) {
      const listeners = channels.get(channel);
      if (listeners === undefined) return;
      for (const listener of [...listeners]) listener(payload);
    },
    async subscribe(channel, listener) {
      let listeners = channels.get(channel);
      if (listeners === undefined) channels.set(channel, (listeners = new Set()));
      listeners.add(listener);
    },
    unsubscribe(channel, listener) {
      const listeners = channels.get(channel);
      listeners?.delete(listener);
      if (listeners?.size === 0) channels.delete(channel);
    },
    async close() {
      channels.clear();
    },
  };
}

/**
 * The bus over Redis pub/sub: one connection publishes, another holds the subscriptions (a
 * subscribed Redis connection can do nothing else). A channel is subscribed in Redis while at
 * least one listener of this process wants it. ioredis reconnects and resubscribes by itself.
 */
export async function createRedisBus(
  url: string,
  prefix: string,
  onError: (error: Error) => void,
): Promise<Bus> {
  const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  publisher.on('error', onError);
  subscriber.on('error', onError);
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(`createRedisBus: cannot connect to Redis: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const channels = new Map<string, Set<BusListener>>();
  subscriber.on('message', (prefixed: string, payload: string) => {
    const listeners = channels.get(prefixed.slice(prefix.length));
    if (listeners === undefined) return;
    for (const listener of [...listeners]) listener(payload);
  });

  let closed = false;
  return {
    kind: 'redis',
    publish(channel, payload) {
      if (closed) return;
      publisher.publish(prefix + channel, payload).catch(onError);
    },
    async subscribe(channel, listener) {
      let listeners = channels.get(channel);
      if (listeners === undefined) channels.set(channel, (listeners = new Set()));
      listeners.add(listener);
      // Subscribing again is harmless in Redis, and waiting for it means a second listener, too,
      // resolves only once the channel is live (commands on one connection run in order).
      await subscriber.subscribe(prefix + channel);
    },
    unsubscribe(channel, listener) {
      const listeners = channels.get(channel);
      if (listeners === undefined) return;
      listeners.delete(listener);
      if (listeners.size > 0) return;
      channels.delete(channel);
      if (!closed) subscriber.unsubscribe(prefix + channel).catch(onError);
    },
    async close() {
      if (closed) return;
      closed = true;
      channels.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
