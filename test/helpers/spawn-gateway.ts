/**
 * The real `brainstem` CLI in a child process (through tsx), on 127.0.0.1 port 0 with a temp data dir, for
 * tests that must watch the process itself: that it never crashes, and what its memory does. The child runs
 * with `--expose-gc` and the memory probe preloaded; `memory()` asks it for a post-GC sample. Killed when the
 * test (or the suite, for `autoStop: false`) finishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = pathToFileURL(join(ROOT, 'test/helpers/memory-probe.ts')).href;
export const SPAWNED_TOKEN = 'spawned-token-0123456789';
/** Time the child gets to print its listening line (tsx compiles on the fly on a busy machine), in ms. */
const START_TIMEOUT_MS = 30_000;
/** Most stderr kept for failure messages, in characters. */
const STDERR_KEEP_CHARS = 20_000;

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface SpawnedGateway {
  url: string;
  pid: number;
  dataDir: string;
  token: string;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** A memory sample taken after two forced garbage collections. */
  memory(): Promise<MemorySample>;
  /** The tail of the child's stderr (its JSON log). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the data dir. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** Extra CLI flags, e.g. ['--max-buffered-bytes', '65536']. */
  args?: string[];
  /** Stop when the current test finishes (default); false for beforeAll-scoped children (call stop yourself). */
  autoStop?: boolean;
}

export async function spawnGateway(options: SpawnOptions = {}): Promise<SpawnedGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-spawned-'));
  const args = [
    '--expose-gc',
    '--import',
    'tsx',
    '--import',
    PROBE,
    'server/cli.ts',
    ...['--port', '0', '--data-dir', dataDir, '--workspace', join(dataDir, 'workspace'), '--token', SPAWNED_TOKEN, '--log-level', 'warn'],
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP_CHARS);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = new LineWaiter(child);
  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })());
  if (options.autoStop !== false) onTestFinished(() => stop());
  let url: string;
  try {
    url = (await lines.next(/listening on (ws:\/\/\S+)/, START_TIMEOUT_MS))[1] as string;
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nstderr:\n${stderr}`);
  }
  return {
    url,
    pid: child.pid as number,
    dataDir,
    token: SPAWNED_TOKEN,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    memory: async () => {
      const line = lines.next(/^memory (\{.*\})$/, 10_000);
      child.kill('SIGUSR2');
      return JSON.parse((await line)[1] as string) as MemorySample;
    },
    stderr: () => stderr,
    stop,
  };
}

/** Lines of a child's stdout; `next` waits for the first line matching a pattern that arrives after the call. */
class LineWaiter {
  readonly #waiters = new Set<(line: string | undefined) => void>();

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      for (const wake of [...this.#waiters]) wake(line);
    });
    child.once('exit', () => {
      for (const wake of [...this.#waiters]) wake(undefined);
    });
  }

  next(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = (line: string | undefined): void => {
        const match = line === undefined ? null : pattern.exec(line);
        if (line !== undefined && match === null) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        if (match === null) reject(new Error(`process exited before a line matching ${pattern}`));
        else resolve(match);
      };
      this.#waiters.add(wake);
    });
  }
}
