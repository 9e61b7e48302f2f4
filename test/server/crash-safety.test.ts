import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DATABASE_FILE, openStore } from '../../memory/store.js';
import type { MethodResult } from '../../protocol/registry.js';
import { planClient, isEvent } from '../helpers/agent-plan.js';
import { eventually } from '../helpers/jobs.js';
import { storeHistory } from '../helpers/memory-store.js';
import { RawClient, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runTurn } from '../helpers/turns.js';

const TOKEN = 'crash-token';
const CLIENTS = 8;
const TURNS_PER_CLIENT = 6;
/** Slow enough that runs are streaming (and queued behind them) when the process is killed. */
const CHUNK_DELAY_MS = '150';
/** The second task waits for approval (a durable hold), the third for the second: both are queued at the kill. */
const GOAL = 'Ship the release:\n1. research the release notes\n2. then get approval to deploy\n3. then announce the release';

type History = Extract<MethodResult<'chat.history'>, { messages: unknown[] }>;

async function history(client: RawClient, sessionKey: string): Promise<History['messages']> {
  const page = resultOf(await client.request('chat.history', { sessionKey, limit: 1000 }), 'chat.history');
  if (!('messages' in page)) throw new Error('expected a history page');
  return page.messages;
}

const runIdOf = (message: History['messages'][number]) => message.__openclaw?.runId;

describe('crash safety (SIGKILL under load, then restart on the same data dir)', () => {
  it('keeps every acknowledged turn once, reports cut-off runs as interrupted, never reruns a key, and completes the queued jobs', async () => {
    const dataDir = tempDir('brainstem-crash-');
    const args = ['--local-chunk-delay-ms', CHUNK_DELAY_MS, '--log-level', 'warn', '--lane-research-concurrency', '1'];
    const first = await spawnGateway({ dataDir, token: TOKEN, args });

    // A plan whose jobs are held and queued when the process dies.
    const planner = await planClient(first.url, TOKEN);
    await planner.request('chat.send', { sessionKey: 'crash-plan', message: GOAL, idempotencyKey: 'goal' });
    const plan = payloadOf(await planner.event('agent.plan', isEvent('agent.plan', 'goal'), 15_000), 'agent.plan');
    await planner.event('agent.blocked', isEvent('agent.blocked', 'goal'), 15_000);

    // Load: every client queues turns on its own session, acked one after the other, streamed slowly.
    const acked = new Map<string, string>();
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(first.url, { token: TOKEN })));
    await Promise.all(
      clients.map(async (client, c) => {
        for (let t = 0; t < TURNS_PER_CLIENT; t++) {
          const key = `crash-${c}-${t}`;
          const ack = await client.request('chat.send', { sessionKey: `crash-${c}`, message: `turn ${t} of client ${c}`, idempotencyKey: key });
          if (ack.ok === true) acked.set(key, `agent:main:crash-${c}`);
        }
      }),
    );
    // Some runs are streaming right now (an assistant chunk seen, no final yet).
    const streaming = (client: RawClient) => client.events('agent').some((f: Frame) => (f.payload as { stream: string }).stream === 'assistant');
    await eventually(() => clients.some(streaming), 10_000);
    first.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(acked.size).toBe(CLIENTS * TURNS_PER_CLIENT);

    const second = await spawnGateway({ dataDir, token: TOKEN, args });
    const client = await planClient(second.url, TOKEN);
    let interrupted = 0;
    for (const [key, sessionKey] of acked) {
      // Acknowledged means stored: the user turn is there, once.
      const before = await history(client, sessionKey);
      expect(before.filter((m) => m.role === 'user' && runIdOf(m) === key), key).toHaveLength(1);
      // Its run either finished before the kill or is reported interrupted — never left running.
      const wait = resultOf(await client.request('agent.wait', { runId: key, timeoutMs: 0 }), 'agent.wait');
      expect(['ok', 'error'], key).toContain(wait.status);
      if (wait.status === 'error') {
        interrupted += 1;
        expect(wait.stopReason, key).toBe('interrupted');
        expect(before.some((m) => m.role === 'assistant' && runIdOf(m) === key && m.stopReason === 'interrupted'), key).toBe(true);
      }
      // The same request again replays the ending; the turn does not run twice.
      const repeat = resultOf(await client.request('chat.send', { sessionKey, message: `turn ${key.split('-')[2]} of client ${key.split('-')[1]}`, idempotencyKey: key }), 'chat.send');
      expect(['ok', 'error'], key).toContain(repeat.status);
      const after = await history(client, sessionKey);
      expect(after.filter((m) => runIdOf(m) === key), key).toHaveLength(before.filter((m) => runIdOf(m) === key).length);
    }
    expect(interrupted).toBeGreaterThan(0);
    expect((await (await fetch(`http://127.0.0.1:${second.port}/status`)).json()) as { activeRuns: number }).toMatchObject({ activeRuns: 0 });

    // The plan's jobs survived the kill: one held for approval, one queued behind it. Approve; they complete.
    const tasksOf = async (): Promise<string[]> => {
      const status = resultOf(await client.request('agent.status', { runId: 'goal' }), 'agent.status');
      return status.runs[0]?.plan?.tasks.map((t) => t.state) ?? [];
    };
    expect(await tasksOf()).toEqual(['done', 'blocked', 'pending']);
    await client.request('agent.control', { action: 'resume', runId: 'goal' });
    const deadline = Date.now() + 15_000;
    while (!(await tasksOf()).every((state) => state === 'done')) {
      if (Date.now() > deadline) throw new Error(`plan tasks not done: ${JSON.stringify(await tasksOf())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The side-effecting job (the plan's results into memory, keyed by the plan) ran once.
    const docs = resultOf(await client.request('memory.query', { sessionKey: 'crash-plan', kinds: ['document'], limit: 200 }), 'memory.query');
    expect(docs.items.filter((item) => item.text.includes('Ship the release'))).toHaveLength(1);
    expect(plan.tasks).toHaveLength(3);
  }, 120_000);

  it('a session deleted just before a SIGKILL stays deleted: its purge goes on after the restart', async () => {
    const dataDir = tempDir('brainstem-crash-');
    const key = 'agent:main:doomed';
    // A long past, written before the gateway starts: its purge takes over a hundred batches.
    const store = openStore(dataDir);
    storeHistory(store, key, 20_000, 'archived line');
    store.transaction(() => store.memory.index.catchUp());
    store.close();
    const raw = new BetterSqlite3(join(dataDir, DATABASE_FILE));
    onTestFinished(() => {
      raw.close();
    });
    const left = (table: 'messages' | 'memory_items'): number =>
      raw.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE session_key = ?`).get(key)?.n ?? 0;

    const first = await spawnGateway({ dataDir, token: TOKEN });
    const admin = await RawClient.connect(first.url, { token: TOKEN, scopes: ['operator.admin'] });
    expect(resultOf(await admin.request('sessions.delete', { key: 'doomed' }), 'sessions.delete').deleted).toBe(true);
    first.kill('SIGKILL');
    await first.exited;
    // Answered before the first batch: most of it was still stored when the process died.
    expect(left('messages')).toBeGreaterThan(0);

    const second = await spawnGateway({ dataDir, token: TOKEN });
    const client = await RawClient.connect(second.url, { token: TOKEN, scopes: ['operator.admin'] });
    expect(resultOf(await client.request('memory.query', { sessionKey: 'doomed', limit: 10 }), 'memory.query').items).toEqual([]);
    expect(resultOf(await client.request('memory.query', { text: 'archived', limit: 10 }), 'memory.query').items).toEqual([]);
    await eventually(() => left('messages') === 0 && left('memory_items') === 0, 30_000);
    await runTurn(client, 'doomed', 'doomed-again', 'a new start');
    expect((await history(client, key)).map((m) => m.role)).toEqual(['user', 'assistant']);
  }, 60_000);
});
