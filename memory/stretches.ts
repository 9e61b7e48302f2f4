/**
 * Stretches of a long text spread evenly from its start to its end, each starting and ending on a line, sentence
 * or word boundary where one is near, never inside a character: what is read of a text too long to read whole
 * (the summary of an oversized message, the sample a token count is estimated from); and the longest prefix or
 * suffix of a text within a UTF-8 byte budget.
 */

/** How far into a stretch its start and end may move to fall on a boundary. */
const SNAP_FRACTION = 0.25;

/**
 * `count` stretches of about `size` characters, the first at the start of `text` and the last at its end. With
 * `snap: false` they are cut where they fall (only never inside a character): what a token count's sample needs,
 * since moving to boundaries leaves out the whitespace around them and biases the sample.
 */
export function stretches(text: string, size: number, count: number, options: { snap: boolean } = { snap: true }): string[] {
  const step = count <= 1 ? 0 : (text.length - size) / (count - 1);
  return Array.from({ length: count }, (_, i) => {
    const start = Math.round(i * step);
    const end = start + size;
    if (!options.snap) return text.slice(isLowSurrogate(text, start) ? start + 1 : start, isLowSurrogate(text, end) ? end - 1 : end);
    return text.slice(snapStart(text, start, size), snapEnd(text, end, size));
  });
}

/** Moves a stretch's start just past the first line, sentence or word boundary in its first part. */
export function snapStart(text: string, start: number, size: number): number {
  if (start === 0) return 0;
  const part = text.slice(start, start + Math.floor(size * SNAP_FRACTION));
  for (const pattern of [/[\n.!?]\s*/, /\s+/]) {
    const match = pattern.exec(part);
    if (match !== null) return start + match.index + match[0].length;
  }
  return isLowSurrogate(text, start) ? start + 1 : start;
}

/** Moves a stretch's end back to just after the last line, sentence or word boundary in its last part. */
export function snapEnd(text: string, end: number, size: number): number {
  if (end >= text.length) return text.length;
  const from = end - Math.floor(size * SNAP_FRACTION);
  const part = text.slice(from, end);
  for (const pattern of [/[\n.!?][^\n.!?]*$/, /\s\S*$/]) {
    const match = pattern.exec(part);
    if (match !== null) return from + match.index + 1;
  }
  return isLowSurrogate(text, end) ? end - 1 : end;
}

/** Code units of the longest prefix of `text` within `maxBytes` of UTF-8, whole characters only. */
export function utf8PrefixEnd(text: string, maxBytes: number): number {
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const pair = isLowSurrogate(text, end + 1) && isHighSurrogate(text, end);
    bytes += pair ? 4 : utf8Bytes(text.charCodeAt(end));
    if (bytes > maxBytes) break;
    end += pair ? 2 : 1;
  }
  return end;
}

/** Where the longest suffix of `text` within `maxBytes` of UTF-8 starts, whole characters only. */
export function utf8SuffixStart(text: string, maxBytes: number): number {
  let bytes = 0;
  let start = text.length;
  while (start > 0) {
    const pair = start >= 2 && isLowSurrogate(text, start - 1) && isHighSurrogate(text, start - 2);
    bytes += pair ? 4 : utf8Bytes(text.charCodeAt(start - 1));
    if (bytes > maxBytes) break;
    start -= pair ? 2 : 1;
  }
  return start;
}

/** UTF-8 bytes of a character of the Basic Multilingual Plane; a lone surrogate is written as U+FFFD, 3 bytes. */
function utf8Bytes(unit: number): number {
  return unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
}

function isHighSurrogate(text: string, at: number): boolean {
  const unit = text.charCodeAt(at);
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** The code unit at `at` is the second half of a surrogate pair: a cut there would split a character. */
function isLowSurrogate(text: string, at: number): boolean {
  const unit = text.charCodeAt(at);
  return unit >= 0xdc00 && unit <= 0xdfff;
}
