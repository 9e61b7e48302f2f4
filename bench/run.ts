/**
 * `npm run bench`: brainstem against a bare `ws` baseline doing the same exchange and fan-out, measured in
 * the same run, per mode:
 * - scoped: clients with `session-scoped-events`, each subscribed to its own session (sees only its runs);
 * - broadcast: OpenClaw's default — every operator client receives every chat/agent event.
 * Each server runs in its own process; the load generator is a third process. Server CPU per turn is read
 * from /proc over the measured window. Options: --clients N --duration MS --warmup MS --modes a,b --write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lines } from './lib/lines.js';
import { cpuMs, rssMb } from './lib/proc.js';
import { round } from './lib/stats.js';
import { machineLine, writeBenchmarks, type Row } from './lib/report.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-token';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    duration: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '2000' },
    modes: { type: 'string', default: 'scoped,broadcast' },
    write: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const durationMs = Number(values.duration);
const warmupMs = Number(values.warmup);
const modes = (values.modes ?? '').split(',') as ('scoped' | 'broadcast')[];

function startServer(target: 'brainstem' | 'baseline', mode: string, dataDir: string): ChildProcess {
  const args =
    target === 'brainstem'
      ? ['dist/server/cli.js', '--port', '0', '--data-dir', dataDir, '--token', TOKEN, '--log-level', 'warn']
      : ['--import', 'tsx', 'bench/baseline-server.ts', mode];
  return spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function measure(target: 'brainstem' | 'baseline', mode: 'scoped' | 'broadcast'): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-bench-'));
  const server = startServer(target, mode, dataDir);
  try {
    const serverOut = new Lines(server);
    const url = (await serverOut.wait(/listening on (ws:\/\/\S+)/))[1] as string;
    const pid = server.pid as number;
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rssMb(pid);
    const load = spawn(process.execPath, ['--import', 'tsx', 'bench/load-client.ts', JSON.stringify({ url, token: TOKEN, clients, mode, warmupMs, durationMs })], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out = new Lines(load);
    const ready = JSON.parse((await out.wait(/^ready (.*)$/))[1] as string) as { handshakeP50: number; handshakeP99: number };
    const connectedRss = rssMb(pid);
    load.stdin?.write('go\n');
    await out.wait(/^window-start$/);
    const cpu0 = cpuMs(pid);
    await out.wait(/^window-end$/, durationMs + 30_000);
    const cpu1 = cpuMs(pid);
    const loadedRss = rssMb(pid);
    const result = JSON.parse((await out.wait(/^result (.*)$/))[1] as string) as Omit<Row, 'target' | 'mode' | 'clients' | 'cpuMsPerTurn' | 'idleRssMb' | 'connectedRssMb' | 'loadedRssMb' | 'handshakeP50' | 'handshakeP99'>;
    return {
      target,
      mode,
      clients,
      ...ready,
      ...result,
      cpuMsPerTurn: result.turns === 0 ? Number.NaN : round((cpu1 - cpu0) / result.turns, 3),
      idleRssMb: round(idleRss, 1),
      connectedRssMb: round(connectedRss, 1),
      loadedRssMb: round(loadedRss, 1),
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${machineLine()}\n${clients} clients, ${warmupMs} ms warm-up, ${durationMs} ms measured per run\n\n`);
  const rows: Row[] = [];
  for (const mode of modes) {
    for (const target of ['baseline', 'brainstem'] as const) {
      const row = await measure(target, mode);
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  }
  const table = writeBenchmarks(rows, { clients, durationMs, warmupMs, write: values.write ?? false });
  process.stdout.write(`\n${table}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
