/**
 * `npx tsx bench/idle.ts [--clients 10000] [--write]`: memory of idle connections. For brainstem and the
 * bare `ws` baseline: RSS 1 s after start and once idle, RSS with N handshaken idle connections (3 s after the
 * last handshake and once idle), and the difference per connection, in KB; and the server's CPU time per
 * handshake while they connect (100 at a time). Clients connect with no scopes, so no events are sent to them.
 *
 * "Once idle" is IDLE_MS later: start-up (module loading, schema compilation) grows V8's young generation to
 * its full size, and V8's memory reducer gives it back only after the process has been idle for several
 * seconds (measured: brainstem 90 MB 5 s after start, 75 MB from 10 s on). After the connections' handshakes
 * the reducer's moment varies more (seen anywhere from 15 to 50 s, ~30 MB at 10,000 connections, for both
 * servers), so the idle figure with connections is the lowest reading within CONNECTED_IDLE_MS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Lines } from './lib/lines.js';
import { cpuMs, rssMb } from './lib/proc.js';
import { stamp, writeSection } from './lib/report.js';
import { spawnScript, startServer, TOKEN, type Target } from './lib/servers.js';
import { round } from './lib/stats.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '10000' }, write: { type: 'boolean', default: false } } });
const clients = Number(values.clients);
const SETTLE_MS = 3_000;
const IDLE_MS = 20_000;
const CONNECTED_IDLE_MS = 60_000;

interface IdleRow {
  target: Target;
  startRssMb: number;
  idleRssMb: number;
  connectedRssMb: number;
  connectedIdleRssMb: number;
  kbPerConnection: number;
  handshakeP50: number;
  handshakeP99: number;
  cpuUsPerHandshake: number;
}

async function measure(target: Target): Promise<IdleRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-idle-'));
  const server = await startServer(target, 'scoped', dataDir);
  try {
    await sleep(1_000);
    const start = rssMb(server.pid);
    await sleep(IDLE_MS - 1_000);
    const idle = rssMb(server.pid);
    const cpuBefore = cpuMs(server.pid);
    const load = spawnScript('bench/idle-client.ts', { url: server.url, token: TOKEN, clients });
    const ready = JSON.parse((await new Lines(load).wait(/^ready (.*)$/, 300_000))[1] as string) as { handshakeP50: number; handshakeP99: number };
    const cpuUsPerHandshake = round(((cpuMs(server.pid) - cpuBefore) * 1000) / clients, 0);
    await sleep(SETTLE_MS);
    const connected = rssMb(server.pid);
    let connectedIdle = connected;
    for (let waited = SETTLE_MS; waited < CONNECTED_IDLE_MS; waited += 1_000) {
      await sleep(1_000);
      connectedIdle = Math.min(connectedIdle, rssMb(server.pid));
    }
    load.stdin?.write('exit\n');
    await new Promise((r) => load.once('exit', r));
    return {
      target,
      startRssMb: round(start, 1),
      idleRssMb: round(idle, 1),
      connectedRssMb: round(connected, 1),
      connectedIdleRssMb: round(connectedIdle, 1),
      kbPerConnection: round(((connectedIdle - idle) * 1024) / clients, 1),
      ...ready,
      cpuUsPerHandshake,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows = [await measure('baseline'), await measure('brainstem')];
  const [base, ours] = rows as [IdleRow, IdleRow];
  const line = (label: string, key: keyof IdleRow): string => `| ${label} | ${base[key]} | ${ours[key]} | ${round(Number(ours[key]) / Number(base[key]), 2)}× |`;
  const body = [
    stamp(`npx tsx bench/idle.ts --clients ${clients}`),
    '',
    `**${clients} idle connections** (handshaken, no scopes)`,
    '',
    '| metric | bare ws baseline | brainstem | brainstem / baseline |',
    '|---|---:|---:|---:|',
    line('RSS 1 s after start (MB)', 'startRssMb'),
    line(`RSS idle, ${IDLE_MS / 1000} s after start (MB)`, 'idleRssMb'),
    line(`RSS with ${clients} connections, ${SETTLE_MS / 1000} s after the last handshake (MB)`, 'connectedRssMb'),
    line(`RSS with ${clients} idle connections, lowest within ${CONNECTED_IDLE_MS / 1000} s after the last handshake (MB)`, 'connectedIdleRssMb'),
    line('memory per idle connection, both idle (KB)', 'kbPerConnection'),
    line('handshake p50 (ms)', 'handshakeP50'),
    line('handshake p99 (ms)', 'handshakeP99'),
    line('server CPU per handshake (µs)', 'cpuUsPerHandshake'),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.write) writeSection('idle', 'Idle connections', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`idle bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
