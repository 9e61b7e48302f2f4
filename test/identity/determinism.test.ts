import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../identity/canonical-json.js';
import { DEFAULT_IDENTITY_LIMITS } from '../../identity/limits.js';
import { buildPacket } from '../../identity/packet.js';
import { createIdentityService } from '../../identity/service.js';
import {
  RecordingLogger,
  makeTempWorkspace,
  rawFiles,
  type TempWorkspace,
} from '../helpers/identity-workspace.js';

const FILES = {
  'SOUL.md': '---\nname: Clawd\nvibe: dry\n---\n# Soul\n\n## Tone\n\nshort',
  'AGENT.md': '## Tone\n\nlong\n\n## Tools\n\nshell',
  'AGENTS.md': 'ignored',
  'IDENTITY.md': '- **Emoji:** 🦞\n\n## Tools\n\nnone',
  'USER.md': '---\nname: Ada\n---\n## About\n\n' + 'u'.repeat(5_000),
} as const;

/** Every ordering of `items` (5 files: 120 orders). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('packet determinism', () => {
  let ws: TempWorkspace | undefined;
  afterEach(() => ws?.cleanup());

  it('is byte-identical, with the same hash, for every read order of the same files', () => {
    const orders = permutations(rawFiles(FILES));
    const jsons = new Set(orders.map((files) => JSON.stringify(buildPacket({ agentId: 'main', files, limits: DEFAULT_IDENTITY_LIMITS }))));
    expect(orders).toHaveLength(120);
    expect(jsons.size).toBe(1);
  });

  it('has a hash over the canonical JSON of everything but the hash', () => {
    const { hash, ...rest } = buildPacket({ agentId: 'main', files: rawFiles(FILES), limits: DEFAULT_IDENTITY_LIMITS });
    expect(hash).toBe(sha256Hex(canonicalJson(rest)));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes hash when one byte of a used file changes, even in a part cut off by a limit', () => {
    const a = buildPacket({ agentId: 'main', files: rawFiles(FILES), limits: DEFAULT_IDENTITY_LIMITS });
    const user = `${FILES['USER.md'].slice(0, -1)}v`;
    const b = buildPacket({ agentId: 'main', files: rawFiles({ ...FILES, 'USER.md': user }), limits: DEFAULT_IDENTITY_LIMITS });
    expect(b.systemPrompt).toBe(a.systemPrompt);
    expect(b.hash).not.toBe(a.hash);
  });

  it('does not change when only an ignored file (AGENTS.md beside AGENT.md) changes', () => {
    const a = buildPacket({ agentId: 'main', files: rawFiles(FILES), limits: DEFAULT_IDENTITY_LIMITS });
    const b = buildPacket({ agentId: 'main', files: rawFiles({ ...FILES, 'AGENTS.md': 'other' }), limits: DEFAULT_IDENTITY_LIMITS });
    expect(b.hash).toBe(a.hash);
  });

  it('is the same from two workspaces written at different times and in different orders', async () => {
    const first = makeTempWorkspace();
    const second = makeTempWorkspace();
    ws = { ...first, cleanup: () => { first.cleanup(); second.cleanup(); } };
    for (const [name, text] of Object.entries(FILES)) first.write(name, text);
    await new Promise((r) => setTimeout(r, 20));
    for (const [name, text] of Object.entries(FILES).reverse()) second.write(name, text);
    fs.utimesSync(second.path('SOUL.md'), new Date(0), new Date(0));
    const packets = [first, second].map((w) => {
      const service = createIdentityService({ workspace: w.dir, logger: new RecordingLogger(), watch: false });
      const p = service.packet('main');
      void service.close();
      return JSON.stringify(p);
    });
    expect(packets[1]).toBe(packets[0]);
    expect(packets[0]).not.toContain(first.dir);
  });

  it('lists notices file by file in precedence order, whatever step found them', () => {
    const files = rawFiles({ 'USER.md': 'u'.repeat(4_001), 'SOUL.md': '---\nname: [a, b]\n---\n' });
    const p = buildPacket({ agentId: 'main', files, limits: DEFAULT_IDENTITY_LIMITS });
    expect(p.notices.map((n) => `${n.file}:${n.kind}`)).toEqual(['SOUL.md:bad-front-matter', 'USER.md:truncated']);
  });

  it('is frozen all the way down', () => {
    const p = buildPacket({ agentId: 'main', files: rawFiles(FILES), limits: DEFAULT_IDENTITY_LIMITS });
    for (const part of [p, p.fields, p.fieldSources, p.sources, p.sources[0], p.conflicts, p.conflicts[0]?.losers, p.notices]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });
});
