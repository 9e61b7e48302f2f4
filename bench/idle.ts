/**
 * `npx tsx bench/idle.ts [--clients 10000] [--write]`: memory of idle connections. For brainstem and the
 * bare `ws` baseline: RSS after start, RSS with N handshaken idle connections (after a settle), and the
 * difference per connection, in KB. Clients connect with no scopes, so no events are sent to them.
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

const { values } = parseArgs({ options: { clients: { type: 'string', default: '10000' }, write: { type: 'boolean', default: false } } });
const clients = Number(values.clients);
const SETTLE_MS = 3_000;

interface IdleRow {
  target: Target;
  idleRssMb: number;
  connectedRssMb: number;
  kbPerConnection: number;
  handshakeP50: number;
  handshakeP99: number;
}

async function measure(target: Target): Promise<IdleRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-idle-'));
  const server = await startServer(target, 'scoped', dataDir);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const idle = rssMb(server.pid);
    const load = spawnScript('bench/idle-client.ts', { url: server.url, token: TOKEN, clients });
    const ready = JSON.parse((await new Lines(load).wait(/^ready (.*)$/, 300_000))[1] as string) as { handshakeP50: number; handshakeP99: number };
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const connected = rssMb(server.pid);
    load.stdin?.write('exit\n');
    await new Promise((r) => load.once('exit', r));
    return { target, idleRssMb: round(idle, 1), connectedRssMb: round(connected, 1), kbPerConnection: round(((connected - idle) * 1024) / clients, 1), ...ready };
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
    line('RSS after start (MB)', 'idleRssMb'),
    line(`RSS with ${clients} connections (MB)`, 'connectedRssMb'),
    line('memory per idle connection (KB)', 'kbPerConnection'),
    line('handshake p50 (ms)', 'handshakeP50'),
    line('handshake p99 (ms)', 'handshakeP99'),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.write) writeSection('idle', 'Idle connections', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`idle bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
