// Parley as it runs in production (build() from @parley/server, listening on loopback), with the
// bench's control channel. Configuration comes from the environment the bench sets: DATABASE_URL
// or DATA_DIR, a JWT secret, and limits raised where the bench itself would trip them.
import { build } from '@parley/server';
import { reportFailure, serveControl } from './control';

try {
  const app = await build({
    // Accounts are set up, not measured: the cheap Argon2 parameters of the test suites let the
    // bench create a thousand of them in seconds. Nothing on the measured path hashes passwords.
    dangerouslyLowerPasswordHashingCostForTests: true,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  serveControl(address.port, () => app.close());
} catch (error) {
  reportFailure(error);
}
