// A member who is no admin tries to rewrite or erase what others said: an edit of someone else's
// message, a delete of it, a reaction smuggling a long text, and an edit of a message deleted
// before. Each is a genuine, signed message of a member, so only the receiving client's rules
// (message-actions.ts) stand between it and what the others see.
import type { Client } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canSendIn,
  connectedUsers,
  eventually,
  inbox,
  startServer,
  type LiveServer,
} from '../e2e/harness';

describe('message actions from a hostile member', () => {
  let server: LiveServer;
  let clients: Client[] = [];

  beforeAll(async () => {
    server = await startServer();
    clients = await connectedUsers(server, ['alice', 'bob', 'mallory']);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  it('takes effect only from the author or an admin, whatever a member sends', async () => {
    const [alice, bob, mallory] = clients as [Client, Client, Client];
    const group = await alice.createGroup({ name: 'records', members: ['bob', 'mallory'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId) && canSendIn(mallory, roomId), 10_000, 'keys');
    const atBob = inbox(bob, roomId);
    const actions = bob.messageActions(roomId);
    bob.on('message', (message) => message.roomId === roomId && actions.add(message));

    const { messageId } = await alice.send(roomId, 'the minutes, as agreed');
    await alice.acked(messageId);
    await mallory.acked((await mallory.edit(roomId, messageId, 'nothing was agreed')).messageId);
    await mallory.acked((await mallory.deleteMessage(roomId, messageId)).messageId);
    await mallory.acked((await mallory.react(roomId, messageId, 'x'.repeat(200))).messageId);
    await eventually(() => atBob.length === 4, 10_000, 'bob receives all four');
    expect(actions.get(messageId)).toMatchObject({
      text: 'the minutes, as agreed',
      edited: false,
      deletedBy: undefined,
    });
    expect(actions.get(messageId)!.reactions.size).toBe(0);

    // The admin may delete; then not even the author edits it back.
    await alice.acked((await alice.deleteMessage(roomId, messageId)).messageId);
    await alice.acked((await alice.edit(roomId, messageId, 'restored')).messageId);
    await eventually(() => atBob.length === 6, 10_000, 'bob receives the admin’s actions');
    expect(actions.get(messageId)).toMatchObject({ text: '', deletedBy: alice.me!.userId });
  });
});
