/**
 * Builds the model request for a turn from the identity packet's system prompt, the request's extra system
 * prompt and the items of the session's active context (a SessionContext lease, which already ends with the
 * turn's user message and is already within the context's item and token limits). Items with a role (turns,
 * and the summary of one oversized message, which stands in its place) become messages in context order;
 * summaries of several items and document chunks go into the system part, as memory the model may use.
 */
import type { ContextItem } from '../memory/memory-types.js';
import type { IdentityPacket } from '../identity/types.js';
import type { ModelMessage } from './providers/types.js';

export interface PromptInput {
  identity: IdentityPacket | undefined;
  extraSystemPrompt?: string | undefined;
  /** The run's lease of its session's active context, in context order. */
  items: readonly ContextItem[];
  /**
   * The run's own user message. Its item is normally the lease's last; if the context no longer holds it
   * (evicted by a limit while the run was queued behind many others) nor a summary of it, it is added last.
   */
  userMessage?: { id: string | undefined; text: string } | undefined;
}

/** Heading of the system part that carries summaries and documents. */
export const MEMORY_HEADING = 'Memory of this session (summaries of earlier conversation and documents):';

function memoryLine(item: ContextItem): string {
  if (item.kind === 'document' && item.document !== undefined) return `[document ${item.document.path} #${item.document.chunk}] ${item.text}`;
  return `[summary] ${item.text}`;
}

export function buildModelMessages(input: PromptInput): ModelMessage[] {
  const turns: ModelMessage[] = [];
  const memory: string[] = [];
  for (const item of input.items) {
    if (item.text === '') continue;
    if (item.role !== undefined) turns.push({ role: item.role, content: item.text });
    else memory.push(memoryLine(item));
  }
  const own = input.userMessage;
  if (own !== undefined && !input.items.some((item) => item.id === own.id || (own.id !== undefined && item.summaryOf?.includes(own.id)))) {
    turns.push({ role: 'user', content: own.text });
  }
  const system = [input.identity?.systemPrompt, input.extraSystemPrompt, memory.length === 0 ? undefined : [MEMORY_HEADING, ...memory].join('\n')]
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .join('\n\n');
  return system === '' ? turns : [{ role: 'system', content: system }, ...turns];
}
