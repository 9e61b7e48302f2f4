/**
 * The load generator, a separate process built on raw `ws` so that it costs little next to what it measures.
 * N clients connect (handshake timed), then each sends `chat.send` in a closed loop: the next turn when its
 * own run's `chat` final arrives. Frames are not parsed unless they can matter (responses, finals of own
 * runs). Talks to the orchestrator by lines on stdout and commands on stdin.
 *
 * argv[2]: JSON {url, token, clients, mode: "broadcast"|"scoped", warmupMs, durationMs, thinkMs?}
 *   (thinkMs: pause between a final and the client's next turn; 0 = closed loop at full speed)
 *   (intervalMs: paced instead — each client sends a turn every intervalMs, or at once when the previous one ended
 *   late: an offered load of clients × 1000 / intervalMs turns/s, for latency below saturation)
 * stdout: `ready <json>` after all handshakes; `window-start` / `window-end` around the measured window;
 *         `result <json>` at the end. stdin: `go` starts the load.
 */
import { createInterface } from 'node:readline';
import type { WebSocket } from 'ws';
import { connectBenchClient } from './lib/handshake.js';
import { percentile, round } from './lib/stats.js';

interface Options {
  url: string;
  token: string;
  clients: number;
  mode: 'broadcast' | 'scoped';
  warmupMs: number;
  durationMs: number;
  thinkMs?: number;
  intervalMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const MESSAGE = 'hello brainstem, this is one benchmark turn';
const HANDSHAKE_CONCURRENCY = 50;

interface BenchClient {
  index: number;
  ws: WebSocket;
  turn: number;
  runId: string;
  sentAt: number;
  /** When the paced client's next turn is due. */
  nextDue: number;
}

const state = { measuring: false, stopped: false, turns: 0, frames: 0, framesInWindow: 0 };
const ackMs: number[] = [];
const finalMs: number[] = [];
const byRun = new Map<string, BenchClient>();

function send(client: BenchClient, frame: object): void {
  client.ws.send(JSON.stringify(frame));
}

async function handshake(index: number): Promise<{ client: BenchClient; ms: number }> {
  const started = performance.now();
  const caps = options.mode === 'scoped' ? ['session-scoped-events'] : [];
  const ws = await connectBenchClient(options.url, { token: options.token, scopes: ['operator.read', 'operator.write'], caps });
  const client: BenchClient = { index, ws, turn: 0, runId: '', sentAt: 0, nextDue: 0 };
  const ms = performance.now() - started;
  if (options.mode === 'scoped') {
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      send(client, { type: 'req', id: 's', method: 'sessions.messages.subscribe', params: { key: `bench-${index}` } });
    });
  }
  return { client, ms };
}

function nextTurn(client: BenchClient): void {
  if (state.stopped) return;
  client.turn += 1;
  client.runId = `${process.pid}-${client.index}-${client.turn}`;
  client.sentAt = performance.now();
  byRun.set(client.runId, client);
  send(client, { type: 'req', id: client.runId, method: 'chat.send', params: { sessionKey: `bench-${client.index}`, message: MESSAGE, idempotencyKey: client.runId } });
}

const RUN_ID = /"runId":"([^"]+)"/;

function onFrame(client: BenchClient, data: Buffer): void {
  state.frames += 1;
  if (state.measuring) state.framesInWindow += 1;
  const text = data.toString();
  if (text.startsWith('{"type":"res"')) {
    if (state.measuring && text.includes(`"id":"${client.runId}"`)) ackMs.push(performance.now() - client.sentAt);
    return;
  }
  if (!text.includes('"state":"final"')) return;
  const runId = RUN_ID.exec(text)?.[1];
  const owner = runId === undefined ? undefined : byRun.get(runId);
  if (owner === undefined || owner.runId !== runId) return;
  byRun.delete(runId);
  if (state.measuring) {
    finalMs.push(performance.now() - owner.sentAt);
    state.turns += 1;
  }
  const interval = options.intervalMs ?? 0;
  if (interval > 0) {
    owner.nextDue += interval;
    setTimeout(() => nextTurn(owner), Math.max(0, owner.nextDue - performance.now()));
    return;
  }
  const think = options.thinkMs ?? 0;
  if (think > 0) setTimeout(() => nextTurn(owner), think);
  else nextTurn(owner);
}

async function main(): Promise<void> {
  const clients: BenchClient[] = [];
  const handshakeMs: number[] = [];
  for (let i = 0; i < options.clients; i += HANDSHAKE_CONCURRENCY) {
    const batch = await Promise.all(Array.from({ length: Math.min(HANDSHAKE_CONCURRENCY, options.clients - i) }, (_, j) => handshake(i + j)));
    for (const { client, ms } of batch) {
      clients.push(client);
      handshakeMs.push(ms);
      client.ws.on('message', (data: Buffer) => onFrame(client, data));
    }
  }
  process.stdout.write(`ready ${JSON.stringify({ handshakeP50: round(percentile(handshakeMs, 50)), handshakeP99: round(percentile(handshakeMs, 99)) })}\n`);
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const start = performance.now();
  const interval = options.intervalMs ?? 0;
  clients.forEach((client, i) => {
    // Paced clients start spread over one interval, so the offered load is even.
    client.nextDue = start + (interval * i) / clients.length;
    if (interval > 0) setTimeout(() => nextTurn(client), client.nextDue - start);
    else nextTurn(client);
  });
  await new Promise((r) => setTimeout(r, options.warmupMs));
  const cpuStart = process.cpuUsage();
  state.measuring = true;
  process.stdout.write('window-start\n');
  const windowStart = performance.now();
  await new Promise((r) => setTimeout(r, options.durationMs));
  state.measuring = false;
  const elapsed = performance.now() - windowStart;
  process.stdout.write('window-end\n');
  const cpu = process.cpuUsage(cpuStart);
  state.stopped = true;
  const result = {
    turns: state.turns,
    turnsPerSec: round((state.turns * 1000) / elapsed, 1),
    framesPerTurn: state.turns === 0 ? 0 : round(state.framesInWindow / state.turns, 1),
    ackP50: round(percentile(ackMs, 50)),
    ackP99: round(percentile(ackMs, 99)),
    finalP50: round(percentile(finalMs, 50)),
    finalP99: round(percentile(finalMs, 99)),
    generatorCpuPct: round(((cpu.user + cpu.system) / 1000 / elapsed) * 100, 1),
    windowMs: round(elapsed, 0),
  };
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  await new Promise((r) => setTimeout(r, 200));
  for (const client of clients) client.ws.terminate();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`load-client failed: ${String(err)}\n`);
  process.exit(1);
});
