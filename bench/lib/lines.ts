/** Reads a child's stdout once, line by line, and lets callers wait for a line matching a pattern. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export class Lines {
  readonly #lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  #exited: number | null | undefined;

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.#lines.push(line);
      for (const wake of [...this.#waiters]) wake();
    });
    child.once('exit', (code) => {
      this.#exited = code;
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /** Every line read so far. */
  all(): readonly string[] {
    return this.#lines;
  }

  /** The first line (seen or to come) matching `pattern`; rejects on timeout or when the process exits first. */
  wait(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of this.#lines) {
          const match = pattern.exec(line);
          if (match !== null) {
            done();
            resolve(match);
            return true;
          }
        }
        if (this.#exited !== undefined) {
          done();
          reject(new Error(`process exited (${this.#exited}) before ${pattern}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${pattern}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}
