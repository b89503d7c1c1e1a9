import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

/**
 * Fan-out between the parts of a deployment: every event that reaches sockets (a committed
 * message, a membership change, a key for one user...) is published on a channel, and each server
 * process delivers it to the sockets it holds. In one process the bus is a map of listeners; with
 * REDIS_URL it is Redis pub/sub, so several processes behind a load balancer serve one deployment.
 *
 * Delivery is at most once and, per channel, in publish order from one process. Nothing relies on
 * the bus for durability: messages are committed before they are published, subscribers fill any
 * gap they notice from the database, and after an outage every process is told to catch up
 * (`onResync`) instead of waiting for a later event to reveal the gap.
 */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  /** Whether events reach the other processes now (always, in memory). */
  readonly connected: boolean;
  /**
   * Publishes `payload` to every listener of `channel` in every process. This process's own
   * listeners hear it at once, whether or not Redis is reachable.
   */
  publish(channel: string, payload: string): void;
  /**
   * Adds a listener; resolves once the channel is subscribed (events after that are received), or
   * at once while Redis is unreachable (the channel is subscribed when it comes back, followed
   * by a resync).
   */
  subscribe(channel: string, listener: BusListener): Promise<void>;
  unsubscribe(channel: string, listener: BusListener): void;
  /**
   * Calls `listener` whenever events may have been lost: this process's connection came back
   * (its channels subscribed again), or another process announced that its own did. Listeners
   * catch up from the database.
   */
  onResync(listener: () => void): void;
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
        : createRedisBus(options.redisUrl, options.channelPrefix ?? 'parley:', {
            error: (error) => app.log.warn({ err: error }, 'redis bus error'),
            up: () => app.log.info('redis bus connected'),
            down: () =>
              app.log.warn(
                'redis bus unreachable; delivering in this process only until it is back',
              ),
          });
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
    connected: true,
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
    // Nothing between processes to lose.
    onResync() {},
    async close() {
      channels.clear();
    },
  };
}

export interface RedisBusEvents {
  /** An error worth an operator's attention (the first one of each outage, failed commands). */
  error(error: Error): void;
  /** Both connections are ready again, channels subscribed. */
  up(): void;
  /** A connection was lost; events stay in this process until it is back. */
  down(): void;
}

/**
 * The bus over Redis pub/sub: one connection publishes, another holds the subscriptions (a
 * subscribed Redis connection can do nothing else). A channel is subscribed in Redis while at
 * least one listener of this process wants it.
 *
 * The bus never waits for Redis: it starts while Redis is down, and while either connection is
 * down, publishing reaches this process's listeners only and subscribing only registers the
 * listener. ioredis reconnects by itself; once both connections are back the bus subscribes every
 * wanted channel again, announces the reconnection on a channel every process hears, and calls
 * the resync listeners, so that what was committed meanwhile reaches every process's sockets.
 * Each payload is tagged with this process's origin, so its own events, delivered locally, are
 * not delivered a second time when Redis echoes them.
 */
export function createRedisBus(url: string, prefix: string, events: RedisBusEvents): Bus {
  const origin = randomBytes(9).toString('base64url');
  const resyncChannel = `${prefix}~resync`;
  // No offline queue: a command sent while disconnected fails at once instead of piling up in
  // memory for the length of the outage; what it would have carried is caught up afterwards.
  const options = { enableOfflineQueue: false, autoResubscribe: false, maxRetriesPerRequest: 1 };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);

  const channels = new Map<string, Set<BusListener>>();
  const resyncListeners: (() => void)[] = [];
  let closed = false;
  let up = false;
  let errorReported = false;
  /** Resolves when the connections go down: a subscription in flight then stops waiting. */
  let lost = latch();

  const reportError = (error: Error) => {
    if (closed || errorReported) return;
    errorReported = true;
    events.error(error);
  };
  for (const connection of [publisher, subscriber]) {
    // Reconnection attempts fail every second or two through an outage: one report is enough.
    connection.on('error', reportError);
    connection.on('ready', () => void connectionReady());
    connection.on('close', () => {
      if (closed) return;
      lost.open();
      lost = latch();
      if (!up) return;
      up = false;
      events.down();
    });
  }

  subscriber.on('message', (prefixed: string, tagged: string) => {
    if (prefixed === resyncChannel) {
      if (tagged !== origin) resync();
      return;
    }
    // Our own events were delivered when they were published.
    if (tagged.startsWith(origin)) return;
    deliver(prefixed.slice(prefix.length), tagged.slice(origin.length));
  });

  function deliver(channel: string, payload: string): void {
    const listeners = channels.get(channel);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) listener(payload);
  }

  function resync(): void {
    for (const listener of resyncListeners) listener();
  }

  const ready = () => publisher.status === 'ready' && subscriber.status === 'ready';

  let rejoining = false;
  async function connectionReady(): Promise<void> {
    if (!ready() || up || closed || rejoining) return;
    rejoining = true;
    try {
      // Channels wanted while this runs are subscribed too before the bus counts as up.
      const subscribed = new Set<string>();
      let missing = [...channels.keys()];
      do {
        await subscriber.subscribe(resyncChannel, ...missing.map((c) => prefix + c));
        for (const channel of missing) subscribed.add(channel);
        missing = [...channels.keys()].filter((channel) => !subscribed.has(channel));
      } while (missing.length > 0);
      if (!ready() || up || closed) return;
      up = true;
      const dropped = [...subscribed].filter((channel) => !channels.has(channel));
      if (dropped.length > 0) {
        subscriber.unsubscribe(...dropped.map((c) => prefix + c)).catch(reportError);
      }
      errorReported = false;
      events.up();
      await publisher.publish(resyncChannel, origin);
    } catch (error) {
      // Lost again before it was done: the next 'ready' starts over.
      reportError(error as Error);
      return;
    } finally {
      rejoining = false;
    }
    resync();
  }

  return {
    kind: 'redis',
    get connected() {
      return up && ready();
    },
    publish(channel, payload) {
      if (closed) return;
      deliver(channel, payload);
      if (!up) return;
      publisher.publish(prefix + channel, origin + payload).catch(reportError);
    },
    async subscribe(channel, listener) {
      let listeners = channels.get(channel);
      if (listeners === undefined) channels.set(channel, (listeners = new Set()));
      listeners.add(listener);
      if (!up) return;
      // Subscribing again is harmless in Redis, and waiting for it means a second listener, too,
      // resolves only once the channel is live (commands on one connection run in order).
      await Promise.race([subscriber.subscribe(prefix + channel).catch(reportError), lost.promise]);
    },
    unsubscribe(channel, listener) {
      const listeners = channels.get(channel);
      if (listeners === undefined) return;
      listeners.delete(listener);
      if (listeners.size > 0) return;
      channels.delete(channel);
      if (!closed && up) subscriber.unsubscribe(prefix + channel).catch(reportError);
    },
    onResync(listener) {
      resyncListeners.push(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      channels.clear();
      resyncListeners.length = 0;
      await Promise.allSettled([quit(publisher), quit(subscriber)]);
    },
  };
}

/** A promise and the function that resolves it. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** QUIT when connected; otherwise stop reconnecting at once. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit();
  else connection.disconnect();
}
