/** ContextItems and SessionContexts for memory unit tests. */
import { newMemoryId } from '../../memory/ids.js';
import type { ContextLimits } from '../../memory/limits.js';
import type { ContextChange, ContextItem } from '../../memory/memory-types.js';
import { SessionContext } from '../../memory/session-context.js';
import { countTokens } from '../../memory/tokens.js';

export function turn(text: string, role: 'user' | 'assistant' = 'user', now = Date.now()): ContextItem {
  const id = newMemoryId(now);
  return { id, kind: 'turn', role, text, tokens: countTokens(text), createdAt: now, anchor: id, touchedAt: now };
}

export interface TestContext {
  context: SessionContext;
  changes: ContextChange[];
}

export function testContext(limits: Partial<ContextLimits> = {}, options: { trace?: boolean } = {}): TestContext {
  const changes: ContextChange[] = [];
  // A clock that always moves forward (and is ahead of the items made with turn()), so LRU order is exact.
  let tick = Date.now() + 1_000_000;
  const context = new SessionContext('agent:main:test', 'sid-1', {
    limits: { maxMessageBytes: 4_096, maxItems: 50, maxTokens: 10_000, ...limits },
    now: () => ++tick,
    onChange: (change) => changes.push(change),
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  });
  return { context, changes };
}
