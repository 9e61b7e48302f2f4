import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentityService, type IdentityServiceOptions } from '../../identity/service.js';
import type { IdentityPacket, LiveIdentityService } from '../../identity/types.js';
import { RecordingLogger, makeTempWorkspace, waitFor, type TempWorkspace } from '../helpers/identity-workspace.js';

/** Generous: only a broken watcher gets near it; the debounce in these tests is 20 ms. */
const CHANGE_TIMEOUT_MS = 3_000;

describe('hot reload', () => {
  let ws: TempWorkspace;
  let service: LiveIdentityService | undefined;
  let changes: Array<{ agentId: string; packet: IdentityPacket }>;
  afterEach(async () => {
    await service?.close();
    service = undefined;
    ws.cleanup();
  });

  /** Watching only: the stat re-check is pushed out of reach so the watcher must do the work. */
  function start(extra: Partial<IdentityServiceOptions> = {}): LiveIdentityService {
    changes = [];
    service = createIdentityService({
      workspace: ws.dir,
      logger: new RecordingLogger(),
      debounceMs: 20,
      recheckIntervalMs: 3_600_000,
      workspacePollMs: 20,
      ...extra,
    });
    service.onChange((agentId, packet) => changes.push({ agentId, packet }));
    return service;
  }

  async function nextChange(agentId = 'main', count = 1): Promise<IdentityPacket> {
    await waitFor(() => changes.filter((c) => c.agentId === agentId).length >= count, CHANGE_TIMEOUT_MS, `change of ${agentId}`);
    return changes.filter((c) => c.agentId === agentId)[count - 1]!.packet;
  }

  it('rebuilds the packet after SOUL.md is edited and tells listeners', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Version one.');
    const s = start();
    ws.write('SOUL.md', 'Version two.');
    const changed = await nextChange();
    expect(changed.systemPrompt).toBe('Version two.');
    expect(s.packet('main')).toBe(changed);
  });

  it('leaves a packet taken before the change exactly as it was', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', '---\nname: Before\n---\nOld.');
    const s = start();
    const held = s.packet('main');
    const snapshot = JSON.stringify(held);
    ws.write('SOUL.md', '---\nname: After\n---\nNew.');
    await nextChange();
    expect(s.packet('main').fields.name).toBe('After');
    expect(JSON.stringify(held)).toBe(snapshot);
    expect(() => {
      (held as { systemPrompt: string }).systemPrompt = 'mutated';
    }).toThrow(TypeError);
  });

  it('follows an editor that saves by renaming a temp file over SOUL.md, again and again', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Saved 0.');
    const s = start();
    for (const n of [1, 2]) {
      ws.replace('SOUL.md', `Saved ${n}.`);
      expect((await nextChange('main', n)).systemPrompt).toBe(`Saved ${n}.`);
    }
    expect(s.packet('main').systemPrompt).toBe('Saved 2.');
  });

  it('turns a burst of writes into one rebuild', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Start.');
    start({ debounceMs: 100 });
    for (let i = 1; i <= 5; i += 1) ws.write('SOUL.md', `Write ${i}.`);
    await nextChange();
    await new Promise((r) => setTimeout(r, 250));
    expect(changes.map((c) => c.packet.systemPrompt)).toEqual(['Write 5.']);
  });

  it('picks up a workspace folder that is created after the start', async () => {
    ws = makeTempWorkspace();
    const s = start();
    expect(s.packet('main').sources.map((src) => src.file)).toEqual(['builtin']);
    ws.write('SOUL.md', 'Now I exist.');
    expect((await nextChange()).systemPrompt).toBe('Now I exist.');
    ws.write('SOUL.md', 'And I am watched.');
    expect((await nextChange('main', 2)).systemPrompt).toBe('And I am watched.');
  });

  it('falls back to the built-in identity when SOUL.md is deleted, and back again when it returns', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Here.');
    start();
    fs.rmSync(ws.path('SOUL.md'));
    expect((await nextChange()).sources.map((src) => src.file)).toEqual(['builtin']);
    ws.write('SOUL.md', 'Back.');
    expect((await nextChange('main', 2)).systemPrompt).toBe('Back.');
  });

  it('finds a new agent folder, watches it, and forgets it when it goes', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Main.');
    const s = start();
    ws.write('research/SOUL.md', 'Research one.');
    expect((await nextChange('research')).systemPrompt).toBe('Research one.');
    expect(s.agentIds()).toEqual(['main', 'research']);
    ws.write('research/SOUL.md', 'Research two.');
    expect((await nextChange('research', 2)).systemPrompt).toBe('Research two.');
    fs.rmSync(ws.path('research'), { recursive: true });
    const gone = await nextChange('research', 3);
    expect(gone.sources.map((src) => src.file)).toEqual(['builtin']);
    expect(s.agentIds()).toEqual(['main']);
    expect(s.packet('research').sources.map((src) => src.file)).toEqual(['builtin']);
    expect(changes.filter((c) => c.agentId === 'main')).toEqual([]);
  });

  it('without fs.watch, answers with the fallback once a removed agent is re-checked', () => {
    ws = makeTempWorkspace();
    ws.write('ops/SOUL.md', 'Ops.');
    let now = 0;
    const s = start({ watch: false, recheckIntervalMs: 1_000, now: () => now });
    expect(s.packet('ops').systemPrompt).toBe('Ops.');
    fs.rmSync(ws.path('ops'), { recursive: true });
    now = 1_000;
    expect(s.packet('ops').sources.map((src) => src.file)).toEqual(['builtin']);
    expect(s.agentIds()).toEqual(['main']);
  });

  it('without fs.watch, sees a change through the stat re-check once the interval has passed', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Old.');
    let now = 0;
    const s = start({ watch: false, recheckIntervalMs: 1_000, now: () => now });
    ws.write('SOUL.md', 'New, and longer.');
    now = 999;
    expect(s.packet('main').systemPrompt).toBe('Old.');
    now = 1_000;
    expect(s.packet('main').systemPrompt).toBe('New, and longer.');
    expect((await nextChange()).systemPrompt).toBe('New, and longer.');
  });

  it('without fs.watch, finds a new agent on agentIds() once the interval has passed', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Main.');
    let now = 0;
    const s = start({ watch: false, recheckIntervalMs: 1_000, now: () => now });
    ws.write('ops/AGENT.md', 'Ops.');
    expect(s.agentIds()).toEqual(['main']);
    now = 1_000;
    expect(s.agentIds()).toEqual(['main', 'ops']);
  });

  it('stops a listener that unsubscribed and keeps going when a listener throws', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'One.');
    const s = start();
    const log = new RecordingLogger();
    await s.close();
    service = createIdentityService({ workspace: ws.dir, logger: log, debounceMs: 20, recheckIntervalMs: 3_600_000 });
    const seen: string[] = [];
    const unsubscribe = service.onChange(() => seen.push('removed'));
    service.onChange(() => {
      throw new Error('listener bug');
    });
    service.onChange((_id, p) => seen.push(p.systemPrompt));
    unsubscribe();
    unsubscribe();
    ws.write('SOUL.md', 'Two.');
    await waitFor(() => seen.length > 0, CHANGE_TIMEOUT_MS, 'listener');
    expect(seen).toEqual(['Two.']);
    expect(log.warnings().map((w) => w.msg)).toContain('identity: a change listener threw');
  });

  it('stops watching on close, and close is safe to call twice', async () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Before close.');
    const s = start();
    await s.close();
    await s.close();
    ws.write('SOUL.md', 'After close.');
    await new Promise((r) => setTimeout(r, 150));
    expect(changes).toEqual([]);
    expect(s.packet('main').systemPrompt).toBe('Before close.');
  });
});
