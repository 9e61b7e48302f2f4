/** Shared-secret auth: the token may come in `auth.token` or `auth.password`; compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ConnectParams } from '../protocol/methods/connect.js';
import type { ErrorName } from '../protocol/errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality whatever the lengths (both sides are hashed to 32 bytes first). */
export function secretEquals(provided: string, expected: string): boolean {
  return timingSafeEqual(digest(provided), digest(expected));
}

export type AuthResult =
  | { ok: true; method: 'token' | 'password' | 'none' }
  | { ok: false; error: ErrorName; details: Record<string, unknown> };

export function authenticate(auth: ConnectParams['auth'], token: string | undefined): AuthResult {
  if (token === undefined) return { ok: true, method: 'none' };
  const candidates: ['token' | 'password', string][] = [];
  if (auth?.token) candidates.push(['token', auth.token]);
  if (auth?.password) candidates.push(['password', auth.password]);
  if (candidates.length === 0) {
    return failure('AUTH_TOKEN_MISSING', 'token_missing', 'update_auth_configuration');
  }
  // Check every candidate so the time taken does not tell which field matched.
  let matched: 'token' | 'password' | undefined;
  for (const [method, value] of candidates) if (secretEquals(value, token) && matched === undefined) matched = method;
  if (matched !== undefined) return { ok: true, method: matched };
  return candidates[0]?.[0] === 'password'
    ? failure('AUTH_PASSWORD_MISMATCH', 'password_mismatch', 'update_auth_credentials')
    : failure('AUTH_TOKEN_MISMATCH', 'token_mismatch', 'update_auth_credentials');
}

function failure(error: ErrorName, authReason: string, recommendedNextStep: string): AuthResult {
  return { ok: false, error, details: { authReason, canRetryWithDeviceToken: false, recommendedNextStep } };
}
