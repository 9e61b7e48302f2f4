import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../memory/store.js';
import { messageText } from '../../memory/transcript-store.js';
import type { ChatMessage } from '../../protocol/schema.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawClient, resultOf, type Frame } from '../helpers/raw-client.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isChat, roundTrip, runIdOf, runTurn } from '../helpers/turns.js';

async function connect(gw: { url: string; token: string | undefined }): Promise<RawClient> {
  return RawClient.connect(gw.url, { token: gw.token });
}

/** The live transcript of a session as `role(runId): text` lines, with `[stopReason]` for non-stop endings. */
async function transcript(client: RawClient, sessionKey: string): Promise<string[]> {
  const history = resultOf(await client.request('chat.history', { sessionKey }), 'chat.history');
  if (!('messages' in history) || !('sessionKey' in history)) throw new Error(`unexpected history: ${JSON.stringify(history)}`);
  return history.messages.map((m: ChatMessage) => {
    const reason = m.stopReason === undefined || m.stopReason === 'stop' ? '' : ` [${m.stopReason}]`;
    return `${m.role}(${m.__openclaw?.runId ?? '-'}): ${messageText(m)}${reason}`;
  });
}

async function sessionRows(client: RawClient): Promise<Record<string, { messageCount: number; hasActiveRun: boolean }>> {
  const list = resultOf(await client.request('sessions.list', {}), 'sessions.list');
  return Object.fromEntries(list.sessions.map((s) => [s.key, { messageCount: s.messageCount, hasActiveRun: s.hasActiveRun }]));
}

const echo = (text: string): string => `${LOCAL_REPLY_PREFIX}${text}`;
const isAgent = (runId: string, stream: string) => (f: Frame): boolean => runIdOf(f) === runId && (f.payload as { stream?: string }).stream === stream;

describe('restart on the same data dir', () => {
  describe('after a graceful stop', () => {
    it('shows every acked turn in chat.history and sessions.list', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const first = await startTestGateway({ dataDir });
      const before = await connect(first);
      await runTurn(before, 'main', 'r1', 'first message');
      await runTurn(before, 'main', 'r2', 'second message');
      await runTurn(before, 'work', 'w1', 'over in work');
      await first.close();

      const second = await startTestGateway({ dataDir });
      const after = await connect(second);
      expect(await transcript(after, 'main')).toEqual([
        'user(r1): first message',
        `assistant(r1): ${echo('first message')}`,
        'user(r2): second message',
        `assistant(r2): ${echo('second message')}`,
      ]);
      expect(await transcript(after, 'work')).toEqual(['user(w1): over in work', `assistant(w1): ${echo('over in work')}`]);
      expect(await sessionRows(after)).toEqual({
        'agent:main:main': { messageCount: 4, hasActiveRun: false },
        'agent:main:work': { messageCount: 2, hasActiveRun: false },
      });
    });

    it('stores a run cut off by the stop as interrupted, never as running', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const first = await startTestGateway({ dataDir, config: { localChunkDelayMs: 300, shutdownGraceMs: 0 } });
      const before = await connect(first);
      resultOf(await before.request('chat.send', { sessionKey: 'main', message: 'cut me off', idempotencyKey: 'cut' }), 'chat.send');
      await before.event('agent', isAgent('cut', 'assistant'));
      await first.close();

      const second = await startTestGateway({ dataDir });
      const after = await connect(second);
      const wait = resultOf(await after.request('agent.wait', { runId: 'cut', timeoutMs: 0 }), 'agent.wait');
      expect(wait).toMatchObject({ runId: 'cut', status: 'error', stopReason: 'interrupted' });
      expect(second.store.runs.open()).toEqual([]);
      expect(resultOf(await after.request('chat.send', { sessionKey: 'main', message: 'cut me off', idempotencyKey: 'cut' }), 'chat.send')).toEqual({
        runId: 'cut',
        status: 'error',
        summary: 'interrupted',
      });
    });

    it('stores every turn being accepted or queued when the stop comes, and its ending, before the store closes', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const errors: string[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
      // One run at a time, so that the turns accepted below would queue behind each other.
      const first = await startTestGateway({ dataDir, logger, config: { maxConcurrentRuns: 1 } });
      const keys = ['a', 'b', 'c', 'd'];
      // Submitted and not awaited: their accepts are waiting for the group commit when the stop begins.
      const submitted = keys.map((key) =>
        first.gateway.services.turns.submit({ kind: 'chat', idempotencyKey: `run-${key}`, sessionKey: `agent:main:${key}`, agentId: 'main', message: `to ${key}`, queueMode: 'followup' }),
      );
      await first.close();

      expect((await Promise.all(submitted)).map((outcome) => outcome.kind)).toEqual(['started', 'started', 'started', 'started']);
      expect(errors).toEqual([]);
      // Read before a restart, which would mark whatever was left open as interrupted.
      const store = openStore(dataDir);
      const runs = keys.map((key) => store.runs.get(`run-${key}`)?.status);
      store.close();
      expect(runs).toEqual(['interrupted', 'interrupted', 'interrupted', 'interrupted']);
    });

    it('stops on SIGTERM under load with no warning or error logged and no run left open', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const token = 'sigterm-token';
      const gw = await spawnGateway({ dataDir, token, args: ['--log-level', 'warn', '--max-concurrent-runs', '2'] });
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(gw.url, { token })));
      // Each client pipelines turns over five sessions without waiting for acks: accepts in flight, runs queued.
      clients.forEach((client, c) => {
        for (let t = 0; t < 25; t++) {
          client.ws.send(JSON.stringify({ type: 'req', id: `${c}-${t}`, method: 'chat.send', params: { sessionKey: `s-${c}-${t % 5}`, message: `turn ${t}`, idempotencyKey: `k-${c}-${t}` } }));
        }
      });
      await (clients[0] as RawClient).next((f) => f.type === 'res');
      gw.kill('SIGTERM');
      expect(await gw.exited).toMatchObject({ code: 0 });
      expect([...gw.stdout, ...gw.stderr].filter((line) => /"level":(40|50|60)/.test(line))).toEqual([]);
      // Read before a restart, which would mark whatever was left open as interrupted.
      const store = openStore(dataDir);
      const open = store.runs.open().map((run) => run.runId);
      store.close();
      expect(open).toEqual([]);
    });
  });

  describe('idempotency', () => {
    it('replays a finished key from before the restart and refuses the key with other input', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const first = await startTestGateway({ dataDir });
      const send = { sessionKey: 'main', message: 'only once', idempotencyKey: 'once' };
      await runTurn(await connect(first), 'main', 'once', 'only once');
      await first.close();

      const second = await startTestGateway({ dataDir });
      const after = await connect(second);
      expect(resultOf(await after.request('chat.send', send), 'chat.send')).toEqual({ runId: 'once', status: 'ok' });
      const conflict = await after.request('chat.send', { ...send, message: 'something else' });
      expect(conflict.error).toMatchObject({ code: 'INVALID_REQUEST', details: { reason: 'chat-request-conflict' } });
      await roundTrip(after);
      expect(after.events('agent').filter((f) => runIdOf(f) === 'once')).toEqual([]);
      expect(await transcript(after, 'main')).toEqual(['user(once): only once', `assistant(once): ${echo('only once')}`]);
    });
  });

  describe('after kill -9', () => {
    it('keeps every acked turn and reports the runs it cut off as interrupted, running none of them again', async () => {
      const dataDir = tempDir('brainstem-restart-');
      const killed = await spawnGateway({ dataDir, args: ['--local-chunk-delay-ms', '500', '--log-level', 'warn'] });
      const before = await connect(killed);
      const sends = [
        { sessionKey: 'main', message: 'streaming when killed', idempotencyKey: 'm1' },
        { sessionKey: 'main', message: 'queued when killed', idempotencyKey: 'm2' },
        { sessionKey: 'work', message: 'also streaming', idempotencyKey: 'w1' },
      ];
      for (const send of sends) expect(resultOf(await before.request('chat.send', send), 'chat.send').status).toBe('started');
      await before.event('agent', isAgent('m1', 'assistant'));
      // m1 is mid-stream (4 chunks, 500 ms apart) and m2 has not started.
      expect(before.events('chat').filter(isChat('m1', 'final'))).toEqual([]);
      expect(before.events('agent').filter((f) => runIdOf(f) === 'm2')).toEqual([]);
      killed.kill('SIGKILL');
      expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const restarted: TestGateway = await startTestGateway({ dataDir, token: killed.token });
      const after = await connect(restarted);
      const interrupted = (runId: string): string => `assistant(${runId}):  [interrupted]`;
      expect(await transcript(after, 'main')).toEqual(['user(m1): streaming when killed', 'user(m2): queued when killed', interrupted('m1'), interrupted('m2')]);
      expect(await transcript(after, 'work')).toEqual(['user(w1): also streaming', interrupted('w1')]);

      for (const runId of ['m1', 'm2', 'w1']) {
        const wait = resultOf(await after.request('agent.wait', { runId, timeoutMs: 1_000 }), 'agent.wait');
        expect(wait, runId).toMatchObject({ runId, status: 'error', stopReason: 'interrupted' });
      }
      for (const send of sends) {
        const again = resultOf(await after.request('chat.send', send), 'chat.send');
        expect(again, send.idempotencyKey).toEqual({ runId: send.idempotencyKey, status: 'error', summary: 'interrupted' });
      }
      await roundTrip(after);
      expect(after.events('agent')).toEqual([]);
      expect(after.events('chat')).toEqual([]);
      expect(await transcript(after, 'main')).toHaveLength(4);

      const status = (await (await fetch(`http://127.0.0.1:${restarted.port}/status`)).json()) as { activeRuns: number; queuedRuns: number };
      expect(status).toMatchObject({ activeRuns: 0, queuedRuns: 0 });
      expect(await sessionRows(after)).toEqual({
        'agent:main:main': { messageCount: 4, hasActiveRun: false },
        'agent:main:work': { messageCount: 2, hasActiveRun: false },
      });
    });
  });
});
