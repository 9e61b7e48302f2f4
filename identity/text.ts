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

const COMMENT_OPEN = '<!--';
const COMMENT_CLOSE = '-->';

/**
 * Removes `<!-- ... -->` comments everywhere (code blocks included: a comment never reaches the model).
 * A comment alone on its lines takes those lines with it. An `<!--` that is never closed hides the rest of
 * the text, like in HTML, and is reported through `unclosed`. A comment ends at the first `-->` after its `<!--`.
 *
 * One pass with indexOf, linear in the text: regular expressions for this (a comment body as
 * `(?:(?!-->)[\s\S])*`) scan to the end of the text again from every `<!--` that is not closed, quadratic
 * in a file of openers (a 64 KB one took 2.4 s; files are read up to 1 MB).
 */
export function stripHtmlComments(text: string): { text: string; unclosed: boolean } {
  const kept: string[] = [];
  let from = 0;
  let unclosed = false;
  for (let open = text.indexOf(COMMENT_OPEN); open !== -1; open = text.indexOf(COMMENT_OPEN, from)) {
    const close = text.indexOf(COMMENT_CLOSE, open + COMMENT_OPEN.length);
    if (close === -1) {
      kept.push(text.slice(from, open));
      unclosed = true;
      break;
    }
    const cut = wholeLines(text, open, close + COMMENT_CLOSE.length);
    kept.push(text.slice(from, cut.start));
    from = cut.end;
  }
  if (!unclosed) kept.push(text.slice(from));
  const stripped = kept.join('');
  // Text on both sides of a removed comment may join into a new `<!--`: it is unclosed by the rule above.
  const open = stripped.indexOf(COMMENT_OPEN);
  return open === -1 ? { text: stripped, unclosed } : { text: stripped.slice(0, open), unclosed: true };
}

/**
 * What removing the comment from `start` to `end` removes: its whole lines (and the `\n` after them) when only
 * spaces and tabs share them, else the comment alone. Lines end where a regular expression's `^` and `$` put
 * them: at `\n`, `\r`, U+2028 and U+2029.
 */
function wholeLines(text: string, start: number, end: number): { start: number; end: number } {
  let lineStart = start;
  while (lineStart > 0 && isSpaceOrTab(text[lineStart - 1])) lineStart -= 1;
  if (lineStart > 0 && !isLineBreak(text[lineStart - 1])) return { start, end };
  let lineEnd = end;
  while (lineEnd < text.length && isSpaceOrTab(text[lineEnd])) lineEnd += 1;
  if (lineEnd === text.length) return { start: lineStart, end: lineEnd };
  if (text[lineEnd] === '\n') return { start: lineStart, end: lineEnd + 1 };
  return isLineBreak(text[lineEnd]) ? { start: lineStart, end: lineEnd } : { start, end };
}

function isLineBreak(char: string | undefined): boolean {
  return char === '\n' || char === '\r' || char === '\u2028' || char === '\u2029';
}

/** A space or a tab: the blanks markdown allows around markers, headings and comments on a line. */
export function isSpaceOrTab(char: string | undefined): boolean {
  return char === ' ' || char === '\t';
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
