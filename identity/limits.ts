/**
 * Every limit of the identity layer, with its unit. Characters are UTF-16 code units (JavaScript's
 * `String.length`), counted on a file's text after HTML comments are removed; a cut never splits a surrogate pair.
 */

/** Most characters taken from one identity file (front matter included). */
export const DEFAULT_MAX_FILE_CHARS = 20_000;
/** Most characters taken from all of an agent's identity files together; files lower in precedence are cut first. */
export const DEFAULT_MAX_TOTAL_CHARS = 60_000;
/** Most characters taken from USER.md (it is also subject to the two limits above). */
export const DEFAULT_MAX_USER_FILE_CHARS = 4_000;
/** Most bytes read from one identity file; the rest is never read (1 MiB). */
export const DEFAULT_MAX_FILE_BYTES = 1_048_576;

/** Quiet time after the last file-system event before packets are rebuilt, in ms. */
export const DEFAULT_DEBOUNCE_MS = 100;
/** `packet()` re-checks an agent's files (a few `stat` calls) at most this often, in ms; covers unreliable watching. */
export const DEFAULT_RECHECK_INTERVAL_MS = 1_000;
/** How often a workspace folder that does not exist (yet) is looked for, in ms. */
export const DEFAULT_WORKSPACE_POLL_MS = 1_000;
/** Most agent subfolders watched at once; further ones are still re-checked by `packet()`. */
export const DEFAULT_MAX_WATCHED_FOLDERS = 256;

export interface IdentityLimits {
  /** Characters per file; default {@link DEFAULT_MAX_FILE_CHARS}. */
  maxFileChars: number;
  /** Characters for all files of one agent; default {@link DEFAULT_MAX_TOTAL_CHARS}. */
  maxTotalChars: number;
  /** Characters for USER.md; default {@link DEFAULT_MAX_USER_FILE_CHARS}. */
  maxUserFileChars: number;
  /** Bytes read per file; default {@link DEFAULT_MAX_FILE_BYTES}. */
  maxFileBytes: number;
}

export const DEFAULT_IDENTITY_LIMITS: Readonly<IdentityLimits> = Object.freeze({
  maxFileChars: DEFAULT_MAX_FILE_CHARS,
  maxTotalChars: DEFAULT_MAX_TOTAL_CHARS,
  maxUserFileChars: DEFAULT_MAX_USER_FILE_CHARS,
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
});

/** The defaults with the caller's overrides applied. */
export function resolveLimits(overrides: Partial<IdentityLimits> = {}): Readonly<IdentityLimits> {
  return Object.freeze({ ...DEFAULT_IDENTITY_LIMITS, ...overrides });
}
