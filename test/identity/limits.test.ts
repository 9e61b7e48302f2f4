import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_IDENTITY_LIMITS,
  DEFAULT_MAX_FILE_CHARS,
  DEFAULT_MAX_TOTAL_CHARS,
  DEFAULT_MAX_USER_FILE_CHARS,
} from '../../identity/limits.js';
import { createIdentityService } from '../../identity/service.js';
import { RecordingLogger, makeTempWorkspace, packetOf, type TempWorkspace } from '../helpers/identity-workspace.js';

describe('limits', () => {
  let ws: TempWorkspace | undefined;
  afterEach(() => ws?.cleanup());

  it('defaults to OpenClaw\'s: 20,000 per file, 60,000 in all, 4,000 for USER.md', () => {
    expect([DEFAULT_MAX_FILE_CHARS, DEFAULT_MAX_TOTAL_CHARS, DEFAULT_MAX_USER_FILE_CHARS]).toEqual([20_000, 60_000, 4_000]);
    expect(DEFAULT_IDENTITY_LIMITS).toMatchObject({ maxFileChars: 20_000, maxTotalChars: 60_000, maxUserFileChars: 4_000 });
  });

  it('cuts a file at the per-file limit and says so', () => {
    const p = packetOf({ 'SOUL.md': 'a'.repeat(20_001), 'AGENT.md': 'agent' });
    expect(p.systemPrompt).toBe(`${'a'.repeat(20_000)}\n\nagent`);
    expect(p.notices).toEqual([
      {
        file: 'SOUL.md',
        kind: 'truncated',
        message: 'SOUL.md has 20001 characters; only the first 20000 are used (per-file limit of 20000)',
      },
    ]);
  });

  it('keeps a file of exactly the limit whole', () => {
    const p = packetOf({ 'SOUL.md': 'a'.repeat(20_000) });
    expect(p.systemPrompt).toHaveLength(20_000);
    expect(p.notices).toEqual([]);
  });

  it('cuts USER.md at its own, smaller limit', () => {
    const p = packetOf({ 'USER.md': 'u'.repeat(4_500) });
    expect(p.systemPrompt).toBe('u'.repeat(4_000));
    expect(p.notices.map((n) => n.message)).toEqual([
      'USER.md has 4500 characters; only the first 4000 are used (USER.md limit of 4000)',
    ]);
  });

  it('spends the total in precedence order, so the lower files are cut first', () => {
    const p = packetOf({
      'USER.md': 'u'.repeat(3_000),
      'IDENTITY.md': 'i'.repeat(19_000),
      'AGENT.md': 'g'.repeat(19_000),
      'SOUL.md': 's'.repeat(19_000),
    });
    expect(p.systemPrompt).toBe(['s'.repeat(19_000), 'g'.repeat(19_000), 'i'.repeat(19_000), 'u'.repeat(3_000)].join('\n\n'));
    const q = packetOf({
      'USER.md': 'u'.repeat(3_000),
      'IDENTITY.md': 'i'.repeat(20_000),
      'AGENT.md': 'g'.repeat(20_000),
      'SOUL.md': 's'.repeat(19_000),
    });
    expect(q.systemPrompt.endsWith(`\n\n${'u'.repeat(1_000)}`)).toBe(true);
    expect(q.notices).toEqual([
      {
        file: 'USER.md',
        kind: 'truncated',
        message: 'USER.md has 3000 characters; only the first 1000 are used (limit of 60000 for all files together)',
      },
    ]);
  });

  it('drops a file entirely once the total is spent, with a notice', () => {
    const limits = { ...DEFAULT_IDENTITY_LIMITS, maxTotalChars: 10 };
    const p = packetOf({ 'SOUL.md': 'x'.repeat(10), 'USER.md': 'lost' }, limits);
    expect(p.systemPrompt).toBe('x'.repeat(10));
    expect(p.notices.map((n) => `${n.file}:${n.kind}`)).toEqual(['USER.md:truncated']);
  });

  it('never splits a surrogate pair', () => {
    const limits = { ...DEFAULT_IDENTITY_LIMITS, maxFileChars: 3 };
    const p = packetOf({ 'SOUL.md': 'ab🦞cd' }, limits);
    expect(p.systemPrompt).toBe('ab');
  });

  it('turns a cut inside the front matter into a bad-front-matter notice, not a crash', () => {
    const limits = { ...DEFAULT_IDENTITY_LIMITS, maxFileChars: 12 };
    const p = packetOf({ 'SOUL.md': '---\nname: a long name\n---\nbody' }, limits);
    expect(p.notices.map((n) => n.kind)).toEqual(['truncated', 'bad-front-matter']);
    expect(p.fields.name).toBe('brainstem');
  });

  it('reads at most maxFileBytes of a file, dropping a character cut in half', () => {
    ws = makeTempWorkspace();
    ws.write('SOUL.md', `${'a'.repeat(9)}é and more`); // é is 2 bytes: bytes 10 and 11
    const log = new RecordingLogger();
    const service = createIdentityService({ workspace: ws.dir, logger: log, watch: false, limits: { maxFileBytes: 10 } });
    const p = service.packet('main');
    void service.close();
    expect(p.systemPrompt).toBe('a'.repeat(9));
    expect(p.sources).toEqual([expect.objectContaining({ file: 'SOUL.md', bytes: 10 })]);
    expect(p.notices).toEqual([
      { file: 'SOUL.md', kind: 'truncated', message: 'SOUL.md is 20 bytes; only the first 10 bytes are read' },
    ]);
  });

  it('logs a warning for each truncation', () => {
    ws = makeTempWorkspace();
    ws.write('USER.md', 'u'.repeat(4_001));
    const log = new RecordingLogger();
    const service = createIdentityService({ workspace: ws.dir, logger: log, watch: false });
    void service.close();
    expect(log.warnings()).toEqual([
      expect.objectContaining({
        obj: expect.objectContaining({ agentId: 'main', file: 'USER.md', kind: 'truncated' }),
        msg: expect.stringContaining('USER.md has 4001 characters'),
      }),
    ]);
  });
});
