import type { Socket } from 'node:net';
import { toBase64Url } from '@parley/crypto';
import { CloseCode } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { createTestApp } from './helpers';
import { createPerson, groupWith, listen, sendOver, TestSocket } from './rooms-fixtures';

describe('a slow consumer', () => {
  let app: ParleyApp;
  let url: string;
  beforeAll(async () => {
    app = await createTestApp({ config: { limits: { wsSendBufferBytes: 64 * 1024 } } });
    url = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('is closed with 4008 when its buffer overflows, and resumes later without loss', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const a = await TestSocket.authenticated(url, alice);
    const b = await TestSocket.authenticated(url, bob);
    b.send({ type: 'subscribe', room: room.id });
    await b.next((f) => f.type === 'subscribed');

    // Bob stops reading: the kernel's buffers fill, then the server's send buffer grows.
    const tcp = (b.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const text = 'x'.repeat(30_000);
    let sent = 0;
    while (app.realtime.hub.socketsOf(bob.id) > 0) {
      if (sent >= 3000) throw new Error('the slow consumer was never closed');
      const burst = [];
      for (let i = 0; i < 20; i++) burst.push(room.message(alice, text));
      for (const message of burst)
        a.send({ type: 'send', room: room.id, envelope: toBase64Url(message.envelope) });
      sent += burst.length;
      await a.count((f) => f.type === 'ack', sent, 20_000);
    }
    // A consumer that slow takes a while to read what was queued before the close frame: the
    // server waits for it rather than cut it off, so the code reaches it.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    tcp.resume();
    expect(await b.closed).toEqual({
      code: CloseCode.SLOW_CONSUMER,
      reason: 'too far behind; reconnect and resume',
    });
    const before = b.frames.filter((f) => f.type === 'message').map((f) => f.seq as number);
    expect(before.length).toBeLessThan(sent);
    expect(before).toEqual(before.map((_, i) => i + 1));

    // Resuming from the last sequence number seen delivers the rest, exactly once.
    const again = await TestSocket.authenticated(url, bob);
    const last = before.at(-1) ?? 0;
    again.send({ type: 'subscribe', room: room.id, after: last });
    const rest = await again.count((f) => f.type === 'message', sent - last, 20_000);
    expect([...before, ...rest.map((f) => f.seq as number)]).toEqual(
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    a.close();
    again.close();
  });
});

describe('shutdown', () => {
  it('closes every socket with 1001 and commits what was acknowledged', async () => {
    const app = await createTestApp();
    const url = await listen(app);
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    const a = await TestSocket.authenticated(url, alice);
    const b = await TestSocket.authenticated(url, bob);
    const ack = await sendOver(a, room.id, room.message(alice, 'before shutdown'));
    expect(ack.type).toBe('ack');
    await app.close();
    expect(await a.closed).toEqual({ code: CloseCode.GOING_AWAY, reason: 'server shutting down' });
    expect((await b.closed).code).toBe(CloseCode.GOING_AWAY);
  });
});
