import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentityService } from '../../identity/service.js';
import type { LiveIdentityService } from '../../identity/types.js';
import { RecordingLogger, makeTempWorkspace, type TempWorkspace } from '../helpers/identity-workspace.js';

describe('agents of a workspace', () => {
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

  it('always include main, even with no workspace', () => {
    ws = makeTempWorkspace();
    expect(start().agentIds()).toEqual(['main']);
  });

  it('are main plus each validly named subfolder holding an identity file, sorted', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', 'Main soul.');
    ws.write('zeta/USER.md', 'Zeta user.');
    ws.write('alpha-1/AGENTS.md', 'Alpha agents.');
    ws.write('memory/2024-01-01.md', 'not an identity file');
    fs.mkdirSync(ws.path('empty'));
    const s = start();
    expect(s.agentIds()).toEqual(['main', 'alpha-1', 'zeta']);
    expect(s.packet('alpha-1').systemPrompt).toBe('Alpha agents.');
    expect(s.packet('main').systemPrompt).toBe('Main soul.');
  });

  it('keep each agent\'s files apart from main\'s', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', '---\nname: Main\n---\nMain soul.');
    ws.write('research/IDENTITY.md', '- **Name:** Researcher');
    const s = start();
    expect(s.packet('research').fields.name).toBe('Researcher');
    expect(s.packet('research').systemPrompt).not.toContain('Main soul');
    expect(s.packet('main').fields.name).toBe('Main');
  });

  it('ignore folders whose name is not a valid id, with one warning', () => {
    ws = makeTempWorkspace();
    ws.write('Bad Name/SOUL.md', 'x');
    ws.write('.hidden/SOUL.md', 'x');
    const s = start();
    expect(s.agentIds()).toEqual(['main']);
    s.agentIds();
    const warned = log.warnings().filter((w) => w.msg.includes('not a valid agent id')).map((w) => w.obj['folder']);
    expect(warned.sort()).toEqual(['.hidden', 'Bad Name']);
  });

  it('ignore a folder named main, because main is the workspace root', () => {
    ws = makeTempWorkspace();
    ws.write('main/SOUL.md', 'Shadow main.');
    const s = start();
    expect(s.agentIds()).toEqual(['main']);
    expect(s.packet('main').systemPrompt).not.toContain('Shadow');
    expect(log.warnings().map((w) => w.msg)).toContain(
      'identity: a folder named main is ignored: agent main uses the workspace root',
    );
  });

  it('log each conflict with its subject, winner and losers', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', '## Tone\n\nsoul');
    ws.write('USER.md', '## Tone\n\nuser');
    start();
    const conflicts = log.entries.filter((e) => e.msg.startsWith('identity conflict'));
    expect(conflicts).toEqual([
      {
        level: 'info',
        obj: { agentId: 'main', subject: 'section:Tone', winner: 'SOUL.md', losers: ['USER.md'] },
        msg: 'identity conflict on section:Tone: SOUL.md wins over USER.md',
      },
    ]);
  });
});
