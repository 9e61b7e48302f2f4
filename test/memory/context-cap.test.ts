import { describe, expect, it } from 'vitest';
import { memoryFixture } from '../helpers/memory-store.js';

const texts = (items: readonly { text: string }[]) => items.map((item) => item.text);

describe('MemoryService context cap', () => {
  it.each([
    ['with long-term memory', true],
    ['RAM only (memoryV1 off)', false],
  ])('keeps at most maxContexts contexts in RAM, unloading the least recently used, %s', (_case, longTerm) => {
    const f = memoryFixture({ longTerm, maxContexts: 2 });
    for (const key of ['agent:main:a', 'agent:main:b', 'agent:main:c']) f.say(key, 'user', `hello from ${key}`);
    expect(f.memory.contexts().map((c) => c.sessionKey)).toEqual(['agent:main:b', 'agent:main:c']);
    // b is used again, then a comes back: c is now the least recently used, so c is the one unloaded.
    f.say('agent:main:b', 'assistant', 'b again');
    f.say('agent:main:a', 'user', 'a is back');
    expect(f.memory.contexts().map((c) => c.sessionKey)).toEqual(['agent:main:b', 'agent:main:a']);
  });

  it.each([
    ['with long-term memory', true],
    ['RAM only (memoryV1 off)', false],
  ])('rebuilds an unloaded context with everything it held, %s', (_case, longTerm) => {
    const f = memoryFixture({ longTerm, maxContexts: 1 });
    f.say('agent:main:a', 'user', 'first in a');
    f.say('agent:main:a', 'assistant', 'reply in a');
    f.say('agent:main:b', 'user', 'pushes a out');
    expect(f.memory.contexts().map((c) => c.sessionKey)).toEqual(['agent:main:b']);
    const sessionId = f.store.sessions.get('agent:main:a')?.sessionId as string;
    expect(texts(f.memory.context('agent:main:a', sessionId).items)).toEqual(['first in a', 'reply in a']);
  });
});
