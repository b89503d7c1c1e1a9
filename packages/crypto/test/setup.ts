import { ready } from '../src/index';

// libsodium loads once per test file's worker; every library call after this is synchronous.
await ready();
