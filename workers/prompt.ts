/**
 * Builds the model request for a turn from the identity packet's system prompt, the request's extra system
 * prompt and the items of the session's active context (a SessionContext lease, which already ends with the
 * turn's user message and is already within the context's item and token limits). Items with a role (turns,
 * and the summary of one oversized message, which stands in its place) become messages in context order;
 * summaries of several items and document chunks go into the system part, as memory the model may use.
 */
import type { ContextItem } from '../memory/memory-types.js';
import { countTokens } from '../memory/tokens.js';
import type { IdentityPacket } from '../identity/types.js';
import type { ModelImage, ModelMessage } from './providers/types.js';

export interface PromptInput {
  identity: IdentityPacket | undefined;
  extraSystemPrompt?: string | undefined;
  /** The run's lease of its session's active context, in context order. */
  items: readonly ContextItem[];
  /**
   * The run's own user message. Its item is normally the lease's last; if the context no longer holds it
   * (evicted by a limit while the run was queued behind many others) nor a summary of it, it is added last.
   */
  userMessage?: { id: string | undefined; text: string; images?: readonly ModelImage[] | undefined } | undefined;
}

/** Heading of the system part that carries summaries and documents. */
export const MEMORY_HEADING = 'Memory of this session (summaries of earlier conversation and documents):';

function memoryLine(item: ContextItem): string {
  if (item.kind === 'document' && item.document !== undefined) return `[document ${item.document.path} #${item.document.chunk}] ${item.text}`;
  return `[summary] ${item.text}`;
}

/** A prompt and its size in tokens (cl100k_base), counted from the items' cached counts. */
export interface BuiltPrompt {
  messages: ModelMessage[];
  tokens: number;
}

/** Token counts of identity system prompts, by packet hash (a few packets live at a time). */
const identityTokens = new Map<string, number>();
/** Identity packets remembered at most; the map is cleared past it. */
const IDENTITY_TOKEN_CACHE = 64;

function systemPromptTokens(identity: IdentityPacket | undefined): number {
  if (identity === undefined) return 0;
  let tokens = identityTokens.get(identity.hash);
  if (tokens === undefined) {
    if (identityTokens.size >= IDENTITY_TOKEN_CACHE) identityTokens.clear();
    tokens = countTokens(identity.systemPrompt);
    identityTokens.set(identity.hash, tokens);
  }
  return tokens;
}

/** The model messages and the prompt's token count (items' cached counts; only new text is counted). */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const messages = buildModelMessages(input);
  let tokens = systemPromptTokens(input.identity) + (input.extraSystemPrompt === undefined ? 0 : countTokens(input.extraSystemPrompt));
  let hasOwn = false;
  for (const item of input.items) {
    tokens += item.tokens;
    if (item.id === input.userMessage?.id) hasOwn = true;
  }
  if (!hasOwn && input.userMessage !== undefined && messages.at(-1)?.content === input.userMessage.text) tokens += countTokens(input.userMessage.text);
  return { messages, tokens };
}

/**
 * The item that stands for the run's own message: its own item, else the summary that took it in. Ids are compared
 * first, so the summaries' source lists are searched only when the message was summarized (not once per item).
 */
function standIn(items: readonly ContextItem[], id: string | undefined): ContextItem | undefined {
  if (id === undefined) return undefined;
  return items.find((item) => item.id === id) ?? items.find((item) => item.summaryOf?.includes(id) === true);
}

export function buildModelMessages(input: PromptInput): ModelMessage[] {
  const turns: ModelMessage[] = [];
  const memory: string[] = [];
  const own = input.userMessage;
  const ownItem = standIn(input.items, own?.id);
  // The turn's images go with its own message (or the summary standing in for it); earlier turns' are not sent again.
  const images = own?.images !== undefined && own.images.length > 0 ? { images: own.images } : {};
  let ownPlaced = false;
  for (const item of input.items) {
    if (item.text === '') continue;
    const mine = item === ownItem;
    ownPlaced ||= mine;
    if (item.role !== undefined) turns.push(mine ? { role: item.role, content: item.text, ...images } : { role: item.role, content: item.text });
    else memory.push(memoryLine(item));
  }
  if (own !== undefined && !ownPlaced) turns.push({ role: 'user', content: own.text, ...images });
  const system = [input.identity?.systemPrompt, input.extraSystemPrompt, memory.length === 0 ? undefined : [MEMORY_HEADING, ...memory].join('\n')]
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .join('\n\n');
  return system === '' ? turns : [{ role: 'system', content: system }, ...turns];
}
