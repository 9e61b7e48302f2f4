/**
 * `npm run bench:workers` (`tsx bench/workers.ts`): the agent runtime (issue 5), each figure beside a baseline
 * measured in the same run.
 *
 * 1. Stop/abort acknowledgement under a saturated background lane. The background lane is kept full of jobs
 *    that never finish; then, again and again, a planned turn is started and stopped with `agent.control stop`
 *    while its tasks run, and a streaming turn is stopped with `chat.abort`. Measured: request → response
 *    (the acknowledgement) and request → the run's `chat` aborted event (effective), against the round trip
 *    of `health` sent just before on the same socket (the baseline: what any answer costs here).
 * 2. Tasks/s through the pool: no-op jobs through the RAM lane pool alone (baseline), through the durable job
 *    runner (SQLite: insert, claim, finish), and plan tasks end to end through the gateway (turns with eight
 *    execution tasks each, several sessions at once).
 *
 * For (1) the gateway runs in a child process (this file with --serve: a gateway whose research and `sleep` jobs
 * never finish by themselves, with its background lane kept full), the client here; (2) runs in-process.
 * Options: --iterations N --jobs N --goals N.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { DEFAULT_AGENT_ID, DEFAULT_IDENTITY_LIMITS, buildPacket, type IdentityService } from '../identity/index.js';
import { openDatabase } from '../memory/db.js';
import { openStore } from '../memory/store.js';
import { createGateway } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { JOB_MIGRATIONS } from '../workers/jobs/job-migrations.js';
import { JobRunner, type JobHandler } from '../workers/jobs/job-runner.js';
import { JobStore } from '../workers/jobs/job-store.js';
import { LanePool } from '../workers/pool/lane-pool.js';
import { createLocalProvider } from '../workers/providers/local.js';
import { Lines } from './lib/lines.js';
import { machineLine } from './lib/report.js';
import { percentile, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '200' },
    jobs: { type: 'string', default: '5000' },
    goals: { type: 'string', default: '40' },
    serve: { type: 'boolean', default: false },
  },
});
const ITERATIONS = Number(values.iterations);
const JOBS = Number(values.jobs);
const GOALS = Number(values.goals);
const TOKEN = 'bench-token';
const silent = pino({ level: 'silent' });

const untilAborted: JobHandler = (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));

function identity(): IdentityService {
  const packet = buildPacket({ agentId: DEFAULT_AGENT_ID, files: [], limits: DEFAULT_IDENTITY_LIMITS });
  return { packet: () => packet, agentIds: () => [DEFAULT_AGENT_ID], close: async () => {} };
}

/** A raw ws client: requests by id, and waits on events by predicate. */
class Client {
  readonly #pending = new Map<string, (frame: Record<string, unknown>) => void>();
  readonly #watchers = new Set<(frame: Record<string, unknown>) => boolean>();
  #next = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type === 'res') this.#pending.get(String(frame.id))?.(frame);
      else for (const watch of [...this.#watchers]) if (watch(frame)) this.#watchers.delete(watch);
    });
  }

  static async connect(url: string, caps: string[]): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      client.#watchers.add((frame) => {
        if (frame.event !== 'connect.challenge') return false;
        const params = { minProtocol: 3, maxProtocol: 4, client: { id: 'test', version: '1', platform: 'bench', mode: 'test' }, scopes: ['operator.read', 'operator.write'], caps, auth: { token: TOKEN } };
        void client.request('connect', params).then((res) => (res.ok === true ? resolve() : reject(new Error(JSON.stringify(res)))));
        return true;
      });
    });
    return client;
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = `b${++this.#next}`;
    return new Promise((resolve) => {
      this.#pending.set(id, (frame) => {
        this.#pending.delete(id);
        resolve(frame);
      });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  event(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#watchers.add((frame) => {
        if (!match(frame)) return false;
        resolve(frame);
        return true;
      });
    });
  }
}

const payload = (frame: Record<string, unknown>) => (frame.payload ?? {}) as Record<string, unknown>;
const chatState = (runId: string, state: string) => (f: Record<string, unknown>) => f.event === 'chat' && payload(f).runId === runId && payload(f).state === state;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

function line(label: string, samples: number[], baseline?: number[]): string {
  const p50 = round(percentile(samples, 50), 3);
  const p99 = round(percentile(samples, 99), 3);
  const ratio = baseline === undefined ? '' : ` | ${round(p99 / percentile(baseline, 99), 2)}×`;
  return `| ${label} | ${p50} | ${p99}${baseline === undefined ? ' | –' : ratio} |`;
}

/** Background jobs kept queued (1 running + this many) while the stops are measured. */
const BACKGROUND_QUEUED = 16;

/** --serve: a gateway whose research and `sleep` jobs never finish by themselves, background lane full. */
async function serve(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-bench-workers-'));
  const config = loadConfig({ overrides: { port: 0, dataDir, logLevel: 'silent', token: TOKEN, localChunkDelayMs: 50, laneBackgroundConcurrency: 1, laneBackgroundMaxQueue: BACKGROUND_QUEUED, maxConcurrentRuns: 64 } });
  const store = openStore(dataDir);
  const provider = createLocalProvider({ chunkDelayMs: config.localChunkDelayMs });
  const gateway = await createGateway({ config, logger: silent, store, provider, identity: identity(), token: TOKEN, agentHandlers: new Map([['research', untilAborted], ['sleep', untilAborted]]) });
  const runtime = gateway.services.agent?.runtime;
  if (runtime === undefined) throw new Error('the agent runtime is off');
  for (let i = 0; i <= BACKGROUND_QUEUED; i++) runtime.enqueue({ id: `bg-${i}`, kind: 'sleep', lane: 'background', maxAttempts: 1 });
  const { url } = await gateway.listen();
  process.stdout.write(`listening ${url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void (async () => {
      await gateway.close();
      await provider.close();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

async function stopBench(): Promise<string[]> {
  const server = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const url = (await new Lines(server).wait(/^listening (ws:\/\/\S+)$/))[1] as string;
    const client = await Client.connect(url, ['agent.plan.v1']);
    const health: number[] = [];
    const stopAck: number[] = [];
    const stopEffective: number[] = [];
    const abortAck: number[] = [];
    const abortEffective: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const status = await client.request('agent.status', {});
      const background = ((payload(status).lanes ?? []) as { name: string; running: number; queued: number }[]).find((l) => l.name === 'background');
      if (background === undefined || background.running !== 1 || background.queued < BACKGROUND_QUEUED) throw new Error('the background lane is not saturated');
      // A planned turn whose two research tasks run (and never finish by themselves): stop it.
      const planned = `stop-${i}`;
      const running = client.event((f) => f.event === 'agent.progress' && payload(f).runId === planned && payload(f).state === 'running');
      await client.request('chat.send', { sessionKey: `s-${i}`, message: 'Go:\n- research a\n- research b', idempotencyKey: planned });
      await running;
      health.push((await timed(() => client.request('health', {})))[1]);
      const aborted = client.event(chatState(planned, 'aborted'));
      const sent = performance.now();
      const [res, ack] = await timed(() => client.request('agent.control', { action: 'stop', runId: planned }));
      if (res.ok !== true) throw new Error(`stop refused: ${JSON.stringify(res)}`);
      stopAck.push(ack);
      await aborted;
      stopEffective.push(performance.now() - sent);
      // A turn streaming its reply: chat.abort it.
      const streaming = `abort-${i}`;
      const delta = client.event(chatState(streaming, 'delta'));
      await client.request('chat.send', { sessionKey: `a-${i}`, message: 'a reply long enough to stream in four slow chunks', idempotencyKey: streaming });
      await delta;
      const abortedToo = client.event(chatState(streaming, 'aborted'));
      const sentToo = performance.now();
      abortAck.push((await timed(() => client.request('chat.abort', { sessionKey: `a-${i}` })))[1]);
      await abortedToo;
      abortEffective.push(performance.now() - sentToo);
    }
    client.ws.close();
    return [
      `**Stop/abort acknowledgement under a saturated background lane** (${ITERATIONS} of each; background lane 1 running + ${BACKGROUND_QUEUED} queued; gateway and client in separate processes)`,
      '',
      '| request → | p50 (ms) | p99 (ms) | p99 / health p99 |',
      '|---|---:|---:|---:|',
      line('`health` response (baseline)', health),
      line('`agent.control stop` response', stopAck, health),
      line('`agent.control stop` → run `chat` aborted', stopEffective, health),
      line('`chat.abort` response', abortAck, health),
      line('`chat.abort` → run `chat` aborted', abortEffective, health),
      '',
    ];
  } finally {
    server.stdin?.end();
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

async function poolOnly(): Promise<number> {
  let done = 0;
  const pool = new LanePool([{ name: 'research', concurrency: 4, maxQueue: JOBS, priority: 0 }], { maxRunning: 4, agingMs: 5_000, now: Date.now, onError: () => undefined });
  const [, ms] = await timed(async () => {
    await new Promise<void>((resolve) => {
      for (let i = 0; i < JOBS; i++) {
        pool.push({ id: `j${i}`, lane: 'research', readyAt: 0, run: async () => {
          if (++done === JOBS) resolve();
        } });
      }
    });
  });
  await pool.close(new Error('done'));
  return JOBS / (ms / 1000);
}

async function durableRunner(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'brainstem-bench-jobs-'));
  const db = openDatabase(join(dir, 'jobs.db'), undefined, { migrations: JOB_MIGRATIONS });
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const runner = new JobRunner({
    store: new JobStore(db),
    lanes: [{ name: 'research', concurrency: 4, maxQueue: JOBS, priority: 0 }],
    maxRunning: 4,
    agingMs: 5_000,
    handlers: new Map([['noop', async () => ({ result: null })]]),
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    attemptTimeoutMs: 60_000,
    now: Date.now,
    logger: silent,
    onChange: (job) => {
      if (job.state === 'done' && ++done === JOBS) finished();
    },
  });
  const [, ms] = await timed(async () => {
    for (let i = 0; i < JOBS; i++) runner.enqueue({ id: `j${i}`, kind: 'noop', lane: 'research', maxAttempts: 1 });
    await all;
  });
  await runner.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return JOBS / (ms / 1000);
}

async function planTasks(): Promise<{ perSec: number; tasks: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-bench-plans-'));
  const config = loadConfig({ overrides: { port: 0, dataDir, logLevel: 'silent', token: TOKEN, laneInteractiveConcurrency: 4, workerPoolConcurrency: 4, laneInteractiveMaxQueue: 4_096 } });
  const store = openStore(dataDir);
  const provider = createLocalProvider();
  const gateway = await createGateway({ config, logger: silent, store, provider, identity: identity(), token: TOKEN });
  try {
    const { url } = await gateway.listen();
    const client = await Client.connect(url, []);
    const goal = `Do:\n${Array.from({ length: 8 }, (_, i) => `${i + 1}. step number ${i + 1}`).join('\n')}`;
    const [, ms] = await timed(() =>
      Promise.all(
        Array.from({ length: GOALS }, async (_, i) => {
          const final = client.event(chatState(`g-${i}`, 'final'));
          await client.request('chat.send', { sessionKey: `g-${i}`, message: goal, idempotencyKey: `g-${i}` });
          await final;
        }),
      ),
    );
    client.ws.close();
    return { perSec: (GOALS * 8) / (ms / 1000), tasks: GOALS * 8 };
  } finally {
    await gateway.close();
    await provider.close();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${machineLine()}\nOn a shared machine, run it twice: the health baseline shows how loaded it was.\n\n`);
  const stop = await stopBench();
  const pool = await poolOnly();
  const durable = await durableRunner();
  const plans = await planTasks();
  const out = [
    ...stop,
    `**Tasks/s through the pool** (${JOBS} no-op jobs; ${plans.tasks} plan tasks in ${GOALS} turns of 8 execution tasks)`,
    '',
    '| path | tasks/s | / RAM pool |',
    '|---|---:|---:|',
    `| RAM lane pool, no-op jobs (baseline) | ${round(pool, 0)} | 1× |`,
    `| durable job runner (SQLite), no-op jobs | ${round(durable, 0)} | ${round(durable / pool, 3)}× |`,
    `| plan tasks end to end (turn, plan, tasks, final reply) | ${round(plans.perSec, 0)} | ${round(plans.perSec / pool, 3)}× |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

(values.serve ? serve() : main()).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
