/**
 * The two clients of bench/large.ts, each in its own process so that neither's work delays the other's
 * measurements. Built on raw `ws`, connected with `session-scoped-events`.
 *
 * argv[2]: JSON {url, token, role: "pinger"|"sender", ...}
 * - pinger {intervalMs}: sends `health` every intervalMs and prints `rtt <sent, epoch ms> <round trip ms>` for
 *   each answer: how long another client waits while the gateway works on a large message.
 * - sender {sizes: string[], turns, warmup}: for each size (`text:<bytes>` or `image:<bytes>`), prints `size <size>`,
 *   waits for a line on stdin, then sends `turns` turns of that size one after another in its own session, each
 *   when the last one's final arrived, printing `turn <start, epoch ms> <end, epoch ms>` for each, then
 *   `size-end <size>`. `warmup` turns of each size (default 3) go first, unmeasured: the tokenizer's first load and
 *   code not yet optimized would otherwise count in the first size's figures.
 */
import { createInterface } from 'node:readline';
import type { WebSocket } from 'ws';
import { connectBenchClient } from './lib/handshake.js';

interface Options {
  url: string;
  token: string;
  role: 'pinger' | 'sender';
  intervalMs?: number;
  sizes?: string[];
  turns?: number;
  warmup?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const SESSION = 'large';
const stdin = createInterface({ input: process.stdin });
const nextLine = (): Promise<string> => new Promise((resolve) => stdin.once('line', resolve));
const epochNow = (): number => performance.timeOrigin + performance.now();

function connect(): Promise<WebSocket> {
  return connectBenchClient(options.url, { token: options.token, scopes: ['operator.read', 'operator.write'], caps: ['session-scoped-events'], maxPayload: 256 * 2 ** 20 });
}

async function pinger(ws: WebSocket): Promise<void> {
  const sent = new Map<string, number>();
  ws.on('message', (data: Buffer) => {
    const id = /"id":"(h\d+)"/.exec(data.toString())?.[1];
    const at = id === undefined ? undefined : sent.get(id);
    if (id === undefined || at === undefined) return;
    sent.delete(id);
    process.stdout.write(`rtt ${at.toFixed(1)} ${(epochNow() - at).toFixed(2)}\n`);
  });
  let n = 0;
  setInterval(() => {
    const id = `h${n++}`;
    sent.set(id, epochNow());
    ws.send(`{"type":"req","id":"${id}","method":"health"}`);
  }, options.intervalMs ?? 5);
  process.stdout.write('ready\n');
  await nextLine();
  process.exit(0);
}

/** A realistic paste: log lines, with text of `bytes` bytes. */
function textOf(bytes: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `2026-11-22T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} finished job ${i} in ${(i * 37) % 1000} ms`;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n').slice(0, bytes);
}

/** A PNG of `bytes` bytes (its signature, then filler): brainstem checks the first bytes, the size and the base64. */
function imageOf(bytes: number): string {
  const png = Buffer.alloc(bytes, 0x5a);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  return png.toString('base64');
}

function frameOf(size: string, id: string): string {
  const [kind, bytes] = size.split(':') as [string, string];
  const params =
    kind === 'image'
      ? { sessionKey: SESSION, message: 'what is in this image?', idempotencyKey: id, attachments: [{ type: 'image', mimeType: 'image/png', content: imageOf(Number(bytes)) }] }
      : { sessionKey: SESSION, message: textOf(Number(bytes)), idempotencyKey: id };
  return JSON.stringify({ type: 'req', id, method: 'chat.send', params });
}

async function sender(ws: WebSocket): Promise<void> {
  let waiting: { runId: string; done: () => void } | undefined;
  ws.on('message', (data: Buffer) => {
    if (waiting === undefined) return;
    const text = data.toString('latin1', 0, Math.min(data.length, 4_096));
    if (text.startsWith('{"type":"res"') && text.includes('"ok":false')) throw new Error(`refused: ${data.toString().slice(0, 300)}`);
    if (text.includes('"state":"final"') && text.includes(`"runId":"${waiting.runId}"`)) waiting.done();
  });
  await new Promise<void>((resolve) => {
    ws.once('message', () => resolve());
    ws.send(JSON.stringify({ type: 'req', id: 's', method: 'sessions.messages.subscribe', params: { key: SESSION } }));
  });
  const turn = async (frame: string, runId: string): Promise<void> => {
    const final = new Promise<void>((resolve) => (waiting = { runId, done: resolve }));
    ws.send(frame);
    await final;
  };
  let n = 0;
  for (const size of options.sizes ?? []) {
    for (let i = 0; i < (options.warmup ?? 3); i++) {
      const warmId = `${process.pid}-${n++}`;
      await turn(frameOf(size, warmId), warmId);
    }
    const frames = Array.from({ length: options.turns ?? 5 }, () => {
      const id = `${process.pid}-${n++}`;
      return { id, frame: frameOf(size, id) };
    });
    process.stdout.write(`size ${size}\n`);
    await nextLine();
    for (const { id, frame } of frames) {
      const start = epochNow();
      await turn(frame, id);
      process.stdout.write(`turn ${start.toFixed(1)} ${epochNow().toFixed(1)}\n`);
      // A pause between turns, so that each turn's stall is seen on its own.
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(`size-end ${size}\n`);
  }
  process.stdout.write('done\n');
  process.exit(0);
}

async function main(): Promise<void> {
  const ws = await connect();
  await (options.role === 'pinger' ? pinger(ws) : sender(ws));
}

main().catch((err: unknown) => {
  process.stderr.write(`large-client failed: ${String(err)}\n`);
  process.exit(1);
});
