/**
 * Applies the character limits to the files' contents, highest precedence first: each file is cut to its own
 * limit (USER.md: the smaller of its two) and to what is left of the total, so lower files are cut first.
 */
import type { IdentityNotice } from './types.js';
import type { IdentityLimits } from './limits.js';
import type { FileContent } from './parse-file.js';
import { truncateChars } from './text.js';

type Readable = Extract<FileContent, { ok: true }>;

function fileLimit(name: string, limits: IdentityLimits): { chars: number; label: string } {
  if (name === 'USER.md' && limits.maxUserFileChars < limits.maxFileChars) {
    return { chars: limits.maxUserFileChars, label: `USER.md limit of ${limits.maxUserFileChars}` };
  }
  return { chars: limits.maxFileChars, label: `per-file limit of ${limits.maxFileChars}` };
}

/** `contents` must be in precedence order; returns the kept text per file plus truncation notices. */
export function limitContents(
  contents: readonly Readable[],
  limits: IdentityLimits,
): { kept: Map<string, string>; notices: IdentityNotice[] } {
  const kept = new Map<string, string>();
  const notices: IdentityNotice[] = [];
  let remaining = limits.maxTotalChars;
  for (const { name, content } of contents) {
    const own = fileLimit(name, limits);
    const limit = Math.max(0, Math.min(own.chars, remaining));
    const text = truncateChars(content, limit);
    if (text.length < content.length) {
      const why = own.chars <= remaining ? own.label : `limit of ${limits.maxTotalChars} for all files together`;
      const message = `${name} has ${content.length} characters; only the first ${text.length} are used (${why})`;
      notices.push({ file: name, kind: 'truncated', message });
    }
    kept.set(name, text);
    remaining -= text.length;
  }
  return { kept, notices };
}
