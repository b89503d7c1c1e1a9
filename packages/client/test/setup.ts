import { ready } from '@parley/crypto';

// libsodium loads once per test file's worker; the client's synchronous crypto runs after this.
await ready();
