import { describe, expect, it } from 'vitest';
import { packetOf } from '../helpers/identity-workspace.js';

describe('structured fields', () => {
  it('come from front-matter keys of any file', () => {
    const p = packetOf({
      'SOUL.md': '---\nname: Clawd\nemoji: 🦞\navatar: avatars/clawd.png\ncreature: space lobster\nvibe: dry\n---\n',
    });
    expect(p.fields).toEqual({
      name: 'Clawd',
      emoji: '🦞',
      avatar: 'avatars/clawd.png',
      creature: 'space lobster',
      vibe: 'dry',
    });
    expect(p.fieldSources).toEqual({
      name: 'SOUL.md',
      emoji: 'SOUL.md',
      avatar: 'SOUL.md',
      creature: 'SOUL.md',
      vibe: 'SOUL.md',
    });
  });

  it('fall back to the built-in name and emoji, and say so in fieldSources', () => {
    const p = packetOf({ 'SOUL.md': 'Just text.' });
    expect(p.fields).toEqual({ name: 'brainstem', emoji: '🧠' });
    expect(p.fieldSources).toEqual({ name: 'builtin', emoji: 'builtin' });
  });

  it('turn numbers into text and reject structures with a notice', () => {
    const p = packetOf({ 'SOUL.md': '---\nname: 42\nvibe: [a, b]\n---\nText' });
    expect(p.fields.name).toBe('42');
    expect(p.fields.vibe).toBeUndefined();
    expect(p.notices).toEqual([{ file: 'SOUL.md', kind: 'bad-front-matter', message: 'SOUL.md: `vibe` must be text; ignored' }]);
  });

  describe('OpenClaw-style field lines in IDENTITY.md', () => {
    const identity = [
      '# IDENTITY.md - Who Am I?',
      '',
      '- **Name:** Clawd',
      '* **Emoji**: 🦞',
      'Vibe: Curious, helpful',
      '- **Avatar:** `avatars/clawd.png`',
      '- **Creature:** *(AI? robot? something weirder?)*',
      '',
      'Notes below.',
    ].join('\n');

    it('accept `- **Name:** x`, `**Emoji**: x` and `Vibe: x` lines', () => {
      const p = packetOf({ 'IDENTITY.md': identity });
      expect(p.fields).toEqual({ name: 'Clawd', emoji: '🦞', vibe: 'Curious, helpful', avatar: 'avatars/clawd.png' });
      expect(p.fieldSources?.name).toBe('IDENTITY.md');
    });

    it('take the lines out of the text (placeholders too) and show the values in the key block', () => {
      const p = packetOf({ 'IDENTITY.md': identity });
      expect(p.systemPrompt).toBe(
        'name: Clawd\nemoji: 🦞\nvibe: Curious, helpful\navatar: avatars/clawd.png\n\n# IDENTITY.md - Who Am I?\n\nNotes below.',
      );
    });

    it('leave a label without a value as text', () => {
      const p = packetOf({ 'IDENTITY.md': '- **Name:**\n  *(pick something you like)*' });
      expect(p.fields.name).toBe('brainstem');
      expect(p.systemPrompt).toBe('- **Name:**\n  *(pick something you like)*');
    });

    it('lose against a higher file\'s key, reported as a key conflict', () => {
      const p = packetOf({ 'SOUL.md': '---\nname: Soul\n---\n', 'IDENTITY.md': '- **Name:** Clawd' });
      expect(p.fields.name).toBe('Soul');
      expect(p.conflicts).toEqual([{ subject: 'key:name', winner: 'SOUL.md', losers: ['IDENTITY.md'] }]);
      expect(p.systemPrompt).not.toContain('Clawd');
    });

    it('give way to IDENTITY.md\'s own front matter', () => {
      const p = packetOf({ 'IDENTITY.md': '---\nname: Front\n---\n- **Name:** Line' });
      expect(p.fields.name).toBe('Front');
      expect(p.conflicts).toEqual([]);
    });

    it('are read only in IDENTITY.md\'s preamble, not in its sections or in other files', () => {
      const p = packetOf({
        'SOUL.md': '- **Name:** Soulline',
        'IDENTITY.md': '## Notes\n\n- **Name:** What your agent calls itself',
      });
      expect(p.fields.name).toBe('brainstem');
      expect(p.systemPrompt).toContain('- **Name:** Soulline');
      expect(p.systemPrompt).toContain('- **Name:** What your agent calls itself');
    });
  });
});
