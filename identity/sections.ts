/**
 * Splits markdown into a preamble and `##` sections. Only ATX level-2 headings (`## Title`, up to three spaces
 * of indent, optional closing `#`s) open a section; `#` and `###`+ headings stay inside the text around them,
 * and nothing inside a fenced code block (``` or ~~~) counts as a heading.
 */
import { isSpaceOrTab, normalizeName, trimBlankLines } from './text.js';

export interface Section {
  /** Normalized heading: what conflicts are found on. */
  norm: string;
  /** The heading as written (first occurrence in its file). */
  heading: string;
  /** The section's text without its heading line, blank lines at both ends removed. */
  body: string;
}

export interface SplitBody {
  /** Text before the first `##` heading. */
  preamble: string;
  /** In order of first appearance; a heading repeated in one file is one section, its parts joined in order. */
  sections: Section[];
}

/**
 * The start of a `##` heading line, up to its text. The rest (the text, optional closing `#`s) is taken apart in
 * code: a regular expression for the whole line (`(.*?)(?:[ \t]+#+)?[ \t]*$`) backtracks quadratically over a
 * long run of spaces inside the line (a 64 KB line took 8 s).
 */
const HEADING_START = /^ {0,3}##[ \t]+/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Tracks fenced code blocks line by line: a fence closes with the same character, at least as long. */
export class FenceTracker {
  #open: string | undefined;

  /** Feeds one line; true when the line is inside (or opens or closes) a fenced block. */
  inFence(line: string): boolean {
    const fence = FENCE.exec(line)?.[1];
    if (this.#open === undefined) {
      if (fence !== undefined) this.#open = fence;
      return fence !== undefined;
    }
    const closes =
      fence !== undefined && fence[0] === this.#open[0] && fence.length >= this.#open.length &&
      line.trim() === fence;
    if (closes) this.#open = undefined;
    return true;
  }
}

/** The text of a `##` heading line (closing `#`s removed), or undefined when the line is not one. */
export function headingOf(line: string): string | undefined {
  const start = HEADING_START.exec(line);
  if (start === null) return undefined;
  const text = withoutClosingHashes(trimSpacesAndTabs(line.slice(start[0].length))).trim();
  return text === '' ? undefined : text;
}

/** `text` without the spaces and tabs at its end. */
function trimSpacesAndTabs(text: string): string {
  let end = text.length;
  while (end > 0 && isSpaceOrTab(text[end - 1])) end -= 1;
  return text.slice(0, end);
}

/** A heading's text without its closing `#`s: a run of `#` at the end, after a space or tab. */
function withoutClosingHashes(text: string): string {
  let hashes = text.length;
  while (hashes > 0 && text[hashes - 1] === '#') hashes -= 1;
  if (hashes === text.length || hashes === 0) return text;
  return isSpaceOrTab(text[hashes - 1]) ? text.slice(0, hashes) : text;
}

/** Preamble and sections of a markdown body (front matter already removed). */
export function splitSections(body: string): SplitBody {
  const fences = new FenceTracker();
  const preamble: string[] = [];
  const parts = new Map<string, { heading: string; lines: string[][] }>();
  let current: string[] = preamble;
  for (const line of body.split('\n')) {
    const heading = fences.inFence(line) ? undefined : headingOf(line);
    if (heading === undefined) {
      current.push(line);
      continue;
    }
    const norm = normalizeName(heading);
    const entry = parts.get(norm) ?? { heading, lines: [] };
    parts.set(norm, entry);
    current = [];
    entry.lines.push(current);
  }
  const sections = [...parts].map(([norm, { heading, lines }]) => ({
    norm,
    heading,
    body: lines.map((l) => trimBlankLines(l.join('\n'))).filter((t) => t !== '').join('\n\n'),
  }));
  return { preamble: trimBlankLines(preamble.join('\n')), sections };
}
