import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_FILES, ensureWorkspace } from '../../identity/scaffold.js';
import { createIdentityService } from '../../identity/service.js';
import { RecordingLogger, makeTempWorkspace, type TempWorkspace } from '../helpers/identity-workspace.js';

describe('first run: ensureWorkspace', () => {
  let ws: TempWorkspace;
  afterEach(() => ws.cleanup());

  it('creates a missing workspace with the four commented example files', () => {
    ws = makeTempWorkspace();
    const log = new RecordingLogger();
    expect(ensureWorkspace(ws.dir, log)).toBe(true);
    expect(fs.readdirSync(ws.dir).sort()).toEqual(['AGENT.md', 'IDENTITY.md', 'SOUL.md', 'USER.md']);
    for (const [name, text] of Object.entries(EXAMPLE_FILES)) {
      expect(fs.readFileSync(ws.path(name), 'utf8')).toBe(text);
      expect(text).toContain('<!--');
    }
    expect(log.entries.map((e) => e.msg)).toEqual(['identity: created the workspace with example files; edit them to shape the agent']);
  });

  it('gives a sensible packet: named, with text, no comments, no notices, no conflicts', () => {
    ws = makeTempWorkspace();
    ensureWorkspace(ws.dir, new RecordingLogger());
    const log = new RecordingLogger();
    const service = createIdentityService({ workspace: ws.dir, logger: log, watch: false });
    const p = service.packet('main');
    void service.close();
    expect(p.fields).toEqual({ name: 'brainstem', emoji: '🧠', creature: 'a small gateway brain', vibe: 'calm, direct' });
    expect(p.notices).toEqual([]);
    expect(p.conflicts).toEqual([]);
    expect(log.warnings()).toEqual([]);
    expect(p.systemPrompt).not.toMatch(/<!--|-->|USER\.md|precedence/);
    expect(p.systemPrompt).toMatch(/^name: brainstem\n/);
    expect(p.systemPrompt).toContain('## Boundaries');
    expect(p.systemPrompt).toContain('## How you work');
    expect(p.sources.map((s) => s.file)).toEqual(['SOUL.md', 'AGENT.md', 'IDENTITY.md', 'USER.md']);
  });

  it('leaves an existing folder alone, even an empty one', () => {
    ws = makeTempWorkspace();
    fs.mkdirSync(ws.dir);
    expect(ensureWorkspace(ws.dir, new RecordingLogger())).toBe(false);
    expect(fs.readdirSync(ws.dir)).toEqual([]);
  });

  it('never overwrites a file', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Mine.');
    expect(ensureWorkspace(ws.dir, new RecordingLogger())).toBe(false);
    expect(fs.readFileSync(ws.path('SOUL.md'), 'utf8')).toBe('Mine.');
  });
});
