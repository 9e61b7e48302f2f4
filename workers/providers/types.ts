/**
 * The one streaming interface every model provider implements. The brain is the only caller.
 * A provider yields events until the model stops, and throws a ProviderError when it cannot go on.
 * Every await inside a provider listens to `request.signal`: abort means stop now, including the HTTP request.
 */

/** The image formats a turn may carry (workers/attachments.ts tells them by their first bytes). */
export type ImageMimeType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** An image the model is shown with a user message: base64, no `data:` prefix. */
export interface ModelImage {
  mimeType: ImageMimeType;
  data: string;
}

export interface ModelMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Images shown with the text (user messages only: the turn's own attachments). */
  images?: readonly ModelImage[];
}

export interface ModelRequest {
  /** Provider-specific model id (e.g. `gpt-4o-mini`, `claude-sonnet-4-5`, `local-echo`). */
  model: string;
  messages: ModelMessage[];
  /** Upper bound on generated tokens; provider default when absent. */
  maxOutputTokens?: number;
  signal: AbortSignal;
  /** For logs and mock-server correlation only. */
  runId: string;
  /** The prompt's size in tokens as brainstem counts them (cl100k_base), when the caller knows it. */
  promptTokens?: number;
}

export interface ModelUsage {
  input?: number;
  output?: number;
  totalTokens?: number;
}

export type ModelStreamEvent =
  /** A piece of assistant text, in order. */
  | { type: 'text'; text: string }
  /** Token usage as reported by the provider (may come once, at the end). */
  | { type: 'usage'; usage: ModelUsage }
  /** Something the client should be told about without ending the run (e.g. failover to the next model). */
  | { type: 'status'; phase: string; detail?: Record<string, unknown> }
  /**
   * Which configured model answers from here on: `id` as configured, `model` the vendor's model id, `provider`
   * the provider kind (`openai`, `anthropic`, `local`). A failover chain yields one before each model it tries.
   */
  | { type: 'model'; id: string; model: string; provider: string }
  /** The model finished; `stopReason` as the provider reported it, normalized (`stop`, `length`, ...). */
  | { type: 'done'; stopReason: string };

/** OpenClaw's chat error kinds (protocol-openclaw.md §4), plus transport kinds used for failover decisions. */
export type ProviderErrorKind =
  | 'timeout'
  | 'rate_limit'
  | 'context_length'
  | 'refusal'
  | 'connect'
  | 'server'
  | 'aborted'
  | 'unknown';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A model as `models.list` shows it. */
export interface ModelInfo {
  id: string;
  name: string;
  provider: string;
  contextWindow?: number;
  maxOutputTokens?: number;
  /** False when the provider lacks what it needs (e.g. an API key). */
  available: boolean;
}

export interface ModelProvider {
  readonly id: string;
  /** The models this provider serves, as configured. */
  models(): ModelInfo[];
  stream(request: ModelRequest): AsyncIterable<ModelStreamEvent>;
  /** Release sockets and timers; safe to call twice. */
  close(): Promise<void>;
}
