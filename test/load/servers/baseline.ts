// The baseline: a bare `ws` broadcast server with Parley's frame shapes and nothing else (no
// authentication, no validation beyond JSON.parse, no storage). Whatever Parley does on top of
// relaying is measured as its distance from this server, driven by the same load generator.
// BASELINE_WRITES says how it writes: `frame` (the default) each frame as it is made, as a plain
// broadcast does; `tick` holding each socket's writes to the end of the tick (corked); `turn`
// holding every socket's frames to the end of the event loop's turn, after every socket was read,
// and writing each socket's in one write: what Parley's relay does with a commit batch, so that a
// comparison leaves out what that framing gains and measures the rest.
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { messageIdBytes } from '../layout';
import { reportFailure, serveControl } from './control';

interface Room {
  seq: number;
  sockets: Set<WebSocket>;
}

const rooms = new Map<string, Room>();
const WRITES = { frame: sendNow, tick: sendCorked, turn: sendBatched } as const;
const send = WRITES[(process.env.BASELINE_WRITES ?? 'frame') as keyof typeof WRITES];

try {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/ws',
    perMessageDeflate: false,
    maxPayload: 128 * 1024,
  });
  server.on('connection', (socket) => {
    const joined = new Set<Room>();
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; room?: string; envelope?: string };
      switch (frame.type) {
        case 'auth':
          socket.send(
            '{"type":"ready","user":{"id":"00000000000000000000000000000000","username":"baseline"}}',
          );
          return;
        case 'subscribe': {
          const room = roomOf(frame.room!);
          room.sockets.add(socket);
          joined.add(room);
          socket.send(`{"type":"subscribed","room":"${frame.room}","head":${room.seq}}`);
          return;
        }
        case 'send': {
          const room = roomOf(frame.room!);
          room.seq += 1;
          const message = `{"type":"message","room":"${frame.room}","seq":${room.seq},"envelope":"${frame.envelope}","sentAt":"${new Date().toISOString()}"}`;
          for (const member of room.sockets) send(member, message);
          send(
            socket,
            `{"type":"ack","room":"${frame.room}","messageId":"${messageIdBytes(frame.envelope!).toString('hex')}","seq":${room.seq}}`,
          );
          return;
        }
      }
    });
    socket.on('close', () => {
      for (const room of joined) room.sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  serveControl(
    (server.address() as { port: number }).port,
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
} catch (error) {
  reportFailure(error);
}

function sendNow(socket: WebSocket, frame: string): void {
  socket.send(frame);
}

const corked = new WeakSet<WebSocket>();

function sendCorked(socket: WebSocket, frame: string): void {
  const tcp = (socket as unknown as { _socket?: Socket })._socket;
  if (tcp !== undefined && !corked.has(socket)) {
    corked.add(socket);
    tcp.cork();
    process.nextTick(() => {
      corked.delete(socket);
      tcp.uncork();
    });
  }
  socket.send(frame);
}

/** Frames waiting for the end of the turn, per socket, in the order they were made. */
const waiting = new Map<WebSocket, string[]>();

function sendBatched(socket: WebSocket, frame: string): void {
  if (waiting.size === 0) setImmediate(flushBatched);
  const frames = waiting.get(socket);
  if (frames === undefined) waiting.set(socket, [frame]);
  else frames.push(frame);
}

function flushBatched(): void {
  for (const [socket, frames] of waiting) {
    const tcp = (socket as unknown as { _socket?: Socket })._socket;
    tcp?.cork();
    for (const frame of frames) socket.send(frame);
    tcp?.uncork();
  }
  waiting.clear();
}

function roomOf(id: string): Room {
  let room = rooms.get(id);
  if (room === undefined) rooms.set(id, (room = { seq: 0, sockets: new Set() }));
  return room;
}
