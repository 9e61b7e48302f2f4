import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packetOf } from '../helpers/identity-workspace.js';

const doc = fs.readFileSync(new URL('../../identity/MERGE-MODEL.md', import.meta.url), 'utf8');

/** The body of the fenced block whose info string is exactly `info`. */
function block(info: string): string {
  const match = new RegExp('^```' + info.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\n([\\s\\S]*?)^```$', 'm').exec(doc);
  if (match?.[1] === undefined) throw new Error(`MERGE-MODEL.md has no \`\`\`${info} block`);
  return match[1];
}

describe('MERGE-MODEL.md worked example', () => {
  const packet = packetOf({
    'SOUL.md': block('md SOUL.md'),
    'AGENT.md': block('md AGENT.md'),
    'IDENTITY.md': block('md IDENTITY.md'),
    'USER.md': block('md USER.md'),
  });

  it('gives the system prompt the document shows', () => {
    expect(packet.systemPrompt).toBe(block('text system-prompt').trimEnd());
  });

  it('gives the conflicts the document shows', () => {
    expect(packet.conflicts).toEqual(JSON.parse(block('json conflicts')));
  });

  it('gives the fields the document shows', () => {
    expect(packet.fields).toEqual({ name: 'Clawd', emoji: '🦞', vibe: 'warm but blunt' });
    expect(packet.fieldSources).toEqual({ name: 'SOUL.md', emoji: 'IDENTITY.md', vibe: 'SOUL.md' });
    expect(packet.notices).toEqual([]);
  });
});
