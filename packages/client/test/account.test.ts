import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../src/assemble';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { expectClientCode } from './helpers';
import { device, passwordOf, person, shutDown, startServer, type LiveServer } from './live';

let server: LiveServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.close();
});

const fresh = (keyStore = new MemoryKeyStore()) =>
  assemble({ transport: nodeTransport(server.baseUrl), keyStore });

const PASSPHRASE = 'orbit lantern quietly harvest marble';

describe('Account', () => {
  it('makes its keys on this device and publishes only the public ones, signed', async () => {
    const bob = await device(server, 'bob');
    const me = bob.parts.account.me!;
    const alice = await person(server, 'alice');
    const contact = await alice.lookUp('bob');
    expect(contact).toMatchObject({ userId: me.userId, username: 'bob' });
    expect(contact.identityKey).toEqual(me.identityKey);
    expect(contact.encryptionKey).toEqual(me.encryptionKey);
    // The same key store, loaded again, is the same account, still signed in.
    const again = await fresh(bob.store);
    expect(again.account.me).toEqual(me);
    expect(again.session.isOpen).toBe(true);
    await expectClientCode(
      again.account.signUp({ username: 'bob2', password: passwordOf('bob2') }),
      'ACCOUNT_MISMATCH',
    );
    await Promise.all([shutDown(bob), alice.close()]);
  });

  it('refuses to log a key store that holds one account in as another', async () => {
    const carol = await device(server, 'carol');
    await device(server, 'dave').then(shutDown);
    await expectClientCode(
      carol.parts.account.logIn({ username: 'dave', password: passwordOf('dave') }),
      'ACCOUNT_MISMATCH',
    );
    expect((await carol.parts.account.accountRules()).username).toBeDefined();
    await shutDown(carol);
  });

  it('restores on a new device from the passphrase; a wrong one leaves the device as it was', async () => {
    const erin = await fresh();
    const me = await erin.account.signUp({
      username: 'erin',
      password: passwordOf('erin'),
      passphrase: PASSPHRASE,
    });
    const other = await fresh();
    await expectClientCode(
      other.account.restore({
        username: 'erin',
        password: passwordOf('erin'),
        passphrase: 'a different but long passphrase',
      }),
      'BACKUP_DECRYPT_FAILED',
    );
    expect(other.account.me).toBeUndefined();
    expect(other.session.isOpen).toBe(false);
    const restored = await other.account.restore({
      username: 'erin',
      password: passwordOf('erin'),
      passphrase: PASSPHRASE,
    });
    expect(restored).toEqual(me);
  });

  it('logs out, and with forget erases the key store', async () => {
    const frank = await device(server, 'frank');
    await frank.parts.account.logOut({ forget: true });
    expect(frank.parts.session.isOpen).toBe(false);
    expect(frank.parts.account.me).toBeUndefined();
    expect(await frank.store.keys('')).toEqual([]);
  });
});
