/**
 * Issue 4 over the wire: a real identity service on a temp workspace behind a running gateway whose model is
 * the OpenAI-compatible mock (which records the system prompt it was sent), and the CLI's first run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { createIdentityService, EXAMPLE_FILES, type IdentityPacket, type LiveIdentityService } from '../../identity/index.js';
import { makeTempWorkspace } from '../helpers/identity-workspace.js';
import type { MockScript } from '../helpers/mock-http-server.js';
import { openaiScript, startMockOpenAI } from '../helpers/mock-openai.js';
import { modelOn, startModelGateway } from '../helpers/model-gateway.js';
import { VENDORS } from '../helpers/provider-vendors.js';
import { RawClient, resultOf } from '../helpers/raw-client.js';
import { chatTurn } from '../helpers/run-outcome.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const openai = VENDORS.find((v) => v.name === 'openai')!;

const SOUL_ALPHA = '---\nname: Alpha\nemoji: 🅰️\n---\nYou are Alpha, a careful assistant.\n';
const SOUL_BETA = '---\nname: Beta\nemoji: 🅱️\n---\nYou are Beta, a cheerful assistant.\n';

/** A workspace with SOUL.md (Alpha) and IDENTITY.md, and a live identity service on it. */
function liveWorkspace(): { write(soul: string): void; identity: LiveIdentityService; changed(): Promise<IdentityPacket> } {
  const workspace = makeTempWorkspace();
  onTestFinished(() => workspace.cleanup());
  workspace.write('SOUL.md', SOUL_ALPHA);
  workspace.write('IDENTITY.md', '---\nname: Idris\ncreature: a test fixture\n---\n');
  const identity = createIdentityService({ workspace: workspace.dir, logger: pino({ level: 'silent' }), debounceMs: 30, recheckIntervalMs: 100 });
  return {
    identity,
    write: (soul) => workspace.replace('SOUL.md', soul),
    changed: () => new Promise((resolve) => {
      const off = identity.onChange((agentId, packet) => {
        if (agentId !== 'main') return;
        off();
        resolve(packet);
      });
    }),
  };
}

async function openaiMock() {
  const mock = await startMockOpenAI();
  onTestFinished(() => mock.close());
  return mock;
}

const systemOf = (messages: { role: string; content: string }[]) => messages.find((m) => m.role === 'system')?.content ?? '';

describe('identity over the wire', () => {
  it("an edit of SOUL.md while the server runs changes the next turn's system prompt, agents.list and agent.identity.get", async () => {
    const ws = liveWorkspace();
    const mock = await openaiMock();
    const { gw, client } = await startModelGateway([modelOn(openai, mock, 'primary')], { identity: ws.identity });

    await chatTurn(client, gw, { sessionKey: 'main', message: 'first', idempotencyKey: 'before' });
    expect(systemOf(mock.messages(0))).toContain('You are Alpha, a careful assistant.');
    const before = resultOf(await client.request('agents.list', {}), 'agents.list');
    expect(before.agents[0]).toMatchObject({ id: 'main', name: 'Alpha', identity: { name: 'Alpha', emoji: '🅰️' } });

    const changed = ws.changed();
    ws.write(SOUL_BETA);
    await changed;

    await chatTurn(client, gw, { sessionKey: 'main', message: 'second', idempotencyKey: 'after' });
    const system = systemOf(mock.messages(1));
    expect(system).toContain('You are Beta, a cheerful assistant.');
    expect(system).not.toContain('Alpha');
    const after = resultOf(await client.request('agents.list', {}), 'agents.list');
    expect(after.agents[0]).toMatchObject({ id: 'main', name: 'Beta', identity: { name: 'Beta', emoji: '🅱️' } });
    const got = resultOf(await client.request('agent.identity.get', {}), 'agent.identity.get');
    expect(got).toEqual({ agentId: 'main', name: 'Beta', nameSource: 'workspace', emoji: '🅱️' });

    // What agent.status will show (issue 5): the packet's sources and conflicts, straight from services.identity.
    const packet = gw.gateway.services.identity.packet('main');
    expect(packet.sources.map((s) => s.file)).toEqual(['SOUL.md', 'IDENTITY.md']);
    expect(packet.conflicts).toEqual([{ subject: 'key:name', winner: 'SOUL.md', losers: ['IDENTITY.md'] }]);
  });

  it('a turn in progress keeps the packet it started with, even when it fails over after the edit', async () => {
    const ws = liveWorkspace();
    const mock = await openaiMock();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The primary holds the first request until the test has edited SOUL.md, then fails: the fallback is asked next.
    mock.enqueue(async (): Promise<MockScript> => {
      await gate;
      return openaiScript.error(503, { message: 'overloaded', type: 'server_error' });
    });
    const { gw, client } = await startModelGateway(
      [modelOn(openai, mock, 'primary'), modelOn(openai, mock, 'fallback')],
      { identity: ws.identity },
    );
    await client.request('chat.send', { sessionKey: 'main', message: 'long turn', idempotencyKey: 'in-progress' });
    await expect.poll(() => mock.requests.length, { timeout: 5_000 }).toBe(1);

    const changed = ws.changed();
    ws.write(SOUL_BETA);
    await changed;
    const agents = resultOf(await client.request('agents.list', {}), 'agents.list');
    expect(agents.agents[0]?.name).toBe('Beta');
    release();

    const { wire } = await chatTurn(client, gw, { sessionKey: 'main', message: 'next turn', idempotencyKey: 'next' });
    expect(mock.requests.map((r) => r.body?.model)).toEqual(['primary-model', 'fallback-model', 'primary-model']);
    expect(systemOf(mock.messages(0))).toContain('You are Alpha');
    expect(systemOf(mock.messages(1))).toContain('You are Alpha');
    expect(systemOf(mock.messages(1))).not.toContain('Beta');
    expect(systemOf(mock.messages(2))).toContain('You are Beta');
    expect(wire.terminal.state).toBe('final');
    const first = gw.store.runs.get('in-progress');
    expect(first?.status).toBe('ok');
  });
});

describe('first run (CLI)', () => {
  it('creates the missing workspace with the example files, says so, and serves their identity', async () => {
    const dir = tempDir('brainstem-first-run-');
    const workspace = join(dir, 'workspace');
    const gw = await spawnGateway({ token: 'first-run-token-123', args: ['--workspace', workspace, '--log-level', 'silent'] });
    expect(gw.stdout).toContain(`created the workspace ${workspace} with example identity files (SOUL.md, AGENT.md, IDENTITY.md, USER.md)`);
    for (const [name, text] of Object.entries(EXAMPLE_FILES)) {
      expect(existsSync(join(workspace, name)), name).toBe(true);
      expect(readFileSync(join(workspace, name), 'utf8')).toBe(text);
    }
    const client = await RawClient.connect(gw.url, { token: 'first-run-token-123' });
    const agents = resultOf(await client.request('agents.list', {}), 'agents.list');
    expect(agents.agents[0]).toMatchObject({ id: 'main', name: 'brainstem', identity: { emoji: '🧠' } });
    client.close();
    gw.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
  });
});
