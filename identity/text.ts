/** Text clean-up shared by the parser: strict UTF-8, one newline style, no HTML comments, safe cuts. */

export type DecodeResult = { ok: true; text: string } | { ok: false; message: string };

/**
 * Strict UTF-8 (a BOM is dropped). `cutShort` means the bytes stop before the end of the file, so an incomplete
 * character at the very end is dropped instead of being called invalid. Newlines become `\n`.
 */
export function decodeUtf8(bytes: Uint8Array, cutShort: boolean): DecodeResult {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cutShort });
    return { ok: true, text: text.replace(/\r\n?/g, '\n') };
  } catch {
    return { ok: false, message: `is not valid UTF-8 (first bad byte at offset ${firstInvalidOffset(bytes)})` };
  }
}

/** Byte offset of the first byte that breaks UTF-8, found by decoding ever longer prefixes in halves. */
function firstInvalidOffset(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

// A comment body is anything up to the first `-->`; the lookahead keeps one match from spanning two comments.
const COMMENT = String.raw`<!--(?:(?!-->)[\s\S])*-->`;
const WHOLE_LINE_COMMENT = new RegExp(String.raw`^[ \t]*${COMMENT}[ \t]*(?:\n|$)`, 'gm');
const INLINE_COMMENT = new RegExp(COMMENT, 'g');

/**
 * Removes `<!-- ... -->` comments everywhere (code blocks included: a comment never reaches the model).
 * A comment alone on its lines takes those lines with it. An `<!--` that is never closed hides the rest of
 * the text, like in HTML, and is reported through `unclosed`.
 */
export function stripHtmlComments(text: string): { text: string; unclosed: boolean } {
  const stripped = text.replace(WHOLE_LINE_COMMENT, '').replace(INLINE_COMMENT, '');
  const open = stripped.indexOf('<!--');
  return open === -1 ? { text: stripped, unclosed: false } : { text: stripped.slice(0, open), unclosed: true };
}

/** Drops blank lines at the start and whitespace at the end, keeping the first line's indentation. */
export function trimBlankLines(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

/** The first `max` UTF-16 code units of `text`, one fewer when the cut would split a surrogate pair. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max);
  const last = text.charCodeAt(cut - 1);
  if (cut > 0 && last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return text.slice(0, cut);
}

/** Trimmed, inner whitespace collapsed, Unicode NFC, lower case: how keys and `##` headings are compared. */
export function normalizeName(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}
