/**
 * The limits of a session's active context. Crossing one never fails a request: an oversized message is
 * summarized to fit, and a context over its item or token limit evicts its oldest unpinned items at once
 * (the memory manager summarizes earlier, at `summarizeAtPercent`, so evictions are the backstop).
 */

export interface ContextLimits {
  /** Largest message text kept as itself in the active context, in UTF-8 bytes; a longer one is summarized to fit. */
  readonly maxMessageBytes: number;
  /** Most items in one active context. */
  readonly maxItems: number;
  /** Most tokens in one active context (counted with tokens.ts). */
  readonly maxTokens: number;
}

/** Default of `memoryMaxMessageBytes`, in bytes (about 8,000 tokens of English). */
export const DEFAULT_MAX_MESSAGE_BYTES = 32_768;
/** Default of `memoryMaxItems`, in items. */
export const DEFAULT_MAX_ITEMS = 200;
/** Default of `memoryMaxTokens`, in tokens. */
export const DEFAULT_MAX_TOKENS = 16_000;

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxItems: DEFAULT_MAX_ITEMS,
  maxTokens: DEFAULT_MAX_TOKENS,
};
