/**
 * `npx tsx bench/summary-pass.ts [--sentences 1,10] [--sessions 30] [--rounds 5]`: what a memory manager pass
 * over full contexts costs the event loop, with the extractive drafts in the summary thread (the default)
 * against drafted on the event loop (`memorySummaryThread` off). Each round fills `--sessions` contexts with 160
 * messages of `--sentences` sentences each (fresh database, same texts), collects the garbage of filling them,
 * then runs one pass (one summary a context) and reports the event loop's active time during the pass, its
 * longest stall (monitorEventLoopDelay, 1 ms resolution) and the pass's wall time. The two modes alternate; the
 * figures are medians over the rounds. In-process: no gateway, no clients, only the pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { MemoryService } from '../memory/memory-service.js';
import { openStore } from '../memory/store.js';
import { MemoryManager } from '../workers/memory-manager.js';
import { extractiveSummarizer, summaryThreads } from '../workers/memory-summarizer.js';
import { median, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    sentences: { type: 'string', default: '1,10' },
    sessions: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '5' },
  },
});
const SESSIONS = Number(values.sessions);
const ROUNDS = Number(values.rounds);
const ITEMS = 160;
const WORDS = 'ledger postgres rollout review friday grafana snapshot migration runbook owner budget launch'.split(' ');
const logger = pino({ level: 'silent' });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Mode = 'thread' | 'loop';
interface PassFigures {
  activeMs: number;
  stallMs: number;
  wallMs: number;
}

function message(session: number, item: number, sentences: number): string {
  return Array.from({ length: sentences }, (_, k) => `The ${WORDS[(item + k) % 12]} of ${WORDS[(session + k * 3) % 12]} item ${item} needs ${WORDS[(item * k) % 12]} by step ${k}.`).join(' ');
}

async function pass(mode: Mode, sentences: number, threads: ReturnType<typeof summaryThreads>): Promise<PassFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'brainstem-summary-pass-'));
  const store = openStore(dir, logger);
  const memory = new MemoryService({ store, limits: { maxMessageBytes: 32_768, maxItems: 200, maxTokens: 1_000_000 }, longTerm: true, snapshotIntervalMs: 60_000, now: Date.now, logger });
  for (let s = 0; s < SESSIONS; s++) {
    const key = `agent:main:bench-${s}`;
    for (let i = 0; i < ITEMS; i++) {
      const stored = store.transaction(() => {
        const { session } = store.sessions.ensure(key, 'main', Date.now());
        return store.transcript.append(session.key, session.sessionId, { role: i % 2 === 0 ? 'user' : 'assistant', content: message(s, i, sentences), timestamp: Date.now() }, undefined);
      });
      memory.appendMessage(stored);
    }
  }
  memory.flush();
  const manager = new MemoryManager({
    memory,
    summarizer: mode === 'thread' ? extractiveSummarizer(threads) : extractiveSummarizer(),
    policy: { summarizeAtPercent: 75, keepRecent: 20, staleAfterMs: 0, summaryMaxTokens: 400, transcriptRetentionDays: 0, summaryRetentionDays: 0 },
    intervalMs: 3_600_000,
    retentionIntervalMs: 3_600_000,
    now: Date.now,
    logger,
  });
  gc();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const made = await manager.runOnce();
  const wallMs = performance.now() - started;
  const activeMs = performance.eventLoopUtilization(elu).active;
  delay.disable();
  manager.close();
  memory.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  if (made !== SESSIONS) throw new Error(`expected ${SESSIONS} summaries, made ${made}`);
  return { activeMs, stallMs: delay.max / 1e6, wallMs };
}

const threads = summaryThreads();
console.log(`${SESSIONS} full contexts (${ITEMS} messages each), one summary each per pass; medians of ${ROUNDS} rounds, modes alternating`);
console.log('| sentences a message | drafted | event-loop time of the pass (ms) | longest stall (ms) | pass wall time (ms) |');
console.log('|---:|---|---:|---:|---:|');
for (const sentences of (values.sentences ?? '').split(',').map(Number)) {
  await pass('thread', sentences, threads); // starts the thread and loads its tokenizer
  const figures: Record<Mode, PassFigures[]> = { thread: [], loop: [] };
  for (let r = 0; r < ROUNDS; r++) for (const mode of ['loop', 'thread'] as const) figures[mode].push(await pass(mode, sentences, threads));
  for (const mode of ['loop', 'thread'] as const) {
    const of = (key: keyof PassFigures): number => round(median(figures[mode].map((f) => f[key])), 1);
    console.log(`| ${sentences} | ${mode === 'thread' ? 'in the summary thread' : 'on the event loop'} | ${of('activeMs')} | ${of('stallMs')} | ${of('wallMs')} |`);
  }
}
await threads.close();
