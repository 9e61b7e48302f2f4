/**
 * `npx tsx bench/memory.ts`: the session memory's two targets, each against its baseline in the same run.
 * 1. memory.recall by topic over N stored items (default 1,000,000): p50/p95 latency, with and without a
 *    session filter (target p95 < 5 ms). Items are synthetic turns over a Zipf-distributed vocabulary,
 *    written straight into the long-term store (same tables, triggers and index as the gateway's).
 *    Then a context restore from its RAM snapshot (a session's first use after a start) beside the walk over the
 *    session's whole history that restoring took before (the baseline), for sessions of ~1,000 items each.
 * 2. Gateway CPU per turn with memoryV1 on vs off (target < 10 % more): the same gateway and load generator
 *    (bench/load-client.ts, scoped mode), alternating on/off rounds, CPU read from /proc over each window.
 * Options: --items N --queries N --candidates N --clients N --duration MS --warmup MS --rounds N --skip-recall
 * --skip-cpu --db DIR (keep the stored corpus in DIR and reuse it on the next run).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { recordToItem, restoreContext } from '../memory/context-loader.js';
import { newMemoryId } from '../memory/ids.js';
import { MemoryApi } from '../memory/memory-api.js';
import { MemoryService } from '../memory/memory-service.js';
import { openStore } from '../memory/store.js';
import { Lines } from './lib/lines.js';
import { cpuMs } from './lib/proc.js';
import { machineLine } from './lib/report.js';
import { median, percentile, round } from './lib/stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-token';
const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '500' },
    clients: { type: 'string', default: '20' },
    duration: { type: 'string', default: '8000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    candidates: { type: 'string', default: '100' },
    db: { type: 'string' },
    'skip-recall': { type: 'boolean', default: false },
    'skip-cpu': { type: 'boolean', default: false },
  },
});

/** A deterministic PRNG so every run stores the same corpus. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const VOCABULARY = 20_000;
const WORDS_PER_ITEM = 14;
const SESSIONS = 1_000;
const word = (rank: number): string => `w${rank.toString(36)}x`;

async function recallBench(): Promise<void> {
  const total = Number(values.items);
  const dir = values.db ?? mkdtempSync(join(tmpdir(), 'brainstem-bench-memory-'));
  const logger = pino({ level: 'silent' });
  const store = openStore(dir, logger);
  const existing = store.memory.recall.list({}, 1).records.length > 0;
  const random = prng(42);
  // Zipf-like: rank = floor(V^u) skews towards frequent words.
  const zipf = (): number => Math.floor(VOCABULARY ** random());
  const started = performance.now();
  const start = Date.now() - 90 * 86_400_000;
  const batch = 10_000;
  for (let done = existing ? total : 0; done < total; done += batch) {
    store.transaction(() => {
      for (let i = done; i < Math.min(total, done + batch); i++) {
        const createdAt = start + Math.floor((i / total) * 90 * 86_400_000);
        const text = Array.from({ length: WORDS_PER_ITEM }, zipf).map(word).join(' ');
        const sessionKey = `agent:main:s${i % SESSIONS}`;
        store.memory.items.insert({ id: newMemoryId(createdAt), sessionKey, sessionId: 's', kind: i % 50 === 0 ? 'summary' : 'turn', role: i % 2 === 0 ? 'user' : 'assistant', text, tokens: WORDS_PER_ITEM * 2, state: i % 3 === 0 ? 'active' : 'evicted', createdAt, updatedAt: createdAt, summarizedBy: undefined, summaryOf: undefined, document: undefined });
      }
    });
    if ((done / batch) % 20 === 0) process.stdout.write(`  stored ${done.toLocaleString()} items\r`);
  }
  const memory = new MemoryService({ store, limits: { maxMessageBytes: 32_768, maxItems: 200, maxTokens: 16_000 }, longTerm: true, snapshotIntervalMs: 60_000, now: Date.now, logger });
  // The full-text index is filled in batches (as in the gateway): bring it up to date before measuring.
  while (store.memory.index.behind()) memory.flush();
  process.stdout.write(existing ? `reusing the corpus in ${dir}\n` : `stored ${total.toLocaleString()} items in ${round((performance.now() - started) / 1000, 1)} s\n`);
  const api = new MemoryApi(memory, { candidates: Number(values.candidates), halfLifeMs: 7 * 86_400_000 }, Date.now, logger);
  const queries = Number(values.queries);
  for (const scoped of [false, true]) {
    const times: number[] = [];
    // CPU time too: on a shared machine wall time includes waiting for a core.
    const cpu: number[] = [];
    for (let q = 0; q < queries; q++) {
      // Topics from frequent-to-rare words (ranks 5..2000): from thousands of matches down to a few.
      const topic = `${word(5 + Math.floor(random() * 2_000))} ${word(5 + Math.floor(random() * 2_000))}`;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      api.recall({ topic, detail: false, limit: 5, ...(scoped ? { sessionKey: `agent:main:s${q % SESSIONS}` } : {}) });
      const c1 = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
    process.stdout.write(`recall by topic${scoped ? ' (one session)' : ' (all sessions)'}, ${values.candidates} candidates: p50 ${round(percentile(times, 50))} ms, p95 ${round(percentile(times, 95))} ms, max ${round(Math.max(...times))} ms over ${queries} queries (target p95 < 5 ms); CPU p50 ${round(percentile(cpu, 50))} ms, p95 ${round(percentile(cpu, 95))} ms\n`);
  }
  memory.close();
  restoreBench(store);
  store.close();
  if (values.db === undefined) rmSync(dir, { recursive: true, force: true });
}

const RESTORE_LIMITS = { maxMessageBytes: 32_768, maxItems: 200, maxTokens: 16_000 };
const LONG_HISTORY = 50_000;

/**
 * Restoring a context from its snapshot, as now and as before (walking every item of the session, the
 * baseline): over 200 sessions of the corpus (~1,000 items each), then 20 times over one session with a long
 * history (LONG_HISTORY items, the newest 200 active), written first if the corpus does not have it.
 */
function restoreBench(store: ReturnType<typeof openStore>): void {
  const corpus = Array.from({ length: 200 }, (_, s) => timeRestore(store, `agent:main:s${s}`));
  report(`context restore, ${round(Number(values.items) / SESSIONS)} items in each session's history`, corpus);
  const longKey = 'agent:main:long-history';
  if (store.memory.items.active(longKey, 's').length === 0) {
    const start = Date.now() - LONG_HISTORY * 60_000;
    store.transaction(() => {
      for (let i = 0; i < LONG_HISTORY; i++) {
        const createdAt = start + i * 60_000;
        const state = i >= LONG_HISTORY - RESTORE_LIMITS.maxItems ? 'active' : 'evicted';
        store.memory.items.insert({ id: newMemoryId(createdAt), sessionKey: longKey, sessionId: 's', kind: 'turn', role: i % 2 === 0 ? 'user' : 'assistant', text: `turn ${i} of a long conversation`, tokens: 8, state, createdAt, updatedAt: createdAt, summarizedBy: undefined, summaryOf: undefined, document: undefined });
      }
    });
  }
  report(`context restore, ${LONG_HISTORY.toLocaleString()} items in the session's history`, Array.from({ length: 20 }, () => timeRestore(store, longKey)));
}

/** Writes a snapshot of the session's newest active items, then times both restores: [ms now, ms before, items]. */
function timeRestore(store: ReturnType<typeof openStore>, sessionKey: string): [number, number, number] {
  const itemIds = store.memory.items.active(sessionKey, 's').slice(-RESTORE_LIMITS.maxItems).map((record) => record.id);
  const highWater = itemIds.at(-1) ?? '';
  store.memory.snapshots.put({ sessionKey, sessionId: 's', itemIds, highWater, tokens: 0, updatedAt: Date.now() });
  let t0 = performance.now();
  const restored = restoreContext(store, sessionKey, 's', true, RESTORE_LIMITS, Date.now());
  const now = performance.now() - t0;
  if (restored.from !== 'snapshot' || restored.items.length !== itemIds.length) throw new Error(`restore of ${sessionKey} read ${restored.items.length} items, not ${itemIds.length}`);
  // As it was: every active item of the session, then the snapshot's members and newer ones.
  t0 = performance.now();
  const member = new Set(itemIds);
  store.memory.items.active(sessionKey, 's').filter((record) => member.has(record.id) || record.id > highWater).map((record) => recordToItem(record, Date.now()));
  return [now, performance.now() - t0, restored.items.length];
}

function report(label: string, runs: [number, number, number][]): void {
  const now = runs.map((run) => run[0]);
  const before = runs.map((run) => run[1]);
  const items = median(runs.map((run) => run[2]));
  process.stdout.write(`${label}, ${items} in its context: from the snapshot p50 ${round(percentile(now, 50))} ms, p95 ${round(percentile(now, 95))} ms; walking the history as before (baseline) p50 ${round(percentile(before, 50))} ms, p95 ${round(percentile(before, 95))} ms\n`);
}

async function gatewayCpuPerTurn(memoryOn: boolean): Promise<{ cpuMsPerTurn: number; turns: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brainstem-bench-cpu-'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', '--port', '0', '--data-dir', dataDir, '--token', TOKEN, '--log-level', 'warn', '--memory-v1', String(memoryOn)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = (await new Lines(server).wait(/listening on (ws:\/\/\S+)/))[1] as string;
    const pid = server.pid as number;
    const load = spawn(process.execPath, ['--import', 'tsx', 'bench/load-client.ts', JSON.stringify({ url, token: TOKEN, clients: Number(values.clients), mode: 'scoped', warmupMs: Number(values.warmup), durationMs: Number(values.duration) })], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const out = new Lines(load);
    await out.wait(/^ready /);
    load.stdin?.write('go\n');
    await out.wait(/^window-start$/);
    const cpu0 = cpuMs(pid);
    await out.wait(/^window-end$/, Number(values.duration) + 30_000);
    const cpu1 = cpuMs(pid);
    const result = JSON.parse((await out.wait(/^result (.*)$/))[1] as string) as { turns: number };
    return { cpuMsPerTurn: result.turns === 0 ? Number.NaN : (cpu1 - cpu0) / result.turns, turns: result.turns };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function cpuBench(): Promise<void> {
  const on: number[] = [];
  const off: number[] = [];
  for (let round_ = 0; round_ < Number(values.rounds); round_++) {
    for (const memoryOn of round_ % 2 === 0 ? [false, true] : [true, false]) {
      const { cpuMsPerTurn, turns } = await gatewayCpuPerTurn(memoryOn);
      (memoryOn ? on : off).push(cpuMsPerTurn);
      process.stdout.write(`  memory ${memoryOn ? 'on ' : 'off'}: ${round(cpuMsPerTurn, 3)} ms CPU per turn over ${turns} turns\n`);
    }
  }
  const ratio = median(on) / median(off);
  process.stdout.write(`gateway CPU per turn (median of ${values.rounds}): memory off ${round(median(off), 3)} ms, memory on ${round(median(on), 3)} ms, on/off ${round(ratio, 3)}× (target < 1.10×)\n`);
}

async function main(): Promise<void> {
  process.stdout.write(`${machineLine()}\n`);
  if (values['skip-recall'] !== true) await recallBench();
  if (values['skip-cpu'] !== true) await cpuBench();
}

main().catch((err: unknown) => {
  process.stderr.write(`memory bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
