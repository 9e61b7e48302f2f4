import type { ModelInfo } from './types.js';

/** Where the OpenAI-compatible provider sends requests when no base URL is configured. */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** Where the Anthropic provider sends requests when no base URL is configured (`/v1/messages` is appended). */
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export type ModelProviderKind = 'openai' | 'anthropic' | 'local';

/**
 * One configured model, as plain data (from the config file or flags).
 * `id` is the name brainstem uses for it (`models.list`, failover status events); `model` is the vendor's id
 * sent in the request. The API key is a secret: it is never put in an error message or a log line.
 */
export interface ModelConfig {
  id: string;
  provider: ModelProviderKind;
  /** Vendor model id, e.g. `gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.2`, `local-echo`. */
  model: string;
  /** Default: DEFAULT_OPENAI_BASE_URL / DEFAULT_ANTHROPIC_BASE_URL. */
  baseUrl?: string;
  apiKey?: string;
  /** Context window in tokens, shown by `models.list`. */
  contextWindow?: number;
  /** Upper bound on generated tokens per call; a request's own `maxOutputTokens` wins. */
  maxOutputTokens?: number;
  /**
   * Whether a call needs `apiKey`. Default: true exactly when `baseUrl` points at the vendor's own API
   * (api.openai.com, api.anthropic.com); self-hosted OpenAI-compatible servers (Ollama, vLLM, llama.cpp
   * server, LM Studio) and local proxies are assumed not to. Set it for hosted third-party APIs.
   */
  requiresApiKey?: boolean;
}

const VENDOR_HOSTS: Record<ModelProviderKind, string | undefined> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  local: undefined,
};

/** The base URL in effect for a model (no trailing slash). */
export function effectiveBaseUrl(config: ModelConfig): string {
  const fallback = config.provider === 'anthropic' ? DEFAULT_ANTHROPIC_BASE_URL : DEFAULT_OPENAI_BASE_URL;
  const url = config.baseUrl ?? fallback;
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end -= 1;
  return url.slice(0, end);
}

/** True when calls to this model need an API key (see ModelConfig.requiresApiKey). */
export function requiresApiKey(config: ModelConfig): boolean {
  if (config.requiresApiKey !== undefined) return config.requiresApiKey;
  const vendorHost = VENDOR_HOSTS[config.provider];
  if (vendorHost === undefined) return false;
  try {
    return new URL(effectiveBaseUrl(config)).hostname === vendorHost;
  } catch {
    return false;
  }
}

/** How `models.list` shows a configured model: available unless it needs a key it does not have. */
export function modelInfo(config: ModelConfig): ModelInfo {
  const info: ModelInfo = {
    id: config.id,
    name: config.model,
    provider: config.provider,
    available: !requiresApiKey(config) || !!config.apiKey,
  };
  if (config.contextWindow !== undefined) info.contextWindow = config.contextWindow;
  if (config.maxOutputTokens !== undefined) info.maxOutputTokens = config.maxOutputTokens;
  return info;
}
