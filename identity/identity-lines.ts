/**
 * OpenClaw's IDENTITY.md convention: field lines such as `- **Name:** Clawd`, `**Emoji**: 🦞` or `Vibe: calm`
 * in IDENTITY.md's preamble (before the first `##`). Accepted labels: Name, Emoji, Avatar, Creature, Vibe (any
 * case). Recognized lines leave the text and become keys of IDENTITY.md, so a winning key elsewhere does not
 * leave a contradicting line in the prompt. A line whose value is a placeholder in parentheses
 * (`*(pick something you like)*`) leaves the text and sets nothing; a line with no value at all stays as text
 * (the value may be on the next line, which is not read as a field).
 */
import type { FrontMatterKey } from './front-matter.js';
import { FenceTracker } from './sections.js';
import { trimBlankLines } from './text.js';

/**
 * A field line: `Name:`, `**Name:**` or `**Name**:` (`__` too), then the value. Written so that a line has one
 * way to match (test/regexes.test.ts): `\1(?<=\*\*|__)` takes the `**Name**:` form only when there is a `**`,
 * so spaces after `Name` are not split two ways; and the value runs to the end of the line without a `$`.
 */
const FIELD_LINE = /^[ \t]*(?:[-*+][ \t]+)?(\*\*|__)?(name|emoji|avatar|creature|vibe)[ \t]*(?::[ \t]*\1|\1(?<=\*\*|__)[ \t]*:)(.*)/i;
const WRAPPED = /^(\*\*|\*|__|_|`)(.+)\1$/;
const PLACEHOLDER = /^\(.*\)$/;

/** The field's value; `null` for a placeholder, `undefined` when there is no value on the line. */
function cleanValue(raw: string): string | null | undefined {
  let value = raw.trim();
  const wrapped = WRAPPED.exec(value);
  if (wrapped?.[2] !== undefined) value = wrapped[2].trim();
  if (value === '') return undefined;
  return PLACEHOLDER.test(value) ? null : value;
}

export interface IdentityLines {
  /** One key per label, first line wins; `norm` is the lower-case label. */
  keys: FrontMatterKey[];
  /** The preamble without the recognized lines (runs of blank lines left behind are collapsed). */
  preamble: string;
}

/** Takes the field lines out of IDENTITY.md's preamble. */
export function extractIdentityLines(preamble: string): IdentityLines {
  const fences = new FenceTracker();
  const keys: FrontMatterKey[] = [];
  const kept: string[] = [];
  let removedSinceText = false;
  for (const line of preamble.split('\n')) {
    const match = fences.inFence(line) ? null : FIELD_LINE.exec(line);
    const value = match?.[3] === undefined ? undefined : cleanValue(match[3]);
    if (match?.[2] !== undefined && value !== undefined) {
      const norm = match[2].toLowerCase();
      if (value !== null && !keys.some((k) => k.norm === norm)) keys.push({ norm, key: match[2], value });
      removedSinceText = true;
      continue;
    }
    const blank = line.trim() === '';
    if (blank && removedSinceText && kept.at(-1)?.trim() === '') continue;
    if (!blank) removedSinceText = false;
    kept.push(line);
  }
  return { keys, preamble: trimBlankLines(kept.join('\n')) };
}
