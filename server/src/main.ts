/**
 * `pnpm start`: builds the app from the environment, listens, and shuts down gracefully on
 * SIGTERM/SIGINT (stop accepting, let requests and sockets drain, close the database).
 */
import { build } from './app';
import { ConfigError } from './config';

const SHUTDOWN_GRACE_MS = 10_000;

try {
  const app = await build();
  const { port, host } = app.config;
  await app.listen({ port, host });
  app.log.info(
    {
      database: app.dbEngine,
      dataDir: app.config.databaseUrl === undefined ? app.config.dataDir : undefined,
    },
    'Parley server ready',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // A stuck socket or query must not keep a stopped server alive forever.
    setTimeout(() => {
      app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
}
