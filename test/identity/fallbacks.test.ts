import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentityLogger } from '../../identity/logger.js';
import { createIdentityService } from '../../identity/service.js';
import type { LiveIdentityService } from '../../identity/types.js';
import { RecordingLogger, makeTempWorkspace, type TempWorkspace } from '../helpers/identity-workspace.js';

const isRoot = process.getuid?.() === 0;

function hasMkfifo(): boolean {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('fallbacks', () => {
  let ws: TempWorkspace;
  let service: LiveIdentityService | undefined;
  let log: RecordingLogger;
  afterEach(async () => {
    await service?.close();
    service = undefined;
    ws.cleanup();
  });

  function start(): LiveIdentityService {
    log = new RecordingLogger();
    service = createIdentityService({ workspace: ws.dir, logger: log, watch: false });
    return service;
  }

  describe('missing files', () => {
    it('give the built-in identity and exactly one warning when the workspace does not exist', () => {
      ws = makeTempWorkspace();
      const p = start().packet('main');
      expect(p.fields).toEqual({ name: 'brainstem', emoji: '🧠' });
      expect(p.systemPrompt).toMatch(/^You are brainstem, an AI assistant\. Be helpful, honest and brief\./);
      expect(p.sources).toEqual([expect.objectContaining({ file: 'builtin' })]);
      expect(p.notices).toEqual([expect.objectContaining({ file: './', kind: 'missing' })]);
      start().packet('main');
      expect(log.warnings()).toHaveLength(1);
      expect(log.warnings()[0]?.msg).toContain('using the built-in identity');
    });

    it('give the same when the folder exists but holds none of the files', () => {
      ws = makeTempWorkspace();
      ws.write('notes.md', 'not an identity file');
      const p = start().packet('main');
      expect(p.sources.map((s) => s.file)).toEqual(['builtin']);
      expect(log.warnings()).toHaveLength(1);
    });

    it('are no problem when some files exist: no notice, no warning', () => {
      ws = makeTempWorkspace();
      ws.write('SOUL.md', 'Only a soul.');
      const p = start().packet('main');
      expect(p.notices).toEqual([]);
      expect(log.warnings()).toEqual([]);
      expect(p.systemPrompt).toBe('Only a soul.');
    });

    it('use the built-in text when the files only carry keys', () => {
      ws = makeTempWorkspace();
      ws.write('IDENTITY.md', '---\nname: Clawd\n---\n');
      const p = start().packet('main');
      expect(p.systemPrompt).toMatch(/^name: Clawd\n\nYou are Clawd, an AI assistant\./);
      expect(p.sources.map((s) => s.file)).toEqual(['IDENTITY.md', 'builtin']);
    });
  });

  it('reports an unreadable file (a folder named SOUL.md) and loads the rest', () => {
    ws = makeTempWorkspace();
    fs.mkdirSync(ws.path('SOUL.md'), { recursive: true });
    ws.write('AGENT.md', 'Agent text.');
    const p = start().packet('main');
    expect(p.systemPrompt).toBe('Agent text.');
    expect(p.notices).toEqual([{ file: 'SOUL.md', kind: 'unreadable', message: 'SOUL.md is a directory, not a file' }]);
    expect(log.warnings()).toEqual([expect.objectContaining({ obj: expect.objectContaining({ file: 'SOUL.md', kind: 'unreadable' }) })]);
  });

  it.skipIf(isRoot)('reports a file without read permission (skipped as root: chmod 000 does not stop root)', () => {
    ws = makeTempWorkspace();
    fs.chmodSync(ws.write('SOUL.md', 'secret'), 0o000);
    ws.write('USER.md', 'User text.');
    const p = start().packet('main');
    expect(p.systemPrompt).toBe('User text.');
    expect(p.notices).toEqual([{ file: 'SOUL.md', kind: 'unreadable', message: 'SOUL.md cannot open (EACCES)' }]);
  });

  it.skipIf(!hasMkfifo())('does not hang on a FIFO named SOUL.md', () => {
    ws = makeTempWorkspace();
    ws.write('AGENT.md', 'Agent text.');
    execFileSync('mkfifo', [ws.path('SOUL.md')]);
    const p = start().packet('main');
    expect(p.systemPrompt).toBe('Agent text.');
    expect(p.notices).toEqual([{ file: 'SOUL.md', kind: 'unreadable', message: 'SOUL.md is not a regular file' }]);
  });

  it('reports invalid UTF-8 with the offset of the bad byte and loads the rest', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', new Uint8Array([0x68, 0x69, 0xff, 0x21]));
    ws.write('AGENT.md', 'Agent text.');
    const p = start().packet('main');
    expect(p.systemPrompt).toBe('Agent text.');
    expect(p.sources.map((s) => s.file)).toEqual(['AGENT.md']);
    expect(p.notices).toEqual([
      { file: 'SOUL.md', kind: 'invalid-utf8', message: 'SOUL.md is not valid UTF-8 (first bad byte at offset 2)' },
    ]);
    expect(log.warnings()[0]?.obj).toMatchObject({ file: 'SOUL.md', kind: 'invalid-utf8' });
  });

  describe('broken front matter', () => {
    it.each([
      ['invalid YAML', '---\nname: [unclosed\n---\nBody text.', 'front matter is not valid YAML'],
      ['a duplicate key', '---\nname: a\nname: b\n---\nBody text.', 'front matter is not valid YAML: Map keys must be unique'],
      ['a list instead of keys', '---\n- a\n- b\n---\nBody text.', 'front matter must be a mapping of keys'],
    ])('drops the keys of %s, keeps the body, and names the problem', (_what, soul, problem) => {
      ws = makeTempWorkspace();
      ws.write('SOUL.md', soul);
      ws.write('IDENTITY.md', '---\nname: Clawd\n---\n');
      const p = start().packet('main');
      expect(p.systemPrompt).toBe('name: Clawd\n\nBody text.');
      expect(p.notices).toEqual([{ file: 'SOUL.md', kind: 'bad-front-matter', message: expect.stringContaining(`SOUL.md: ${problem}`) }]);
      expect(log.warnings()).toHaveLength(1);
    });

    it('keeps the text of front matter that is never closed, with a notice', () => {
      ws = makeTempWorkspace();
      ws.write('SOUL.md', '---\nname: a\nBody text.');
      const p = start().packet('main');
      expect(p.systemPrompt).toBe('---\nname: a\nBody text.');
      expect(p.notices.map((n) => n.kind)).toEqual(['bad-front-matter']);
    });
  });

  describe('agent ids', () => {
    it('give the built-in identity for an unknown agent, named after it, without caching or warnings', () => {
      ws = makeTempWorkspace();
      ws.write('SOUL.md', 'Main.');
      const p = start().packet('ghost');
      expect(p.fields.name).toBe('ghost');
      expect(p.notices).toEqual([expect.objectContaining({ file: 'ghost/', kind: 'missing' })]);
      expect(service?.agentIds()).toEqual(['main']);
      expect(log.warnings()).toEqual([]);
    });

    it('do not turn a plain file in the workspace into an agent', () => {
      ws = makeTempWorkspace();
      ws.write('SOUL.md', 'Main.');
      ws.write('notes', 'a file, not a folder');
      const s = start();
      expect(s.packet('notes').notices.map((n) => n.kind)).toEqual(['missing']);
      expect(s.agentIds()).toEqual(['main']);
      expect(log.warnings()).toEqual([]);
    });

    it('never read outside the workspace for an invalid agent id', () => {
      ws = makeTempWorkspace();
      ws.write('inner/SOUL.md', 'Inner.');
      service = createIdentityService({ workspace: ws.path('inner'), logger: new RecordingLogger(), watch: false });
      ws.write('SOUL.md', 'Outside the workspace.');
      const p = service.packet('..');
      expect(p.systemPrompt).not.toContain('Outside');
      expect(p.fields.name).toBe('brainstem');
      expect(p.notices).toEqual([{ file: '', kind: 'missing', message: 'agent id ".." is not valid; using the built-in identity' }]);
    });
  });

  it('accepts a pino logger as it is', () => {
    ws = makeTempWorkspace();
    const logger: IdentityLogger = pino({ level: 'silent' }).child({ component: 'identity' });
    service = createIdentityService({ workspace: ws.dir, logger, watch: false });
    expect(service.packet('main').fields.name).toBe('brainstem');
  });
});
