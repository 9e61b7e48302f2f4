import { describe, expect, it } from 'vitest';
import { packetOf } from '../helpers/identity-workspace.js';

describe('merge precedence (SOUL > AGENT > IDENTITY > USER)', () => {
  describe('front-matter keys', () => {
    it('takes each key from the highest file that sets it', () => {
      const p = packetOf({
        'USER.md': '---\nname: U\nvibe: user vibe\nlang: de\n---\n',
        'IDENTITY.md': '---\nname: I\nvibe: identity vibe\n---\n',
        'AGENT.md': '---\nvibe: agent vibe\n---\n',
        'SOUL.md': '---\nname: S\n---\n',
      });
      expect(p.fields).toMatchObject({ name: 'S', vibe: 'agent vibe' });
      expect(p.systemPrompt.split('\n\n')[0]).toBe('name: S\nvibe: agent vibe\nlang: de');
    });

    it('reports every shared key with its winner and the losers in precedence order', () => {
      const p = packetOf({
        'USER.md': '---\nname: U\n---\n',
        'IDENTITY.md': '---\nname: I\nemoji: 🦞\n---\n',
        'SOUL.md': '---\nname: S\nemoji: 🐚\n---\n',
      });
      expect(p.conflicts).toEqual([
        { subject: 'key:name', winner: 'SOUL.md', losers: ['IDENTITY.md', 'USER.md'] },
        { subject: 'key:emoji', winner: 'SOUL.md', losers: ['IDENTITY.md'] },
      ]);
    });

    it('compares keys trimmed and case-insensitively', () => {
      const p = packetOf({ 'SOUL.md': '---\nName: S\n---\n', 'USER.md': '---\n" NAME ": U\n---\n' });
      expect(p.fields.name).toBe('S');
      expect(p.conflicts).toEqual([{ subject: 'key:name', winner: 'SOUL.md', losers: ['USER.md'] }]);
    });

    it('does not count an empty key as set, so it neither wins nor conflicts', () => {
      const p = packetOf({ 'SOUL.md': '---\nname:\nvibe: ""\n---\nText', 'IDENTITY.md': '---\nname: I\n---\n' });
      expect(p.fields.name).toBe('I');
      expect(p.conflicts).toEqual([]);
    });

    it('renders lists and structures on one line', () => {
      const p = packetOf({ 'SOUL.md': '---\ntags: [a, b, 3]\nstyle: {short: true, lang: en}\n---\nText' });
      expect(p.systemPrompt).toBe('style: {"lang":"en","short":true}\ntags: a, b, 3\n\nText');
    });
  });

  describe('## sections', () => {
    it('keeps only the winning file\'s section and drops the others entirely', () => {
      const p = packetOf({
        'SOUL.md': '## Tone\n\nsoul tone',
        'AGENT.md': '## Tone\n\nagent tone\n\n## Tools\n\nagent tools',
        'USER.md': '## Tone\n\nuser tone',
      });
      expect(p.systemPrompt).toBe('## Tone\n\nsoul tone\n\n## Tools\n\nagent tools');
      expect(p.conflicts).toEqual([{ subject: 'section:Tone', winner: 'SOUL.md', losers: ['AGENT.md', 'USER.md'] }]);
    });

    it('matches headings trimmed, case-insensitively and with inner spaces collapsed', () => {
      const p = packetOf({ 'SOUL.md': '##   Ground  Rules  \n\nsoul', 'IDENTITY.md': '## ground rules ##\n\nidentity' });
      expect(p.systemPrompt).toBe('## Ground  Rules\n\nsoul');
      expect(p.conflicts).toEqual([{ subject: 'section:Ground  Rules', winner: 'SOUL.md', losers: ['IDENTITY.md'] }]);
    });

    it('lets a lower file win a section the higher file does not have', () => {
      const p = packetOf({ 'SOUL.md': '## A\n\nsoul a', 'USER.md': '## B\n\nuser b' });
      expect(p.systemPrompt).toBe('## A\n\nsoul a\n\n## B\n\nuser b');
      expect(p.conflicts).toEqual([]);
    });

    it('ignores an empty section: it neither shows nor wins', () => {
      const p = packetOf({ 'SOUL.md': '## Rules\n\n<!-- fill me -->\n', 'AGENT.md': '## Rules\n\nagent rules' });
      expect(p.systemPrompt).toBe('## Rules\n\nagent rules');
      expect(p.conflicts).toEqual([]);
    });

    it('joins a heading repeated in one file into one section without a conflict', () => {
      const p = packetOf({ 'SOUL.md': '## Rules\n\none\n\n## Other\n\nx\n\n## rules\n\ntwo' });
      expect(p.systemPrompt).toBe('## Rules\n\none\n\ntwo\n\n## Other\n\nx');
      expect(p.conflicts).toEqual([]);
    });

    it('treats # and ### headings and ## inside code fences as text of the part they are in', () => {
      const soul = '# Title\n\n## Rules\n\n### Sub\n\n```md\n## Not a section\n```\n\n~~~\n## Nor this\n~~~';
      const p = packetOf({ 'SOUL.md': soul, 'AGENT.md': '## Not a section\n\nagent' });
      expect(p.systemPrompt).toBe(`${soul}\n\n## Not a section\n\nagent`);
      expect(p.conflicts).toEqual([]);
    });
  });

  describe('preambles and layout', () => {
    it('keeps every preamble, never as a conflict, file by file in precedence order', () => {
      const p = packetOf({
        'USER.md': 'user intro\n\n## U\n\nu',
        'SOUL.md': 'soul intro\n\n## S\n\ns',
        'AGENTS.md': 'agent intro',
        'IDENTITY.md': 'identity intro',
      });
      expect(p.systemPrompt).toBe(
        'soul intro\n\n## S\n\ns\n\nagent intro\n\nidentity intro\n\nuser intro\n\n## U\n\nu',
      );
      expect(p.conflicts).toEqual([]);
    });

    it('puts sections in the order of the winning file, not the order files first mention them', () => {
      const p = packetOf({ 'SOUL.md': '## B\n\nsoul b', 'AGENT.md': '## A\n\nagent a\n\n## B\n\nagent b' });
      expect(p.systemPrompt).toBe('## B\n\nsoul b\n\n## A\n\nagent a');
    });

    it('normalizes CRLF line endings', () => {
      expect(packetOf({ 'SOUL.md': 'a\r\n\r\n## X\r\n\r\nb\r\n' }).systemPrompt).toBe('a\n\n## X\n\nb');
    });
  });
});
