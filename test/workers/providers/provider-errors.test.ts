import { describe, expect, it } from 'vitest';
import {
  errorFromNetwork,
  errorFromStatus,
  isContextLength,
  parseRetryAfter,
  redact,
} from '../../../workers/providers/provider-errors.js';
import { ProviderError } from '../../../workers/providers/types.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it("reads delay-seconds, HTTP dates and OpenAI's retry-after-ms", () => {
    expect(parseRetryAfter('2', undefined, now)).toBe(2000);
    expect(parseRetryAfter(' 0.5 ', undefined, now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', undefined, now)).toBe(30_000);
    expect(parseRetryAfter('20', '150', now)).toBe(150);
  });

  it('gives 0 for a past date and undefined for nothing or garbage', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', undefined, now)).toBe(0);
    expect(parseRetryAfter(undefined, undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', 'later', now)).toBeUndefined();
  });
});

describe('errorFromStatus', () => {
  it('maps statuses to kinds', () => {
    const kind = (status: number, vendor = {}) => errorFromStatus('m', status, vendor).kind;
    expect(kind(429)).toBe('rate_limit');
    expect(kind(500)).toBe('server');
    expect(kind(503)).toBe('server');
    expect(kind(529)).toBe('server');
    expect(kind(408)).toBe('timeout');
    expect(kind(413)).toBe('context_length');
    expect(kind(400, { code: 'context_length_exceeded' })).toBe('context_length');
    expect(kind(400, { message: "This model's maximum context length is 4096 tokens." })).toBe('context_length');
    expect(
      kind(400, { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' }),
    ).toBe('context_length');
    expect(kind(400, { message: 'messages: field required' })).toBe('unknown');
    expect(kind(401)).toBe('unknown');
  });

  it('writes a readable message with the status and the vendor text, without the key', () => {
    const error = errorFromStatus(
      'openai/gpt',
      401,
      { code: 'invalid_api_key', message: 'Incorrect API key provided: sk-secret-123' },
      { secret: 'sk-secret-123' },
    );
    expect(error.message).toBe(
      'openai/gpt: request failed (HTTP 401): invalid_api_key: Incorrect API key provided: [redacted]',
    );
    expect(error.status).toBe(401);
  });

  it('keeps retryAfterMs on the error', () => {
    expect(errorFromStatus('m', 429, {}, { retryAfterMs: 1200 }).retryAfterMs).toBe(1200);
  });
});

describe('errorFromNetwork', () => {
  it('maps refused, reset and DNS failures to `connect`, other errors to `unknown`', () => {
    const sys = (code: string) => Object.assign(new Error(`x ${code}`), { code });
    expect(errorFromNetwork('m', sys('ECONNREFUSED')).kind).toBe('connect');
    expect(errorFromNetwork('m', sys('ECONNRESET')).kind).toBe('connect');
    expect(errorFromNetwork('m', sys('ENOTFOUND')).message).toBe('m: cannot reach the model server (ENOTFOUND)');
    expect(errorFromNetwork('m', sys('ERR_TLS_CERT_ALTNAME_INVALID')).kind).toBe('connect');
    expect(errorFromNetwork('m', new Error('boom')).kind).toBe('unknown');
    const original = new ProviderError('refusal', 'no');
    expect(errorFromNetwork('m', original)).toBe(original);
  });
});

describe('redact and isContextLength', () => {
  it('redacts every occurrence and leaves text alone without a secret', () => {
    expect(redact('k=abc, again abc', 'abc')).toBe('k=[redacted], again [redacted]');
    expect(redact('k=abc', undefined)).toBe('k=abc');
  });

  it("recognizes llama.cpp's context error type", () => {
    expect(isContextLength({ type: 'exceed_context_size_error' })).toBe(true);
    expect(isContextLength({ message: 'rate limit reached' })).toBe(false);
  });
});
