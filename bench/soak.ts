/**
 * `npm run soak` (`npx tsx bench/soak.ts [--minutes 10] [--clients 50] [--think 250] [--write]`): a steady load
 * (each client sends its next turn `--think` ms after its previous final) for `--minutes` against brainstem and
 * against the bare `ws` baseline, sampling the server's RSS every 5 s. Reports the RSS slope in MB/min over the
 * run after the first minute (least squares), beside the baseline's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lines } from './lib/lines.js';
import { rssMb } from './lib/proc.js';
import { stamp, writeSection } from './lib/report.js';
import { spawnScript, startServer, TOKEN, type Target } from './lib/servers.js';
import { round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    think: { type: 'string', default: '250' },
    write: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const clients = Number(values.clients);
const thinkMs = Number(values.think);
const SAMPLE_MS = 5_000;
const SKIP_MS = 60_000;

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return num / den;
}

async function soak(target: Target): Promise<{ target: Target; turns: number; startRss: number; endRss: number; slopeMbPerMin: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-soak-'));
  const server = await startServer(target, 'scoped', dataDir);
  try {
    const durationMs = minutes * 60_000;
    const load = spawnScript('bench/load-client.ts', { url: server.url, token: TOKEN, clients, mode: 'scoped', warmupMs: 0, durationMs, thinkMs });
    const out = new Lines(load);
    await out.wait(/^ready/, 120_000);
    load.stdin?.write('go\n');
    await out.wait(/^window-start$/);
    const started = Date.now();
    const samples: [number, number][] = [];
    const timer = setInterval(() => samples.push([(Date.now() - started) / 60_000, rssMb(server.pid)]), SAMPLE_MS);
    await out.wait(/^window-end$/, durationMs + 60_000);
    clearInterval(timer);
    const result = JSON.parse((await out.wait(/^result (.*)$/))[1] as string) as { turns: number };
    const steady = samples.filter(([minute]) => minute * 60_000 >= SKIP_MS);
    return {
      target,
      turns: result.turns,
      startRss: round(samples[0]?.[1] ?? Number.NaN, 1),
      endRss: round(samples.at(-1)?.[1] ?? Number.NaN, 1),
      slopeMbPerMin: round(slope(steady), 3),
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows = [await soak('baseline'), await soak('brainstem')];
  const body = [
    stamp(`npm run soak -- --minutes ${minutes} --clients ${clients} --think ${thinkMs}`),
    '',
    `**${minutes}-minute soak**, ${clients} session-scoped clients, ${thinkMs} ms between a final and the next turn; RSS sampled every ${SAMPLE_MS / 1000} s, slope after the first minute`,
    '',
    '| | turns | RSS at start (MB) | RSS at end (MB) | RSS slope (MB/min) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.target === 'baseline' ? 'bare ws baseline' : 'brainstem'} | ${r.turns} | ${r.startRss} | ${r.endRss} | ${r.slopeMbPerMin} |`),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.write) writeSection('soak', 'Soak', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
