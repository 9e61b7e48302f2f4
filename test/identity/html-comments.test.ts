import { describe, expect, it } from 'vitest';
import { packetOf } from '../helpers/identity-workspace.js';

describe('HTML comments', () => {
  it('never reach the system prompt, wherever they are', () => {
    const soul = [
      '<!-- file header',
      'over two lines -->',
      'Be kind.<!-- inline --> Always.',
      '',
      '  <!-- indented, alone on its line -->',
      '## Rules <!-- in a heading -->',
      '',
      '- one <!-- a --> and <!-- b --> two',
      '```',
      '<!-- even in code -->',
      '```',
    ].join('\n');
    const p = packetOf({ 'SOUL.md': soul, 'USER.md': '<!-- only a comment -->' });
    expect(p.systemPrompt).not.toContain('<!--');
    expect(p.systemPrompt).not.toContain('-->');
    expect(p.systemPrompt).toBe('Be kind. Always.\n\n## Rules\n\n- one  and  two\n```\n```');
  });

  it('may come before the front matter', () => {
    const p = packetOf({ 'IDENTITY.md': '<!-- note -->\n---\nname: Clawd\n---\nText' });
    expect(p.fields.name).toBe('Clawd');
    expect(p.systemPrompt).toBe('name: Clawd\n\nText');
  });

  it('hide the rest of the file when not closed, with a notice', () => {
    const p = packetOf({ 'SOUL.md': 'Kept.\n<!-- never closed\nsecret plans', 'AGENT.md': 'Agent.' });
    expect(p.systemPrompt).toBe('Kept.\n\nAgent.');
    expect(p.notices).toEqual([
      { file: 'SOUL.md', kind: 'unclosed-comment', message: 'SOUL.md has an `<!--` without `-->`; the text after it is ignored' },
    ]);
  });

  it('do not count against the character limits', () => {
    const limits = { maxFileChars: 10, maxTotalChars: 100, maxUserFileChars: 10, maxFileBytes: 10_000 };
    const p = packetOf({ 'SOUL.md': `<!-- ${'x'.repeat(500)} -->\n0123456789` }, limits);
    expect(p.systemPrompt).toBe('0123456789');
    expect(p.notices).toEqual([]);
  });
});
