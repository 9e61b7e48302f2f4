import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EXTRACTIVE_SUMMARY_THREAD, extractiveSummary, extractiveSummaryTask } from '../../memory/extractive-summary.js';
import { newMemoryId } from '../../memory/ids.js';
import { MemoryManager, RETENTION_BATCH, type MemoryManagerPolicy } from '../../workers/memory-manager.js';
import type { ContextItem, SummaryDraft } from '../../memory/memory-types.js';
import { ThreadPool } from '../../workers/pool/thread-pool.js';
import { extractiveSummarizer, providerSummarizer, summaryThreads, type Summarizer } from '../../workers/memory-summarizer.js';
import { createFailoverChain } from '../../workers/providers/factory.js';
import { createLocalProvider } from '../../workers/providers/local.js';
import { ProviderError } from '../../workers/providers/types.js';
import { memoryFixture, type MemoryFixture } from '../helpers/memory-store.js';
import { scriptedProvider } from '../helpers/scripted-provider.js';
import { turn } from '../helpers/memory-items.js';

const KEY = 'agent:main:mm';
const POLICY: MemoryManagerPolicy = { summarizeAtPercent: 50, keepRecent: 2, staleAfterMs: 0, summaryMaxTokens: 60, transcriptRetentionDays: 0, summaryRetentionDays: 0 };

function manager(f: MemoryFixture, policy: Partial<MemoryManagerPolicy> = {}, now: () => number = Date.now): MemoryManager {
  const m = new MemoryManager({ memory: f.memory, summarizer: extractiveSummarizer(), policy: { ...POLICY, ...policy }, intervalMs: 60_000, retentionIntervalMs: 60_000, now, logger: pino({ level: 'silent' }) });
  return m;
}

function contextOf(f: MemoryFixture) {
  return f.memory.context(KEY, f.store.sessions.get(KEY)?.sessionId ?? '');
}

describe('MemoryManager', () => {
  it('summarizes an over-budget context below half its threshold, keeping the newest items', async () => {
    const f = memoryFixture({ limits: { maxItems: 20 } });
    for (let i = 0; i < 12; i++) f.say(KEY, i % 2 ? 'assistant' : 'user', `Point ${i}: the rollout of service ${i % 3} needs review.`);
    expect(await manager(f).runOnce()).toBe(1);
    const context = contextOf(f);
    expect(context.size).toBeLessThanOrEqual(5);
    expect(context.items[0]?.kind).toBe('summary');
    expect(context.items.slice(-2).map((item) => item.text)).toEqual(['Point 10: the rollout of service 1 needs review.', 'Point 11: the rollout of service 2 needs review.']);
    expect(f.events.filter((e) => e.op === 'summarize')).toEqual([expect.objectContaining({ sessionKey: KEY, reason: 'over-budget', summaryId: context.items[0]?.id })]);
  });

  it('gives the event loop back during a pass over many full contexts, and summarizes them all', async () => {
    const f = memoryFixture({ limits: { maxItems: 100 } });
    const keys = Array.from({ length: 20 }, (_, i) => `agent:main:busy-${i}`);
    for (const key of keys) {
      for (let i = 0; i < 60; i++) f.say(key, i % 2 ? 'assistant' : 'user', `Point ${i} of ${key}: the rollout of service ${i % 7} needs a review before Friday.`);
    }
    const order: string[] = [];
    const pass = manager(f).runOnce();
    void pass.then(() => order.push('pass'));
    setImmediate(() => order.push('event loop'));
    expect(await pass).toBe(keys.length);
    // Twenty summaries take far longer than PASS_SLICE_MS: the pass let the loop run before it ended.
    expect(order[0]).toBe('event loop');
  });

  it('leaves a context under its threshold alone, and never summarizes what a run holds', async () => {
    const f = memoryFixture({ limits: { maxItems: 20 } });
    for (let i = 0; i < 4; i++) f.say(KEY, 'user', `small ${i}`);
    expect(await manager(f).runOnce()).toBe(0);
    for (let i = 4; i < 12; i++) f.say(KEY, 'user', `more ${i}`);
    const lease = contextOf(f).lease(undefined);
    expect(await manager(f).runOnce()).toBe(0);
    lease.release();
    expect(await manager(f).runOnce()).toBe(1);
  });

  it('summarizes a stale context even under budget', async () => {
    const f = memoryFixture();
    for (let i = 0; i < 5; i++) f.say(KEY, 'user', `note ${i} about the garden shed`);
    const later = () => Date.now() + 7_000;
    expect(await manager(f, { staleAfterMs: 5_000 }, later).runOnce()).toBe(1);
    expect(f.events.at(-1)).toMatchObject({ op: 'summarize', reason: 'stale' });
    const kept = contextOf(f).items.map((item) => item.id);
    expect(kept).toHaveLength(3);
    const muchLater = () => Date.now() + 60_000;
    await manager(f, { staleAfterMs: 5_000 }, muchLater).runOnce();
    expect(f.memory.contexts()).toEqual([]);
    expect(contextOf(f).items.map((item) => item.id)).toEqual(kept);
  });

  it('stores nothing of a summary drafted while its session was deleted', async () => {
    const f = memoryFixture({ limits: { maxItems: 20 } });
    for (let i = 0; i < 12; i++) f.say(KEY, 'user', `secret ${i} of a session about to go`);
    let draftAsked = (): void => {};
    const asked = new Promise<void>((resolve) => (draftAsked = resolve));
    let answer = (_: SummaryDraft): void => {};
    const slow: Summarizer = {
      kind: 'provider',
      summarize: () => {
        draftAsked();
        return new Promise<SummaryDraft>((resolve) => (answer = resolve));
      },
    };
    const m = new MemoryManager({ memory: f.memory, summarizer: slow, policy: POLICY, intervalMs: 60_000, retentionIntervalMs: 60_000, now: Date.now, logger: pino({ level: 'silent' }) });
    const pass = m.runOnce();
    await asked;
    f.memory.discard(KEY);
    answer({ text: 'the secrets, summarized', method: 'provider', model: 'm' });
    await pass;
    f.memory.flush();
    expect(f.api.query({ kinds: ['summary'], limit: 50 }, undefined).items).toEqual([]);
    expect(f.events.filter((e) => e.op === 'summarize')).toEqual([]);
  });

  it('retention purges turns that left the context long ago and keeps summaries forever by default', async () => {
    const f = memoryFixture({ limits: { maxItems: 20 } });
    for (let i = 0; i < 12; i++) f.say(KEY, 'user', `old fact ${i} about invoices`);
    await manager(f).runOnce();
    const inFuture = () => Date.now() + 3 * 86_400_000;
    expect(await manager(f, { transcriptRetentionDays: 1 }, inFuture).applyRetention()).toBeGreaterThan(0);
    expect(f.api.query({ kinds: ['turn'], limit: 50 }, undefined).items.every((item) => item.state === 'active')).toBe(true);
    expect(f.api.query({ kinds: ['summary'], limit: 50 }, undefined).items).toHaveLength(1);
    expect(f.events.at(-1)).toMatchObject({ op: 'forget', reason: 'retention' });
  });
});

describe('retention', () => {
  const DAY = 86_400_000;

  /** Stores turns of KEY that left the context `daysAgo` days ago (created a year ago). */
  function leftAgo(f: MemoryFixture, count: number, daysAgo: number): string[] {
    const { session } = f.store.sessions.ensure(KEY, 'main', Date.now());
    const created = Date.now() - 365 * DAY;
    const ids = Array.from({ length: count }, () => newMemoryId(created));
    f.store.transaction(() => {
      for (const id of ids) {
        f.store.memory.items.insert({ id, sessionKey: KEY, sessionId: session.sessionId, kind: 'turn', role: 'user', text: `old ${id}`, tokens: 2, state: 'evicted', createdAt: created, updatedAt: Date.now() - daysAgo * DAY, summarizedBy: undefined, summaryOf: undefined, document: undefined });
      }
    });
    return ids;
  }

  const states = (f: MemoryFixture, ids: string[]): string[] => [...new Set(f.store.memory.items.many(ids).map((item) => item.state))];

  it('counts from the time an item left the context, not from when it was made', async () => {
    const f = memoryFixture();
    const longGone = leftAgo(f, 3, 10);
    const justLeft = leftAgo(f, 3, 1);
    expect(await manager(f, { transcriptRetentionDays: 7 }).applyRetention()).toBe(3);
    expect(states(f, longGone)).toEqual(['forgotten']);
    expect(states(f, justLeft)).toEqual(['evicted']);
  });

  it('purges everything expired in one pass, batch after batch', async () => {
    const f = memoryFixture();
    const ids = leftAgo(f, RETENTION_BATCH * 2 + 7, 30);
    const forgets: number[] = [];
    f.memory.on((event) => event.op === 'forget' && forgets.push(event.ids.length));
    expect(await manager(f, { transcriptRetentionDays: 7 }).applyRetention()).toBe(ids.length);
    expect(states(f, ids)).toEqual(['forgotten']);
    expect(forgets).toEqual([RETENTION_BATCH, RETENTION_BATCH, 7]);
  });
});

describe('providerSummarizer', () => {
  it('uses the provider\'s text, and falls back to the extractive summary when the provider fails', async () => {
    const items = [turn('We chose Postgres for the ledger.'), turn('Agreed, Postgres it is.', 'assistant')];
    const logger = pino({ level: 'silent' });
    const good = providerSummarizer({ provider: scriptedProvider('p', [{ texts: ['Ledger on ', 'Postgres.'] }]), model: 'm', timeoutMs: 5_000, logger });
    expect(await good.summarize(items, 50, new AbortController().signal)).toEqual({ text: 'Ledger on Postgres.', method: 'provider', model: 'm' });
    const bad = providerSummarizer({ provider: scriptedProvider('p', [{ error: new ProviderError('server', 'boom') }]), model: 'm', timeoutMs: 5_000, logger });
    expect(await bad.summarize(items, 50, new AbortController().signal)).toMatchObject({ method: 'extractive', text: expect.stringContaining('Postgres') });
  });

  it('names the model that answered, and takes no summary from the local echo a failover chain falls back to', async () => {
    const items = [turn('We chose Postgres for the ledger.'), turn('Agreed, Postgres it is.', 'assistant')];
    const logger = pino({ level: 'silent' });
    const down = scriptedProvider('primary', [{ error: new ProviderError('server', 'boom') }]);
    const backup = scriptedProvider('backup', [{ texts: ['Ledger on Postgres.'] }]);
    const toBackup = createFailoverChain([{ provider: down, model: 'big' }, { provider: backup, model: 'small' }]);
    expect(await providerSummarizer({ provider: toBackup, model: 'big', timeoutMs: 5_000, logger }).summarize(items, 50, new AbortController().signal)).toEqual({ text: 'Ledger on Postgres.', method: 'provider', model: 'small' });
    const stillDown = scriptedProvider('primary', [{ error: new ProviderError('server', 'boom') }]);
    const toLocal = createFailoverChain([{ provider: stillDown, model: 'big' }, { provider: createLocalProvider(), model: 'local-echo' }]);
    expect(await providerSummarizer({ provider: toLocal, model: 'big', timeoutMs: 5_000, logger }).summarize(items, 50, new AbortController().signal)).toMatchObject({ method: 'extractive', text: expect.stringContaining('Postgres') });
  });
});

describe('extractiveSummarizer', () => {
  const sentences = ['The ledger moves to Postgres on Friday.', 'Ana owns the migration runbook.', 'Rollback needs a snapshot first.', 'Metrics stay on Grafana.'];
  const full = Array.from({ length: 150 }, (_, i) => turn(`${sentences[i % 4]} Step ${i} of the plan is checked by team ${i % 7}.`, i % 2 ? 'assistant' : 'user'));
  const local = (items: readonly ContextItem[]): string => extractiveSummary(items.map((item) => ({ role: item.role, text: item.text })), { maxTokens: 80 });

  it('drafts a full context in the thread, with the text drafted on the event loop, and a small one here', async () => {
    const threads = summaryThreads();
    onTestFinished(() => threads.close());
    const summarizer = extractiveSummarizer(threads);
    const small = full.slice(0, 3);
    expect(await summarizer.summarize(small, 80, new AbortController().signal)).toEqual({ text: local(small), method: 'extractive' });
    expect(threads.threads).toBe(0);
    expect(await summarizer.summarize(full, 80, new AbortController().signal)).toEqual({ text: local(full), method: 'extractive' });
    expect(threads.threads).toBe(1);
  });

  it('drafts on the event loop when the thread fails or the call is aborted: it never fails', async () => {
    const threads = summaryThreads();
    await threads.close();
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    expect(await extractiveSummarizer(threads, logger).summarize(full, 80, new AbortController().signal)).toEqual({ text: local(full), method: 'extractive' });
    expect(warnings).toEqual([expect.objectContaining({ msg: 'summary thread failed; drafting on the event loop', items: 150 })]);
    const running = summaryThreads();
    onTestFinished(() => running.close());
    const controller = new AbortController();
    const draft = extractiveSummarizer(running, logger).summarize(full, 80, controller.signal);
    controller.abort();
    expect(await draft).toEqual({ text: local(full), method: 'extractive' });
    expect(warnings).toHaveLength(1);
  });

  it('warns once, not at every summary, when the thread cannot load its function', async () => {
    const threads = new ThreadPool(extractiveSummaryTask, 1, { module: { ...EXTRACTIVE_SUMMARY_THREAD, name: 'missing' } });
    onTestFinished(() => threads.close());
    const warnings: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { msg: string }) });
    const summarizer = extractiveSummarizer(threads, logger);
    for (let i = 0; i < 3; i += 1) {
      expect(await summarizer.summarize(full, 80, new AbortController().signal)).toEqual({ text: local(full), method: 'extractive' });
    }
    expect(warnings.map((warning) => warning.msg)).toEqual(['summary thread failed; drafting on the event loop']);
    expect(threads.threads).toBe(0);
  });
});
