import { describe, expect, it } from 'vitest';
import type { ContextItem } from '../../memory/memory-types.js';
import { buildModelMessages, MEMORY_HEADING } from '../../workers/prompt.js';
import { turn } from '../helpers/memory-items.js';

function summary(text: string, sources: readonly ContextItem[], role?: 'user'): ContextItem {
  const first = sources[0] as ContextItem;
  return { id: `${first.id}S`, kind: 'summary', role, text, tokens: 3, createdAt: first.createdAt, anchor: first.anchor, touchedAt: first.touchedAt, summaryOf: sources.map((s) => s.id) };
}

describe('buildModelMessages', () => {
  it('turns become messages in context order; summaries and documents go into the system part', () => {
    const [a, b] = [turn('old question'), turn('old answer', 'assistant')];
    const doc: ContextItem = { ...turn('Runbook text.'), kind: 'document', role: undefined, document: { path: 'runbook.md', chunk: 2, hash: 'h' } };
    const ask = turn('new question');
    const messages = buildModelMessages({ identity: undefined, extraSystemPrompt: 'Be brief.', items: [summary('They talked about X.', [a as ContextItem, b as ContextItem]), doc, ask], userMessage: { id: ask.id, text: ask.text } });
    expect(messages).toEqual([
      { role: 'system', content: `Be brief.\n\n${MEMORY_HEADING}\n[summary] They talked about X.\n[document runbook.md #2] Runbook text.` },
      { role: 'user', content: 'new question' },
    ]);
  });

  it('the summary of one oversized message stands in its place with its role', () => {
    const big = turn('huge');
    const messages = buildModelMessages({ identity: undefined, items: [summary('clipped', [big], 'user')], userMessage: { id: big.id, text: 'huge' } });
    expect(messages).toEqual([{ role: 'user', content: 'clipped' }]);
  });

  it('adds the run\'s own user message last when the context no longer holds it', () => {
    const earlier = turn('earlier');
    const messages = buildModelMessages({ identity: undefined, items: [earlier], userMessage: { id: 'gone', text: 'the question' } });
    expect(messages).toEqual([{ role: 'user', content: 'earlier' }, { role: 'user', content: 'the question' }]);
  });

  it('shows the turn\'s images with its own message, or with what stands in for it', () => {
    const images = [{ mimeType: 'image/png' as const, data: 'AAAA' }];
    const [earlier, ask] = [turn('earlier'), turn('what is this?')];
    expect(buildModelMessages({ identity: undefined, items: [earlier, ask], userMessage: { id: ask.id, text: ask.text, images } })).toEqual([
      { role: 'user', content: 'earlier' },
      { role: 'user', content: 'what is this?', images },
    ]);
    const big = turn('huge');
    expect(buildModelMessages({ identity: undefined, items: [summary('clipped', [big], 'user')], userMessage: { id: big.id, text: 'huge', images } })).toEqual([
      { role: 'user', content: 'clipped', images },
    ]);
    // An image with no text is no context item: the message is added last, with its images.
    expect(buildModelMessages({ identity: undefined, items: [earlier], userMessage: { id: undefined, text: '', images } })).toEqual([
      { role: 'user', content: 'earlier' },
      { role: 'user', content: '', images },
    ]);
  });
});
