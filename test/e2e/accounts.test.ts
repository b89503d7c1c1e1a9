// Accounts end to end: what a passphrase must be, sign-up and restore, changing the passphrase,
// logging out, and trust on first use through the real directory.
import { isClientError, MemoryKeyStore, type Client } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failures, newDevice, startServer, type LiveServer } from './harness';

describe('accounts', () => {
  let server: LiveServer;
  const clients: Client[] = [];
  const device = async (): Promise<Client> => {
    const client = await newDevice(server);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  it('refuses a weak passphrase, or the password as passphrase, before registering anything', async () => {
    const client = await device();
    await expect(
      client.signUp({ username: 'erin', password: 'erin-password-1234', passphrase: 'password1' }),
    ).rejects.toMatchObject({ code: 'PASSPHRASE_TOO_WEAK' });
    await expect(
      client.signUp({
        username: 'erin',
        password: 'tangerine volcano whisper 2024',
        passphrase: 'tangerine volcano whisper 2024',
      }),
    ).rejects.toMatchObject({ code: 'PASSPHRASE_IS_PASSWORD' });
    expect(client.me).toBeUndefined();
    // Nothing was registered: the name is still free.
    const me = await client.signUp({ username: 'erin', password: 'erin-password-1234' });
    expect(me.username).toBe('erin');
    expect(client.checkPassphrase('correct horse battery staple 1987 maple').acceptable).toBe(true);
  });

  it('changes the passphrase: the new one restores on a new device', async () => {
    const phone = await device();
    await phone.signUp({
      username: 'frank',
      password: 'frank-password-1234',
      passphrase: 'first orange pelican drifts 58 times',
    });
    await phone.changePassphrase(
      'first orange pelican drifts 58 times',
      'second quiet walrus sings 71 songs',
    );
    const laptop = await device();
    const me = await laptop.restore({
      username: 'frank',
      password: 'frank-password-1234',
      passphrase: 'second quiet walrus sings 71 songs',
    });
    expect(me.fingerprint).toBe(phone.me!.fingerprint);
  });

  it('carries a contact verified after the backup to a restored device, with no room shared', async () => {
    const phone = await device();
    const victor = await device();
    await victor.signUp({ username: 'victor', password: 'victor-password-1234' });
    await phone.signUp({
      username: 'wendy',
      password: 'wendy-password-1234',
      passphrase: 'amber lanterns float over 12 rivers',
    });
    // Verified after the backup was made: the backup is sealed again, with no passphrase asked.
    const contact = await phone.lookUp('victor');
    await victor.lookUp('wendy');
    await phone.verifyContact(contact.userId, victor.safetyNumber(phone.me!.userId).qrPayload);
    const laptop = await device();
    await laptop.restore({
      username: 'wendy',
      password: 'wendy-password-1234',
      passphrase: 'amber lanterns float over 12 rivers',
    });
    expect(laptop.contact(contact.userId)).toMatchObject({ username: 'victor', verified: true });
  });

  it('pins a contact on first use and gives both sides the same safety number', async () => {
    const grace = await device();
    const heidi = await device();
    await grace.signUp({ username: 'grace', password: 'grace-password-1234' });
    await heidi.signUp({ username: 'heidi', password: 'heidi-password-1234' });
    const seen = failures(grace);
    const contact = await grace.lookUp('heidi');
    expect(contact.identityKey).toEqual(heidi.me!.identityKey);
    expect((await grace.lookUpById(heidi.me!.userId)).userId).toBe(contact.userId);
    await heidi.lookUp('grace');
    expect(grace.safetyNumber(heidi.me!.userId).digits).toBe(
      heidi.safetyNumber(grace.me!.userId).digits,
    );
    const found = await grace.searchPeople('hei');
    expect(found.map((person) => person.username)).toContain('heidi');
    expect(seen).toEqual([]);
  });

  it('logs out: the session ends on the server', async () => {
    const ivan = await device();
    await ivan.signUp({ username: 'ivan', password: 'ivan-password-1234' });
    await ivan.logOut();
    expect(ivan.isLoggedIn).toBe(false);
    const error = await ivan.lookUp('ivan').catch((thrown: unknown) => thrown);
    expect(isClientError(error, 'NOT_SIGNED_IN')).toBe(true);
    await ivan.logIn({ username: 'ivan', password: 'ivan-password-1234' });
    expect((await ivan.lookUp('ivan')).userId).toBe(ivan.me!.userId);
  });

  it('is signed out, and stops reconnecting, when another device logs out everywhere', async () => {
    const phone = await device();
    await phone.signUp({
      username: 'jade',
      password: 'jade-password-1234',
      passphrase: 'purple otters juggle 44 lanterns',
    });
    const laptop = await device();
    await laptop.restore({
      username: 'jade',
      password: 'jade-password-1234',
      passphrase: 'purple otters juggle 44 lanterns',
    });
    const states: string[] = [];
    phone.on('connection', (event) => states.push(event.state));
    const signedOut = phone.next('signed-out');
    phone.connect();
    await phone.connected();
    await laptop.logOutEverywhere();
    const told = await Promise.race([
      signedOut,
      new Promise((resolve) => setTimeout(() => resolve('not told'), 5000)),
    ]);
    expect(told).toEqual({ reason: 'SESSION_REVOKED' });
    expect(phone.isLoggedIn).toBe(false);
    // Well past the reconnect back-off (50 ms to 500 ms): no attempt was made.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(states).toEqual(['connecting', 'open', 'closed']);
  });
});

describe('sessions', () => {
  let server: LiveServer;
  afterAll(async () => server.close());

  it('refreshes an expired access token, for REST calls and for the WebSocket', async () => {
    // One-second access tokens: every call below runs on a refreshed one.
    server = await startServer({ accessTokenTtlSeconds: 1 });
    const keyStore = new MemoryKeyStore();
    const joan = await newDevice(server, { keyStore });
    const kim = await newDevice(server);
    await joan.signUp({ username: 'joan', password: 'joan-password-1234' });
    await kim.signUp({ username: 'kim', password: 'kim-password-1234' });
    const first = (await keyStore.get('session')) as { accessToken: string };
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await joan.lookUp('kim')).username).toBe('kim');
    const second = (await keyStore.get('session')) as { accessToken: string };
    expect(second.accessToken).not.toBe(first.accessToken);

    const room = await joan.createGroup({ name: 'short tokens', members: ['kim'] });
    joan.connect();
    await joan.connected();
    kim.connect();
    await kim.connected();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Whatever the server does with a socket whose token expired, messages keep flowing.
    const seq = await joan.acked((await joan.send(room.roomId, 'still here')).messageId);
    expect(seq).toBeGreaterThan(0);
    await Promise.all([joan.close(), kim.close()]);
  });
});
