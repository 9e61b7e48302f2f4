import { describe, expect, it } from 'vitest';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf, type ConnectOptions, type Frame } from '../helpers/raw-client.js';
import { isChat, roundTrip, runIdOf, runTurn } from '../helpers/turns.js';

const READ = 'operator.read';
const WRITE = 'operator.write';

function connect(gw: TestGateway, options: ConnectOptions = {}): Promise<RawClient> {
  return RawClient.connect(gw.url, { token: TEST_TOKEN, ...options });
}

const isFinal = (runId: string) => isChat(runId, 'final');

function runEvents(client: RawClient, runId: string): Frame[] {
  return client.frames.filter((f) => f.type === 'event' && (f.event === 'chat' || f.event === 'agent') && runIdOf(f) === runId);
}

describe('broadcast', () => {
  describe('chat and agent events', () => {
    it('reach every read-scoped operator, also for a run another client started', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const reader = await connect(gw, { scopes: [READ] });
      const admin = await connect(gw, { scopes: ['operator.admin'] });
      await runTurn(sender, 'main', 'shared-run');
      for (const other of [reader, admin]) {
        const final = payloadOf(await other.event('chat', isFinal('shared-run')), 'chat');
        expect(final).toMatchObject({ runId: 'shared-run', sessionKey: 'agent:main:main', state: 'final' });
        const agent = other.events('agent').map((f) => payloadOf(f, 'agent')).filter((a) => a.runId === 'shared-run');
        expect(agent[0]).toMatchObject({ stream: 'lifecycle', data: { phase: 'start' } });
        await other.event('agent', (f) => runIdOf(f) === 'shared-run' && (f.payload as { data: { phase?: string } }).data.phase === 'end');
      }
      // Everyone saw the same run stream.
      const shape = (c: RawClient) => runEvents(c, 'shared-run').map((f) => `${f.event}:${(f.payload as { seq: number }).seq}`);
      expect(shape(reader)).toEqual(shape(sender));
      expect(shape(admin)).toEqual(shape(sender));
    });

    it('never reach a client without scopes, which still gets tick and health', async () => {
      // Presence is sent at once (no debounce) so the contrast below does not depend on timing.
      const gw = await startTestGateway({ config: { tickIntervalMs: 50, healthIntervalMs: 50, presenceDebounceMs: 0 } });
      const blind = await connect(gw, { scopes: [] });
      const sender = await connect(gw, { scopes: [WRITE] });
      await runTurn(sender, 'main', 'hidden-run');
      await blind.event('tick', () => true, 2_000);
      await blind.event('health', () => true, 2_000);
      await roundTrip(blind);
      const names = new Set(blind.events().map((f) => f.event));
      expect([...names].sort()).toEqual(['connect.challenge', 'health', 'tick']);
      expect(payloadOf(await blind.event('tick'), 'tick').ts).toBeGreaterThan(0);
      // The writer, for contrast, saw presence and its own run.
      expect(sender.events('presence').length).toBeGreaterThan(0);
      expect(runEvents(sender, 'hidden-run').length).toBeGreaterThan(0);
    });

    it('reach a session-scoped-events client only for sessions it subscribed to, until it unsubscribes', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const scoped = await connect(gw, { scopes: [READ], caps: ['session-scoped-events'] });
      const sub = resultOf(await scoped.request('sessions.messages.subscribe', { key: 'alpha' }), 'sessions.messages.subscribe');
      expect(sub).toEqual({ subscribed: true, key: 'agent:main:alpha' });

      await runTurn(sender, 'alpha', 'in-alpha');
      await runTurn(sender, 'beta', 'in-beta');
      await scoped.event('chat', isFinal('in-alpha'));
      await roundTrip(scoped);
      expect(runEvents(scoped, 'in-alpha').length).toBe(runEvents(sender, 'in-alpha').length);
      expect(runEvents(scoped, 'in-beta')).toEqual([]);

      const unsub = resultOf(await scoped.request('sessions.messages.unsubscribe', { key: 'agent:main:alpha' }), 'sessions.messages.unsubscribe');
      expect(unsub).toEqual({ subscribed: false, key: 'agent:main:alpha' });
      await runTurn(sender, 'alpha', 'after-unsub');
      await roundTrip(scoped);
      expect(runEvents(scoped, 'after-unsub')).toEqual([]);
    });
  });

  describe('a session\'s extension events (memory.event, agent.plan)', () => {
    it('reach a session-scoped-events client only for sessions it subscribed to; others get them all', async () => {
      const gw = await startTestGateway({ config: { memoryMaxItems: 3 } });
      const caps = ['memory.v1', 'agent.plan.v1'];
      const sender = await connect(gw, { scopes: [WRITE], caps });
      const scoped = await connect(gw, { scopes: [READ], caps: [...caps, 'session-scoped-events'] });
      const dashboard = await connect(gw, { scopes: [READ], caps });
      await scoped.request('sessions.messages.subscribe', { key: 'alpha' });
      for (const key of ['beta', 'alpha']) {
        await runTurn(sender, key, `${key}-1`, '1. look up the runbook\n2. check the disk');
        await runTurn(sender, key, `${key}-2`);
      }
      const keyOf = (f: Frame) => (f.payload as { sessionKey: string }).sessionKey;
      const isEvict = (key: string) => (f: Frame) => (f.payload as { op: string }).op === 'evict' && keyOf(f) === key;
      await scoped.event('memory.event', isEvict('agent:main:alpha'));
      await scoped.event('agent.plan', (f) => keyOf(f) === 'agent:main:alpha');
      await dashboard.event('memory.event', isEvict('agent:main:beta'));
      await dashboard.event('agent.plan', (f) => keyOf(f) === 'agent:main:beta');
      await roundTrip(scoped);
      const seen = scoped.frames.filter((f) => f.event === 'memory.event' || f.event?.startsWith('agent.') === true).map(keyOf);
      expect(seen.filter((key) => key !== '*' && key !== 'agent:main:alpha')).toEqual([]);
    });
  });

  describe('chat and agent events for a subscribed firehose client', () => {
    it('arrive exactly once when a read client without the cap also subscribed to the session', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const both = await connect(gw, { scopes: [READ] });
      await both.request('sessions.messages.subscribe', { key: 'main' });
      await runTurn(sender, 'main', 'once');
      await both.event('chat', isFinal('once'));
      await roundTrip(both);
      const seqs = runEvents(both, 'once').map((f) => `${f.event}:${(f.payload as { seq: number }).seq}:${(f.payload as { state?: string }).state ?? ''}`);
      expect(seqs).toEqual([...new Set(seqs)]);
      expect(seqs).toEqual(runEvents(sender, 'once').map((f) => `${f.event}:${(f.payload as { seq: number }).seq}:${(f.payload as { state?: string }).state ?? ''}`));
    });

    it('stop for a subscriber that left, without disturbing the others', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const leaver = await connect(gw, { scopes: [READ], caps: ['session-scoped-events'] });
      const stayer = await connect(gw, { scopes: [READ], caps: ['session-scoped-events'] });
      for (const c of [leaver, stayer]) await c.request('sessions.messages.subscribe', { key: 'main' });
      leaver.close();
      await leaver.waitClose();
      await runTurn(sender, 'main', 'after-leave');
      await stayer.event('chat', isFinal('after-leave'));
      expect(resultOf(await sender.request('status', {}), 'status')).toMatchObject({ connections: 2 });
    });
  });

  it('sessions.messages.subscribe holds at most maxSubscriptionsPerConnection sessions per connection', async () => {
    const gw = await startTestGateway({ config: { maxSubscriptionsPerConnection: 2 } });
    const c = await connect(gw, { scopes: [READ], caps: ['session-scoped-events'] });
    for (const key of ['a', 'b', 'a']) expect((await c.request('sessions.messages.subscribe', { key })).ok).toBe(true);
    const refused = await c.request('sessions.messages.subscribe', { key: 'c' });
    expect(refused.error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'too many session subscriptions on this connection (limit 2); unsubscribe from one first',
      details: { code: 'SUBSCRIPTION_LIMIT', limit: 2 },
    });
    await c.request('sessions.messages.unsubscribe', { key: 'a' });
    expect((await c.request('sessions.messages.subscribe', { key: 'c' })).ok).toBe(true);
  });

  describe('sessions.changed', () => {
    it('goes only to sessions.subscribe-rs', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const subscriber = await connect(gw, { scopes: [READ] });
      const bystander = await connect(gw, { scopes: [READ] });
      expect(resultOf(await subscriber.request('sessions.subscribe', {}), 'sessions.subscribe')).toEqual({ subscribed: true });

      await runTurn(sender, 'fresh', 'changed-run');
      const created = payloadOf(await subscriber.event('sessions.changed', (f) => (f.payload as { reason: string }).reason === 'created'), 'sessions.changed');
      expect(created).toMatchObject({ sessionKey: 'agent:main:fresh', agentId: 'main', reason: 'created', session: { key: 'agent:main:fresh' } });
      const updated = payloadOf(await subscriber.event('sessions.changed', (f) => (f.payload as { reason: string }).reason === 'updated'), 'sessions.changed');
      expect(updated.session).toMatchObject({ key: 'agent:main:fresh', messageCount: 2, hasActiveRun: false });

      await roundTrip(bystander);
      await roundTrip(sender);
      expect(bystander.events('sessions.changed')).toEqual([]);
      expect(sender.events('sessions.changed')).toEqual([]);
    });

    it('stops after sessions.unsubscribe', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const subscriber = await connect(gw, { scopes: [READ] });
      await subscriber.request('sessions.subscribe', {});
      expect(resultOf(await subscriber.request('sessions.unsubscribe', {}), 'sessions.unsubscribe')).toEqual({ subscribed: false });
      await runTurn(sender, 'quiet', 'quiet-run');
      await roundTrip(subscriber);
      expect(subscriber.events('sessions.changed')).toEqual([]);
    });
  });

  describe('session.message', () => {
    it('goes only to subscribers of that session, for the user and the assistant message', async () => {
      const gw = await startTestGateway();
      const sender = await connect(gw, { scopes: [WRITE] });
      const watcher = await connect(gw, { scopes: [READ] });
      await watcher.request('sessions.messages.subscribe', { key: 'watched' });

      await runTurn(sender, 'watched', 'watched-run', 'watch me');
      await runTurn(sender, 'unwatched', 'unwatched-run');
      await watcher.event('session.message', (f) => (f.payload as { message: { role: string } }).message.role === 'assistant');
      await roundTrip(watcher);
      await roundTrip(sender);

      const messages = watcher.events('session.message').map((f) => payloadOf(f, 'session.message'));
      expect(messages.map((m) => [m.sessionKey, m.message.role, m.messageSeq, m.runId])).toEqual([
        ['agent:main:watched', 'user', 1, 'watched-run'],
        ['agent:main:watched', 'assistant', 2, 'watched-run'],
      ]);
      expect(messages[0]?.message.content).toBe('watch me');
      expect(messages[1]?.message.content).toEqual([{ type: 'text', text: `${LOCAL_REPLY_PREFIX}watch me` }]);
      for (const m of messages) {
        expect(m.messageId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(m.message.__openclaw).toMatchObject({ id: m.messageId, seq: m.messageSeq });
      }
      expect(sender.events('session.message')).toEqual([]);
    });

    it('carries chat.inject messages to subscribers', async () => {
      const gw = await startTestGateway();
      const admin = await connect(gw, { scopes: ['operator.admin'] });
      const watcher = await connect(gw, { scopes: [READ] });
      await watcher.request('sessions.messages.subscribe', { key: 'main' });
      const injected = resultOf(await admin.request('chat.inject', { sessionKey: 'main', message: 'note' }), 'chat.inject');
      const event = payloadOf(await watcher.event('session.message'), 'session.message');
      expect(event).toMatchObject({ sessionKey: 'agent:main:main', messageId: injected.messageId, message: { role: 'assistant' } });
    });
  });

  describe('presence', () => {
    it('announces a connect and a leave to read-scoped clients with an increasing stateVersion.presence', async () => {
      const gw = await startTestGateway();
      const observer = await connect(gw, { scopes: [READ] });
      const own = await observer.event('presence');
      const before = own.stateVersion?.presence ?? -1;

      const visitor = await connect(gw, { scopes: [READ], client: { instanceId: 'visitor-1' } });
      const joined = await observer.event('presence', (f) => (f.stateVersion?.presence ?? 0) > before);
      const withVisitor = payloadOf(joined, 'presence').presence;
      expect(withVisitor.find((p) => p.instanceId === 'visitor-1')).toMatchObject({ clientId: 'test', mode: 'test', reason: 'connect', scopes: [READ] });
      expect(withVisitor.find((p) => p.reason === 'self')).toMatchObject({ mode: 'gateway' });

      visitor.close();
      await visitor.waitClose();
      const joinedVersion = joined.stateVersion?.presence ?? 0;
      const left = await observer.event('presence', (f) => (f.stateVersion?.presence ?? 0) > joinedVersion);
      expect(payloadOf(left, 'presence').presence.some((p) => p.instanceId === 'visitor-1')).toBe(false);
      expect(left.stateVersion).toMatchObject({ presence: joinedVersion + 1 });
    });
  });

  describe('seq', () => {
    it('numbers the events of each connection 1, 2, 3 ... on its own', async () => {
      // Presence at once, so every client has events (and gaps would show) without waiting for the debounce.
      const gw = await startTestGateway({ config: { presenceDebounceMs: 0 } });
      const early = await connect(gw, { scopes: [WRITE] });
      await runTurn(early, 'main', 'seq-1');
      const late = await connect(gw, { scopes: [READ] });
      const scoped = await connect(gw, { scopes: [READ], caps: ['session-scoped-events'] });
      await runTurn(early, 'main', 'seq-2');
      await late.event('chat', isFinal('seq-2'));
      for (const c of [early, late, scoped]) {
        await roundTrip(c);
        const seqs = c.events().filter((f) => f.event !== 'connect.challenge').map((f) => f.seq);
        expect(seqs.length).toBeGreaterThan(0);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
      // The early client has seen more events than the late one: the counters are not shared.
      expect(early.events().length).toBeGreaterThan(late.events().length);
      expect(late.events().find((f) => f.event !== 'connect.challenge')?.seq).toBe(1);
    });

    it('starts again at 1 on a new connection', async () => {
      const gw = await startTestGateway();
      const first = await connect(gw, { scopes: [READ] });
      await first.event('presence');
      first.close();
      await first.waitClose();
      const second = await connect(gw, { scopes: [READ] });
      expect((await second.event('presence')).seq).toBe(1);
    });
  });

  describe('shutdown', () => {
    it('sends shutdown, then closes 1012 "service restart", to every client', async () => {
      const gw = await startTestGateway();
      const reader = await connect(gw, { scopes: [READ] });
      const blind = await connect(gw, { scopes: [] });
      await gw.gateway.close('maintenance');
      for (const c of [reader, blind]) {
        expect(await c.waitClose()).toEqual({ code: 1012, reason: 'service restart' });
        const last = c.frames.at(-1) as Frame;
        expect(payloadOf(last, 'shutdown')).toEqual({ reason: 'maintenance' });
        expect(last.seq).toBe((c.frames.at(-2)?.seq ?? 0) + 1);
      }
    });
  });
});
