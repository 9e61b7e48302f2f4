import { ProviderError } from './types.js';

/** Longest piece of a vendor's error text copied into a ProviderError message, in characters. */
export const MAX_VENDOR_MESSAGE_CHARS = 300;

/** What a vendor said about a failure, from an HTTP error body or an in-stream error event. */
export interface VendorError {
  message?: string;
  /** Machine code (`context_length_exceeded`, `rate_limit_exceeded`, ...). */
  code?: string;
  /** Error class (`invalid_request_error`, `overloaded_error`, ...). */
  type?: string;
}

// The wordings OpenAI, vLLM, llama.cpp server and Anthropic use when the prompt does not fit.
const CONTEXT_LENGTH_TEXT = /context[ _-]?(length|size|window)|maximum context|prompt is too long|too many tokens/i;
// Socket-level failures: the request did not get an answer from the server.
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);
const TLS_CODE = /CERT|SSL|TLS/;

/**
 * Milliseconds to wait from a `Retry-After` header (delay-seconds or an HTTP date) or OpenAI's
 * `retry-after-ms`; undefined when absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(
  retryAfter: string | undefined,
  retryAfterMs?: string,
  now: number = Date.now(),
): number | undefined {
  if (retryAfterMs !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(retryAfterMs)) {
    return Math.ceil(Number(retryAfterMs));
  }
  if (retryAfter === undefined) return undefined;
  const value = retryAfter.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Replaces every occurrence of `secret` in `text`; used on all vendor text that reaches an error message. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]');
}

/** True when a vendor error says the prompt exceeds the model's context window. */
export function isContextLength(error: VendorError): boolean {
  if (error.code === 'context_length_exceeded' || error.type === 'exceed_context_size_error') return true;
  return error.message !== undefined && CONTEXT_LENGTH_TEXT.test(error.message);
}

/**
 * Maps an HTTP failure to a ProviderError: 429 → `rate_limit`; 400 about the context window or 413 →
 * `context_length`; 408 → `timeout`; 5xx (incl. Anthropic's 529) → `server`; anything else → `unknown`.
 * `secret` is redacted from the vendor's text.
 */
export function errorFromStatus(
  label: string,
  status: number,
  vendor: VendorError,
  options: { retryAfterMs?: number; secret?: string } = {},
): ProviderError {
  const text = describe(vendor, options.secret);
  const retry = options.retryAfterMs;
  const extra = retry === undefined ? { status } : { status, retryAfterMs: retry };
  if (status === 429) return new ProviderError('rate_limit', `${label}: rate limited (HTTP 429)${text}`, extra);
  if (status === 413 || (status === 400 && isContextLength(vendor))) {
    return new ProviderError('context_length', `${label}: the prompt does not fit the context window${text}`, extra);
  }
  if (status === 408) return new ProviderError('timeout', `${label}: the server timed out (HTTP 408)${text}`, extra);
  if (status >= 500) return new ProviderError('server', `${label}: server error (HTTP ${status})${text}`, extra);
  return new ProviderError('unknown', `${label}: request failed (HTTP ${status})${text}`, extra);
}

/** Maps a socket or DNS failure to `connect`; anything else to `unknown`. The URL is never included. */
export function errorFromNetwork(label: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = errorCode(error);
  if (code !== undefined && (CONNECT_CODES.has(code) || TLS_CODE.test(code))) {
    return new ProviderError('connect', `${label}: cannot reach the model server (${code})`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('unknown', `${label}: ${message}`, { cause: error });
}

/** The `code` of a Node system error, if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function describe(vendor: VendorError, secret: string | undefined): string {
  const parts = [vendor.code ?? vendor.type, vendor.message].filter((p): p is string => !!p);
  if (parts.length === 0) return '';
  let text = redact(parts.join(': '), secret);
  if (text.length > MAX_VENDOR_MESSAGE_CHARS) text = `${text.slice(0, MAX_VENDOR_MESSAGE_CHARS)}…`;
  return `: ${text}`;
}
