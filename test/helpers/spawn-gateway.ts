/**
 * The real `brainstem` CLI as a child process (`node --import tsx server/cli.ts`), for tests of what only a
 * process shows: stdout/stderr, exit codes, signals, kill -9, memory. Killed with SIGKILL when the test finishes
 * (or, with `killAfterTest: false` for beforeAll-scoped children, when the caller says so).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';
import { TOKEN_FILE } from '../../server/token.js';
import { tempDir } from './temp-dir.js';

/** The repository root: the CLI runs from here so `--import tsx` resolves the devDependency. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO_ROOT, 'server', 'cli.ts');
const LISTENING = /^brainstem listening on (ws:\/\/(.+):(\d+))$/;
/** Time for tsx to compile and the gateway to listen; generous because 2 cores may be busy with other files. */
const START_TIMEOUT_MS = 15_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Arguments after `server/cli.ts`. */
  args?: readonly string[];
  /** Node flags after `--import tsx` (so they may import .ts files), e.g. MEMORY_PROBE_NODE_ARGS. */
  nodeArgs?: readonly string[];
  /** Kill the child when the current test finishes (default true); false when started in beforeAll. */
  killAfterTest?: boolean;
  /** Added to the environment; `BRAINSTEM_*` and `OPENAI_API_KEY` of the test runner are never passed on. */
  env?: Record<string, string>;
}

export interface SpawnOptions extends CliOptions {
  /** Reuse a data dir (restart tests); a fresh temp dir otherwise. */
  dataDir?: string;
  /** Passed as `--token`; without it the token is read from `<dataDir>/gateway-token` when there is one. */
  token?: string;
  startTimeoutMs?: number;
}

export interface SpawnedGateway {
  url: string;
  port: number;
  /** The token clients must present (given, or read from the token file); undefined with auth off. */
  token: string | undefined;
  dataDir: string;
  child: ChildProcess;
  /** Every stdout / stderr line so far (they keep growing while the process runs). */
  stdout: string[];
  stderr: string[];
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<Exit>;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('BRAINSTEM_') && key !== 'OPENAI_API_KEY' && !key.startsWith('VITEST') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...extra };
}

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<Exit>;
  /** Resolves on each new stdout line. */
  onLine(listener: (line: string) => void): () => void;
}

function start(options: CliOptions): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), CLI, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (options.killAfterTest !== false) {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  collectLines(child.stdout, (line) => {
    stdout.push(line);
    for (const listener of [...listeners]) listener(line);
  });
  collectLines(child.stderr, (line) => stderr.push(line));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout,
    stderr,
    exited,
    onLine: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function collectLines(stream: NodeJS.ReadableStream | null, push: (line: string) => void): void {
  if (stream === null) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) push(line);
  });
  stream.on('end', () => {
    if (rest !== '') push(rest);
  });
}

/** Starts the CLI on port 0 and waits for its `brainstem listening on ws://...` line. */
export async function spawnGateway(options: SpawnOptions = {}): Promise<SpawnedGateway> {
  const dataDir = options.dataDir ?? (options.killAfterTest === false ? mkdtempSync(join(tmpdir(), 'brainstem-cli-')) : tempDir('brainstem-cli-'));
  // The workspace defaults to ./workspace, which the CLI creates: keep it out of the repository.
  const workspace = options.args?.includes('--workspace') ? [] : ['--workspace', join(dataDir, 'workspace')];
  const token = options.token === undefined ? [] : ['--token', options.token];
  const args = ['--port', '0', '--data-dir', dataDir, ...workspace, ...token, ...(options.args ?? [])];
  const started = start({ ...options, args });
  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(`brainstem did not start: ${why}\nstdout:\n${started.stdout.join('\n')}\nstderr:\n${started.stderr.join('\n')}`));
    };
    const check = (line: string): void => {
      const found = LISTENING.exec(line);
      if (found === null) return;
      cleanup();
      resolve(found);
    };
    const timer = setTimeout(() => fail(`no listening line within ${timeoutMs} ms`), timeoutMs);
    const off = started.onLine(check);
    void started.exited.then((exit) => fail(`exited with code ${exit.code} signal ${exit.signal}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      off();
    };
    for (const line of started.stdout) check(line);
  });
  const [, url, , port] = match as [string, string, string, string];
  return {
    url,
    port: Number(port),
    token: options.token ?? options.env?.BRAINSTEM_TOKEN ?? readToken(dataDir),
    dataDir,
    child: started.child,
    stdout: started.stdout,
    stderr: started.stderr,
    kill: (signal = 'SIGTERM') => {
      started.child.kill(signal);
    },
    exited: started.exited,
  };
}

/** The token stored in the data dir, or undefined when there is none. */
export function readToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Runs the CLI to its end (e.g. `--help`, a bad option) and returns its output; fails after the timeout. */
export async function runCli(options: CliOptions & { timeoutMs?: number } = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const started = start(options);
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      started.child.kill('SIGKILL');
      reject(new Error(`brainstem ${(options.args ?? []).join(' ')} still running after ${timeoutMs} ms\nstderr:\n${started.stderr.join('\n')}`));
    }, timeoutMs);
  });
  try {
    const exit = await Promise.race([started.exited, timeout]);
    return { ...exit, stdout: started.stdout.join('\n'), stderr: started.stderr.join('\n') };
  } finally {
    clearTimeout(timer);
  }
}

/** Node flags that make a spawned gateway answer `memorySample` (see process-memory-probe.ts). */
export const MEMORY_PROBE_NODE_ARGS: readonly string[] = ['--expose-gc', '--import', pathToFileURL(join(REPO_ROOT, 'test/helpers/process-memory-probe.ts')).href];

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Asks a gateway started with MEMORY_PROBE_NODE_ARGS for its memory after two forced garbage collections. */
export async function memorySample(gateway: SpawnedGateway, timeoutMs = 10_000): Promise<MemorySample> {
  const from = gateway.stdout.length;
  gateway.child.kill('SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = gateway.stdout.slice(from).find((l) => l.startsWith('memory {'));
    if (line !== undefined) return JSON.parse(line.slice('memory '.length)) as MemorySample;
    if (Date.now() > deadline) throw new Error(`no memory line within ${timeoutMs} ms (was the gateway started with MEMORY_PROBE_NODE_ARGS?)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether the child is still running. */
export function running(gateway: SpawnedGateway): boolean {
  return gateway.child.exitCode === null && gateway.child.signalCode === null;
}
