/** Starting the servers under test as child processes: brainstem (built, from dist/) and the bare baseline. */
import { spawn, type ChildProcess } from 'node:child_process';
import { Lines } from './lines.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const TOKEN = 'bench-token';

export type Target = 'brainstem' | 'baseline';
export type Mode = 'scoped' | 'broadcast';

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts a server and waits for its listening line. `extraArgs` go to brainstem only. */
export async function startServer(target: Target, mode: Mode, dataDir: string, extraArgs: readonly string[] = []): Promise<RunningServer> {
  const args =
    target === 'brainstem'
      ? ['dist/server/cli.js', '--port', '0', '--data-dir', dataDir, '--workspace', `${dataDir}/workspace`, '--token', TOKEN, '--log-level', 'warn', ...extraArgs]
      : ['--import', 'tsx', 'bench/baseline-server.ts', mode];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = (await new Lines(child).wait(/listening on (ws:\/\/\S+)/))[1] as string;
  return {
    child,
    pid: child.pid as number,
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Spawns a TypeScript bench script (through tsx) with one JSON argument. */
export function spawnScript(script: string, options: object): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
}
