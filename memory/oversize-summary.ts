/**
 * The summary that stands in a session's active context for a message longer than the context takes
 * (`memoryMaxMessageBytes`; the message itself is stored whole). Its cost is bounded whatever the message's
 * size: it is drawn from `OVERSIZE_SOURCE_FACTOR × maxBytes` characters of the message, so a multi-megabyte
 * paste costs the event loop a few milliseconds. Those characters are stretches spread evenly over the message:
 * its head and its tail verbatim, the stretches between them summarized (extractive-summary.ts), each within its
 * share of the budget, joined in order with an ellipsis. A long log or paste is seen by how it starts, how it
 * ends (where its error usually is) and samples of its middle: a summary of the head alone leaves the end out,
 * and one of the whole, scored by word frequency, keeps the routine lines and drops the rare one that matters.
 */
import { extractiveSummary } from './extractive-summary.js';
import { snapEnd, snapStart, stretches, utf8PrefixEnd, utf8SuffixStart } from './stretches.js';

/** Characters of an oversized message its summary is drawn from, as a multiple of the byte budget. */
export const OVERSIZE_SOURCE_FACTOR = 2;
/** Most stretches of the message the summary is drawn from. */
export const OVERSIZE_STRETCHES = 8;
/** Fewest bytes of the summary per stretch: a smaller budget draws from fewer, from the head alone under 1 KB. */
export const OVERSIZE_MIN_STRETCH_BYTES = 512;

const GAP = ' … ';
const GAP_BYTES = Buffer.byteLength(GAP);
const ELLIPSIS = '…';

export function oversizeSummary(text: string, maxBytes: number): string {
  const sourceChars = OVERSIZE_SOURCE_FACTOR * maxBytes;
  const count = Math.min(OVERSIZE_STRETCHES, Math.floor(maxBytes / OVERSIZE_MIN_STRETCH_BYTES));
  if (text.length <= sourceChars || count <= 1) return extractiveSummary([{ text: text.slice(0, sourceChars) }], { maxBytes });
  const share = Math.floor((maxBytes - (count - 1) * GAP_BYTES) / count);
  const pieces = stretches(text, Math.floor(sourceChars / count), count).map((stretch, i) => {
    if (i === 0) return head(stretch, share);
    if (i === count - 1) return tail(stretch, share);
    // A piece cut short ends with an ellipsis of its own; the gap after it says the same.
    const summary = extractiveSummary([{ text: stretch }], { maxBytes: share });
    return summary.endsWith(ELLIPSIS) ? summary.slice(0, -ELLIPSIS.length) : summary;
  });
  return pieces.filter((piece) => piece.trim() !== '').join(GAP);
}

/** The longest prefix of `text` within `maxBytes` of UTF-8, ending on a boundary where one is near. */
function head(text: string, maxBytes: number): string {
  const end = utf8PrefixEnd(text, maxBytes);
  if (end === text.length) return text;
  return text.slice(0, snapEnd(text, end, end)).trimEnd();
}

/** The longest suffix of `text` within `maxBytes` of UTF-8, starting on a boundary where one is near. */
function tail(text: string, maxBytes: number): string {
  const start = utf8SuffixStart(text, maxBytes);
  if (start === 0) return text;
  return text.slice(snapStart(text, start, text.length - start)).trimStart();
}
