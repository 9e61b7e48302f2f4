/**
 * `npm run bench:large` (`npx tsx bench/large.ts [--sizes text:100000,text:1000000,text:4000000,image:5000000]
 * [--turns 5] [--rounds 3] [--write]`): what one large message costs, and what the other clients feel while the
 * gateway works on it. A sender sends turns of each size one after another in its own session (a text of log
 * lines, echoed back whole by the local provider; or a PNG attachment with a short text); a second client, in its
 * own process, sends `health` every 5 ms. Per size: the time to the final, the longest `health` round trip
 * during each turn (the event loop's longest stall, as another client sees it), and the server's CPU per turn.
 * Beside them the bare `ws` baseline doing the same exchange: brainstem's local model echoes the message as the
 * session's context holds it (over 32 KB: a 32 KB summary), the baseline echoes its first 32 KB; it ignores the
 * image. Each figure is the median over the turns of all rounds; baseline and brainstem alternate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lines } from './lib/lines.js';
import { cpuMs } from './lib/proc.js';
import { stamp, writeSection } from './lib/report.js';
import { spawnScript, startServer, TOKEN, type Target } from './lib/servers.js';
import { median, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'text:100000,text:1000000,text:4000000,image:5000000' },
    turns: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
});
const sizes = (values.sizes ?? '').split(',').filter((s) => s !== '');
const turns = Number(values.turns);
const rounds = Number(values.rounds);
const PING_MS = 5;

interface Sample {
  finalMs: number[];
  stallMs: number[];
  cpuMsPerTurn: number[];
}

type Samples = Map<string, Sample>;

async function measure(target: Target, into: Samples): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-large-'));
  const server = await startServer(target, 'scoped', dataDir);
  const pinger = spawnScript('bench/large-client.ts', { url: server.url, token: TOKEN, role: 'pinger', intervalMs: PING_MS });
  const sender = spawnScript('bench/large-client.ts', { url: server.url, token: TOKEN, role: 'sender', sizes, turns });
  try {
    const pings = new Lines(pinger);
    await pings.wait(/^ready$/);
    const out = new Lines(sender);
    for (const size of sizes) {
      await out.wait(new RegExp(`^size ${size}$`), 600_000);
      const cpu0 = cpuMs(server.pid);
      sender.stdin?.write('go\n');
      const measured = await turnsOf(out, size);
      const cpu1 = cpuMs(server.pid);
      await new Promise((r) => setTimeout(r, 2 * PING_MS));
      const rtts = pings.all().flatMap((line) => {
        const m = /^rtt (\S+) (\S+)$/.exec(line);
        return m === null ? [] : [{ sent: Number(m[1]), rtt: Number(m[2]) }];
      });
      const sample = into.get(size) ?? { finalMs: [], stallMs: [], cpuMsPerTurn: [] };
      for (const { start, end } of measured) {
        sample.finalMs.push(end - start);
        // The longest wait of a ping answered during the turn or sent during it.
        const during = rtts.filter(({ sent, rtt }) => sent + rtt >= start && sent <= end).map(({ rtt }) => rtt);
        sample.stallMs.push(Math.max(0, ...during));
      }
      sample.cpuMsPerTurn.push((cpu1 - cpu0) / measured.length);
      into.set(size, sample);
    }
    await out.wait(/^done$/);
  } finally {
    pinger.stdin?.write('exit\n');
    sender.kill();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The turns the sender timed for `size` (the lines between its `size` and `size-end` lines). */
async function turnsOf(out: Lines, size: string): Promise<{ start: number; end: number }[]> {
  await out.wait(new RegExp(`^size-end ${size}$`), 600_000);
  const lines = out.all();
  const from = lines.indexOf(`size ${size}`);
  const to = lines.indexOf(`size-end ${size}`, from);
  return lines.slice(from + 1, to).flatMap((line) => {
    const m = /^turn (\S+) (\S+)$/.exec(line);
    return m === null ? [] : [{ start: Number(m[1]), end: Number(m[2]) }];
  });
}

function label(size: string): string {
  const [kind, bytes] = size.split(':') as [string, string];
  const n = Number(bytes);
  const human = n >= 1e6 ? `${round(n / 1e6, 1)} MB` : `${round(n / 1e3, 0)} KB`;
  return kind === 'image' ? `${human} image` : `${human} text`;
}

async function main(): Promise<void> {
  const samples: Record<Target, Samples> = { baseline: new Map(), brainstem: new Map() };
  for (let r = 0; r < rounds; r++) {
    for (const target of ['baseline', 'brainstem'] as const) {
      await measure(target, samples[target]);
      process.stdout.write(`round ${r + 1} ${target} done\n`);
    }
  }
  const rows = ['| message | metric | bare ws baseline | brainstem | brainstem / baseline |', '|---|---|---:|---:|---:|'];
  for (const size of sizes) {
    const base = samples.baseline.get(size);
    const ours = samples.brainstem.get(size);
    if (base === undefined || ours === undefined) continue;
    for (const [key, name] of [['finalMs', 'time to final (ms)'], ['stallMs', "longest wait of another client's `health` (ms)"], ['cpuMsPerTurn', 'server CPU per turn (ms)']] as const) {
      const a = round(median(base[key]), 1);
      const b = round(median(ours[key]), 1);
      rows.push(`| ${label(size)} | ${name} | ${a} | ${b} | ${a === 0 ? '–' : `${round(b / a, 2)}×`} |`);
    }
  }
  const note = `Medians over ${turns} turns per size in each of ${rounds} rounds (CPU: over the rounds' per-turn averages); \`health\` sent every ${PING_MS} ms by a second client in its own process. Text is log lines; a message over 32 KB is echoed as the context holds it, a 32 KB summary (the baseline: its first 32 KB). The image is a PNG with a short question, which brainstem checks and stores and the baseline does not look at.`;
  const body = [stamp(`npm run bench:large -- ${process.argv.slice(2).join(' ')}`.trim()), '', note, '', ...rows].join('\n');
  process.stdout.write(`\n${body}\n`);
  if (values.write) writeSection('large', 'Large messages', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`large bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
