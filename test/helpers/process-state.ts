/**
 * What a child process was doing, sampled from /proc (Linux; elsewhere nothing is recorded): for a failure
 * that cannot be reproduced on demand, such as a gateway that stops answering for seconds. Each sample is
 * the main thread's scheduler state (R running, S sleeping, D waiting on the disk), its CPU time so far and
 * the system call it is in (its number, as /proc/<pid>/syscall gives it) — busy, blocked or idle.
 */
import { readFileSync } from 'node:fs';

/** One line: time, state, CPU ms (user + system), current system call; undefined when /proc cannot tell. */
export function processState(pid: number): string | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: the fields after it are counted from ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0]?.trim();
    return `${new Date().toISOString().slice(11, 23)} state ${fields[0]} cpu ${ticks * 10} ms syscall ${syscall}`;
  } catch {
    return undefined;
  }
}

/** Keeps the last `keep` samples of a process, one every `everyMs`, until stopped. */
export class ProcessSampler {
  readonly #samples: string[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 250, keep = 40) {
    this.#timer = setInterval(() => {
      const sample = processState(pid);
      if (sample === undefined) return;
      this.#samples.push(sample);
      if (this.#samples.length > keep) this.#samples.shift();
    }, everyMs);
    this.#timer.unref();
  }

  /** The samples kept, oldest first. */
  lines(): string[] {
    return [...this.#samples];
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
