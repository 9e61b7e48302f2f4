import { describe, expect, it } from 'vitest';
import { packetOf } from '../helpers/identity-workspace.js';

describe('AGENT.md and AGENTS.md', () => {
  it('accepts OpenClaw\'s AGENTS.md as the AGENT file', () => {
    const p = packetOf({ 'AGENTS.md': '## Tools\n\nfrom AGENTS', 'IDENTITY.md': '## Tools\n\nfrom IDENTITY' });
    expect(p.systemPrompt).toBe('## Tools\n\nfrom AGENTS');
    expect(p.sources.map((s) => s.file)).toEqual(['AGENTS.md', 'IDENTITY.md']);
    expect(p.conflicts).toEqual([{ subject: 'section:Tools', winner: 'AGENTS.md', losers: ['IDENTITY.md'] }]);
    expect(p.notices).toEqual([]);
  });

  it('uses AGENT.md when both exist and says so with a duplicate-name notice', () => {
    const p = packetOf({ 'AGENTS.md': 'plural', 'AGENT.md': 'singular' });
    expect(p.systemPrompt).toBe('singular');
    expect(p.sources.map((s) => s.file)).toEqual(['AGENT.md']);
    expect(p.notices).toEqual([
      {
        file: 'AGENTS.md',
        kind: 'duplicate-name',
        message: 'both AGENT.md and AGENTS.md exist; AGENT.md is used and AGENTS.md is ignored',
      },
    ]);
  });
});
