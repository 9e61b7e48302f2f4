/**
 * `npm run bench`: brainstem against a bare `ws` baseline doing the same exchange and fan-out, measured in
 * the same run. Scenarios:
 * - scoped: clients with `session-scoped-events`, each subscribed to its own session (sees only its runs),
 *   at each client count of `--clients` (default 1,100,1000), each client sending its next turn when its last
 *   one ended (closed loop: turns/s at saturation, where latency is queueing);
 * - paced: 100 scoped clients offering `--paced-rates` turns/s in all (default 100,250,500), for ack and final
 *   latency below saturation;
 * - broadcast: OpenClaw's default — every operator client receives every chat/agent event — at
 *   `--broadcast-clients` (default 100).
 * Each server runs in its own process; the load generator is a third process. Server CPU per turn is read
 * from /proc over the measured window. Idle connections are measured by bench/idle.ts, the RSS slope by bench/soak.ts.
 * Each scenario runs `--rounds` times (default 3), baseline and brainstem alternating so that both see the same
 * machine; every figure reported is the median over the rounds.
 * With `--seed FILE` every brainstem run starts on a copy of that database (bench/prefill.ts makes one: a
 * gateway that has served a million turns); its table goes into its own section of BENCHMARKS.md.
 * Options: --clients 1,100,1000 --paced-rates 100,250,500 --broadcast-clients 100 --duration MS --warmup MS --rounds N --seed FILE --write (into BENCHMARKS.md).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lines } from './lib/lines.js';
import { cpuMs, hostTicks, rssMb, stealPct } from './lib/proc.js';
import { machineLine, writeBenchmarks, type Row } from './lib/report.js';
import { spawnScript, startServer, TOKEN, type Mode, type Target } from './lib/servers.js';
import { median, round } from './lib/stats.js';
import { DATABASE_FILE } from '../memory/store.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,100,1000' },
    'broadcast-clients': { type: 'string', default: '100' },
    /** Offered loads of the paced latency scenarios (100 clients), in turns/s; empty skips them. */
    'paced-rates': { type: 'string', default: '100,250,500' },
    duration: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    /** A database file each brainstem run starts from (copied into its data dir). */
    seed: { type: 'string' },
    write: { type: 'boolean', default: false },
  },
});
const durationMs = Number(values.duration);
const warmupMs = Number(values.warmup);
const rounds = Number(values.rounds);
const counts = (list: string | undefined): number[] => (list ?? '').split(',').filter((s) => s !== '').map(Number);

type LoadResult = Omit<Row, 'target' | 'mode' | 'clients' | 'cpuMsPerTurn' | 'hostStealPct' | 'idleRssMb' | 'connectedRssMb' | 'loadedRssMb' | 'handshakeP50' | 'handshakeP99'>;

async function measure(target: Target, mode: Mode, clients: number, intervalMs = 0): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-bench-'));
  if (values.seed !== undefined && target === 'brainstem') copyFileSync(values.seed, join(dataDir, DATABASE_FILE));
  const server = await startServer(target, mode, dataDir);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rssMb(server.pid);
    const load = spawnScript('bench/load-client.ts', { url: server.url, token: TOKEN, clients, mode, warmupMs, durationMs, intervalMs });
    const out = new Lines(load);
    const ready = JSON.parse((await out.wait(/^ready (.*)$/, 120_000))[1] as string) as { handshakeP50: number; handshakeP99: number };
    const connectedRss = rssMb(server.pid);
    load.stdin?.write('go\n');
    await out.wait(/^window-start$/);
    const cpu0 = cpuMs(server.pid);
    const host0 = hostTicks();
    await out.wait(/^window-end$/, durationMs + 30_000);
    const cpu1 = cpuMs(server.pid);
    const host1 = hostTicks();
    const loadedRss = rssMb(server.pid);
    const result = JSON.parse((await out.wait(/^result (.*)$/))[1] as string) as LoadResult;
    return {
      target,
      mode,
      clients,
      offered: intervalMs > 0 ? Math.round((clients * 1000) / intervalMs) : undefined,
      ...ready,
      ...result,
      cpuMsPerTurn: result.turns === 0 ? Number.NaN : round((cpu1 - cpu0) / result.turns, 3),
      hostStealPct: round(stealPct(host0, host1), 1),
      idleRssMb: round(idleRss, 1),
      connectedRssMb: round(connectedRss, 1),
      loadedRssMb: round(loadedRss, 1),
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every numeric figure of the rounds as its median. */
function medianRow(samples: readonly Row[]): Row {
  const first = samples[0] as Row;
  const out: Record<string, unknown> = { ...first };
  for (const [key, value] of Object.entries(first)) {
    if (typeof value === 'number' && key !== 'offered') out[key] = round(median(samples.map((s) => s[key as keyof Row] as number)), 3);
  }
  return out as unknown as Row;
}

async function main(): Promise<void> {
  process.stdout.write(`${machineLine()}\n${warmupMs} ms warm-up, ${durationMs} ms measured per run, ${rounds} rounds (medians)\n\n`);
  const scenarios: [Mode, number, number][] = [
    ...counts(values.clients).map((n): [Mode, number, number] => ['scoped', n, 0]),
    ...counts(values['paced-rates']).map((rate): [Mode, number, number] => ['scoped', 100, Math.round((100 * 1000) / rate)]),
    ...counts(values['broadcast-clients']).map((n): [Mode, number, number] => ['broadcast', n, 0]),
  ];
  const rows: Row[] = [];
  for (const [mode, clients, intervalMs] of scenarios) {
    const samples: Record<Target, Row[]> = { baseline: [], brainstem: [] };
    for (let round = 0; round < rounds; round++) {
      for (const target of ['baseline', 'brainstem'] as const) {
        const row = await measure(target, mode, clients, intervalMs);
        samples[target].push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
    rows.push(medianRow(samples.baseline), medianRow(samples.brainstem));
  }
  const note = `Each figure is the median of ${rounds} rounds (${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up each); baseline and brainstem alternate, each server in its own process, the load generator in a third.`;
  const seeded = values.seed === undefined ? '' : ` Every brainstem run started on a copy of ${values.seed} (bench/prefill.ts).`;
  const table = writeBenchmarks(rows, { command: process.argv.slice(2).join(' '), write: values.write ?? false, note: `${note}${seeded}`, seeded: values.seed !== undefined });
  process.stdout.write(`\n${table}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
