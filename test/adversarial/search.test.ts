// Search is the device's alone. The server is the adversary: everything it received from the
// searching client (every request with its body, every socket frame) and everything it stored
// (every row of every table) is searched for the query terms, the device key and the sealed index,
// in raw, hex and base64 forms, while the client indexed, searched, followed an edit and a delete,
// and wrote its sealed index.
import { fromBase64Url } from '@parley/crypto';
import {
  MemoryKeyStore,
  type Client,
  type Transport,
  type WebSocketConstructor,
  type WebSocketLike,
} from '@parley/client';
import { nodeTransport } from '@parley/client/node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSendIn, eventually, newDevice, startServer, type LiveServer } from '../e2e/harness';

/** A transport that keeps a copy of everything the client sends the server. */
class RecordingTransport implements Transport {
  readonly baseUrl: string;
  readonly fetch: Transport['fetch'];
  readonly WebSocket: WebSocketConstructor;
  readonly sent: string[] = [];

  constructor(baseUrl: string) {
    const inner = nodeTransport(baseUrl);
    this.baseUrl = baseUrl;
    this.fetch = async (input, init) => {
      const body = init?.body;
      this.sent.push(
        `${init?.method ?? 'GET'} ${input}`,
        body instanceof Uint8Array ? Buffer.from(body).toString('latin1') : String(body ?? ''),
      );
      return inner.fetch(input, init);
    };
    const sent = this.sent;
    const Inner = inner.WebSocket;
    this.WebSocket = class implements WebSocketLike {
      private readonly socket: WebSocketLike;
      constructor(url: string) {
        sent.push(`WS ${url}`);
        this.socket = new Inner(url);
      }
      get readyState(): number {
        return this.socket.readyState;
      }
      send(data: string): void {
        sent.push(data);
        this.socket.send(data);
      }
      close(code?: number, reason?: string): void {
        this.socket.close(code, reason);
      }
      addEventListener(type: string, listener: (event: never) => void): void {
        this.socket.addEventListener(type as 'open', listener as () => void);
      }
    } as unknown as WebSocketConstructor;
  }
}

describe('search and the server', () => {
  let server: LiveServer;
  let network: RecordingTransport;
  let store: MemoryKeyStore;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    server = await startServer();
    network = new RecordingTransport(server.baseUrl);
    store = new MemoryKeyStore();
    alice = await newDevice(server, {
      transport: network,
      keyStore: store,
      tuning: { reconnectMs: 50, maxReconnectMs: 500, ackTimeoutMs: 2000, searchSaveDelayMs: 20 },
    });
    bob = await newDevice(server);
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    for (const client of [alice, bob]) {
      client.connect();
      await client.connected();
    }
  });

  afterAll(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  it('never receives or stores a query, the device key or the index', async () => {
    const { roomId } = await bob.createGroup({ name: 'orchard', members: ['alice'] });
    await eventually(
      () => canSendIn(alice, roomId) || alice.syncRooms().then(() => false),
      10_000,
      'alice in the group',
    );
    const { messageId } = await bob.send(roomId, 'the marmalade recipe uses seville oranges');
    await bob.send(roomId, 'keep the quince jelly for winter');
    await alice.send(roomId, 'alice remembers the damson chutney');
    await eventually(async () => (await alice.search('marmalade')).length === 1, 10_000, 'indexed');
    // Paged back too (history emits no event; the index takes it all the same).
    await alice.history(roomId, { limit: 50 });
    await bob.edit(roomId, messageId, 'the marmalade recipe uses bergamot');
    await eventually(async () => (await alice.search('bergamot')).length === 1, 10_000, 'edited');

    // Queries no message holds, so that finding them anywhere could only mean they were sent.
    const queries = ['zanzibarquery', 'quince jel', 'damson', 'bergamot', 'orchard'];
    for (const query of queries) await alice.search(query);
    await alice.search('quince', { roomId });
    await eventually(async () => (await alice.searchStats()).sealedBytes > 0, 10_000, 'sealed');

    const deviceKey = fromBase64Url(String(await store.get('search:device-key')))!;
    const sealed = String(await store.get('search:index'));
    expect(deviceKey).toHaveLength(32);
    const secrets: [string, Buffer][] = [
      ...spellings('device key', deviceKey),
      // Any stretch of the sealed index, as stored: the server never held a copy of it.
      ['sealed index (base64url)', Buffer.from(sealed.slice(100, 164))],
      ['sealed index (bytes)', Buffer.from(fromBase64Url(sealed)!.subarray(60, 108))],
      ['query term', Buffer.from('zanzibarquery')],
      ['query term', Buffer.from('quince jel')],
      ['plaintext', Buffer.from('marmalade')],
      ['plaintext', Buffer.from('bergamot')],
      ['plaintext', Buffer.from('damson chutney')],
    ];
    const traffic = Buffer.concat(network.sent.map((text) => textAndDecoded(text)));
    const database = await databaseContents(server);
    expect(network.sent.length).toBeGreaterThan(10);
    for (const [what, needle] of secrets) {
      expect(traffic.includes(needle), `${what} in what the client sent`).toBe(false);
      expect(database.includes(needle), `${what} in the database`).toBe(false);
    }
    // No route was ever asked to search for the device: the only searches are the server's own.
    expect(network.sent.filter((line) => /search/i.test(line))).toEqual([]);
  });
});

function spellings(what: string, bytes: Uint8Array): [string, Buffer][] {
  const buffer = Buffer.from(bytes);
  return [
    [`${what} (raw)`, buffer],
    [`${what} (hex)`, Buffer.from(buffer.toString('hex'))],
    [`${what} (base64)`, Buffer.from(buffer.toString('base64').replace(/=+$/, ''))],
    [`${what} (base64url)`, Buffer.from(buffer.toString('base64url'))],
  ];
}

/** Text followed by the bytes of each base64url token in it, so encoded content is seen too. */
function textAndDecoded(text: string): Buffer {
  const tokens = text.match(/[A-Za-z0-9_-]{16,}/g) ?? [];
  return Buffer.concat([
    Buffer.from(text),
    ...tokens.map((token) => Buffer.from(token, 'base64url')),
  ]);
}

/** Every row of every table: raw bytes, text, and bytes as hex and base64. */
async function databaseContents(server: LiveServer): Promise<Buffer> {
  const db = server.app.db;
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db);
  expect(tables.rows.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(['messages', 'rooms']),
  );
  const parts: Buffer[] = [];
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    for (const row of rows.rows) {
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) {
          const buffer = Buffer.from(value);
          parts.push(
            buffer,
            Buffer.from(buffer.toString('hex')),
            Buffer.from(buffer.toString('base64')),
          );
        } else parts.push(Buffer.from(JSON.stringify(value) ?? ''));
      }
    }
  }
  return Buffer.concat(parts);
}
