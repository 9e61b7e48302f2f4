/** CPU time and memory of another process, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** The machine's CPU time counters (all CPUs, in clock ticks) from the first line of /proc/stat. */
export interface HostTicks {
  total: number;
  steal: number;
}

export function hostTicks(): HostTicks {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user and nice.
  return { total: fields.slice(0, 8).reduce((sum, n) => sum + n, 0), steal: fields[7] ?? 0 };
}

/**
 * Share of the machine's CPU time the hypervisor gave to other guests between two readings, in %: on a shared
 * VM this is time neither the server nor the load generator got, and runs with much of it are slower and noisier.
 */
export function stealPct(from: HostTicks, to: HostTicks): number {
  const total = to.total - from.total;
  return total <= 0 ? 0 : (100 * (to.steal - from.steal)) / total;
}

/** Resident set size of a process, in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
