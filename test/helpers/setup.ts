/** Global test setup: openclaw-node needs a global WebSocket on Node 20 (protocol-openclaw.md §8a). */
import { WebSocket } from 'ws';

if (globalThis.WebSocket === undefined) {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}
