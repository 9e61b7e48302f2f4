/**
 * Opens N WebSocket connections, completes the handshake on each, then holds them idle (answering pings)
 * until told to exit on stdin. argv[2]: JSON {url, token, clients}. stdout: `ready <json>`.
 */
import { createInterface } from 'node:readline';
import type { WebSocket } from 'ws';
import { connectBenchClient } from './lib/handshake.js';
import { percentile, round } from './lib/stats.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { url: string; token: string; clients: number };
const BATCH = 100;
const sockets: WebSocket[] = [];

async function open(): Promise<number> {
  const started = performance.now();
  sockets.push(await connectBenchClient(options.url, { token: options.token, scopes: [] }));
  return performance.now() - started;
}

async function main(): Promise<void> {
  const handshakeMs: number[] = [];
  for (let i = 0; i < options.clients; i += BATCH) {
    handshakeMs.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, options.clients - i) }, open))));
  }
  process.stdout.write(`ready ${JSON.stringify({ connections: sockets.length, handshakeP50: round(percentile(handshakeMs, 50)), handshakeP99: round(percentile(handshakeMs, 99)) })}\n`);
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`idle-client failed: ${String(err)}\n`);
  process.exit(1);
});
