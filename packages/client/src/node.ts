// @parley/client/node: the parts that need Node: the file key store and a transport on `ws`
// (Node 20 has no global WebSocket).
import WebSocket from 'ws';
import type { Transport, WebSocketConstructor } from './options';

export { FileKeyStore } from './key-store/file';

/** fetch and a `ws` WebSocket for `baseUrl`. Non-browser clients send no Origin header. */
export function nodeTransport(baseUrl: string): Transport {
  return {
    baseUrl,
    fetch: (input, init) => globalThis.fetch(input, init),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  };
}
