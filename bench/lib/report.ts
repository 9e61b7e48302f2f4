/** Benchmark rows → a markdown table with brainstem beside its baseline and the ratio; optionally into BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { round } from './stats.js';

export interface Row {
  target: 'brainstem' | 'baseline';
  mode: 'scoped' | 'broadcast';
  clients: number;
  /** Offered turns/s of a paced run; undefined for a closed loop (as fast as the gateway answers). */
  offered?: number | undefined;
  turns: number;
  turnsPerSec: number;
  framesPerTurn: number;
  ackP50: number;
  ackP99: number;
  finalP50: number;
  finalP99: number;
  handshakeP50: number;
  handshakeP99: number;
  cpuMsPerTurn: number;
  idleRssMb: number;
  connectedRssMb: number;
  loadedRssMb: number;
  generatorCpuPct: number;
  /** Host CPU time stolen by the hypervisor during the measured window, in % (bench/lib/proc.ts stealPct). */
  hostStealPct: number;
  windowMs: number;
}

export function machineLine(): string {
  const cpu = cpus();
  return `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

const METRICS: [keyof Row, string][] = [
  ['turnsPerSec', 'turns/s'],
  ['cpuMsPerTurn', 'server CPU per turn (ms)'],
  ['framesPerTurn', 'frames received per turn (all clients)'],
  ['ackP50', 'ack p50 (ms)'],
  ['ackP99', 'ack p99 (ms)'],
  ['finalP50', 'time to final p50 (ms)'],
  ['finalP99', 'time to final p99 (ms)'],
  ['handshakeP50', 'handshake p50 (ms)'],
  ['handshakeP99', 'handshake p99 (ms)'],
  ['idleRssMb', 'RSS 0.5 s after start (MB)'],
  ['connectedRssMb', 'RSS with clients connected (MB)'],
  ['loadedRssMb', 'RSS after load (MB)'],
  ['generatorCpuPct', 'load generator CPU (%)'],
  ['hostStealPct', 'host CPU stolen by the hypervisor (%)'],
];

/** Rows that describe the run's conditions, not the server: no ratio. */
const CONDITIONS: ReadonlySet<keyof Row> = new Set(['hostStealPct']);

export function table(rows: readonly Row[]): string {
  const out: string[] = [];
  const scenarios = [...new Set(rows.map((r) => `${r.mode}:${r.clients}:${r.offered ?? ''}`))];
  for (const scenario of scenarios) {
    const [mode, clients, offered] = scenario.split(':');
    const pick = (target: Row['target']) => rows.find((r) => `${r.mode}:${r.clients}:${r.offered ?? ''}` === scenario && r.target === target);
    const base = pick('baseline');
    const ours = pick('brainstem');
    if (base === undefined || ours === undefined) continue;
    const load = offered === '' ? 'closed loop (each client sends its next turn when its last one ended)' : `paced at ${offered} turns/s offered`;
    out.push(`**${mode}, ${clients} client${clients === '1' ? '' : 's'}, ${load}**`, '', '| metric | bare ws baseline | brainstem | brainstem / baseline |', '|---|---:|---:|---:|');
    for (const [key, label] of METRICS) {
      const a = Number(base[key]);
      const b = Number(ours[key]);
      const ratio = CONDITIONS.has(key) || a === 0 || !Number.isFinite(a) ? '–' : `${round(b / a, 2)}×`;
      out.push(`| ${label} | ${a} | ${b} | ${ratio} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Replaces (or appends) the section `name` of BENCHMARKS.md, between its markers. */
export function writeSection(name: string, heading: string, body: string): void {
  const path = new URL('../../BENCHMARKS.md', import.meta.url);
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const section = `${start}\n${body}\n${end}`;
  const next = current.includes(start)
    ? current.replace(new RegExp(`${start}[\\s\\S]*${end}`), section)
    : `${current.trimEnd()}\n\n## ${heading}\n\n${section}\n`;
  writeFileSync(path, next);
}

export function stamp(command: string): string {
  return `Command: \`${command}\` · ${new Date().toISOString().slice(0, 10)} · ${machineLine()}`;
}

export function writeBenchmarks(rows: readonly Row[], options: { command: string; write: boolean; note?: string; seeded?: boolean }): string {
  const body = [stamp(`npm run bench -- ${options.command}`.trim()), ...(options.note === undefined ? [] : ['', options.note]), '', table(rows)].join('\n');
  if (options.write && options.seeded === true) writeSection('gateway-seeded', 'Gateway turns over a stored million', body);
  else if (options.write) writeSection('gateway', 'Gateway turns', body);
  return body;
}
