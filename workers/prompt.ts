/**
 * Builds the model request for a turn: the identity packet's system prompt, the request's extra system
 * prompt, then the session's recent transcript (which already ends with the turn's user message).
 */
import type { StoredMessage } from '../memory/types.js';
import { messageText } from '../memory/transcript-store.js';
import type { IdentityPacket } from '../identity/types.js';
import type { ModelMessage } from './providers/types.js';

/** Transcript messages sent to the model at most. */
export const PROMPT_HISTORY_MAX_MESSAGES = 40;
/** Characters of transcript sent to the model at most; the oldest messages are left out first. */
export const PROMPT_HISTORY_MAX_CHARS = 48_000;

export interface PromptInput {
  identity: IdentityPacket | undefined;
  extraSystemPrompt?: string | undefined;
  history: readonly StoredMessage[];
}

export function buildModelMessages(input: PromptInput): ModelMessage[] {
  const system = [input.identity?.systemPrompt, input.extraSystemPrompt]
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .join('\n\n');
  const turns: ModelMessage[] = [];
  let budget = PROMPT_HISTORY_MAX_CHARS;
  for (const stored of [...input.history].reverse()) {
    if (turns.length >= PROMPT_HISTORY_MAX_MESSAGES) break;
    const role = stored.message.role;
    if (role !== 'user' && role !== 'assistant') continue;
    const content = messageText(stored.message);
    if (content === '' && role === 'assistant') continue;
    if (content.length > budget && turns.length > 0) break;
    budget -= content.length;
    turns.push({ role, content });
  }
  turns.reverse();
  return system === '' ? turns : [{ role: 'system', content: system }, ...turns];
}
