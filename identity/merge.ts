/**
 * The merge: for every key and every `##` section the file highest in SOUL > AGENT > IDENTITY > USER wins, and
 * each name present in more than one file is a conflict. Preambles never conflict. See MERGE-MODEL.md.
 */
import type { IdentityConflict } from './types.js';
import type { FrontMatterKey } from './front-matter.js';
import type { ParsedFile } from './parse-file.js';
import type { Section } from './sections.js';

/** Keys that are also structured fields, in the order they lead the prompt's key block. */
export const FIELD_KEYS = ['name', 'emoji', 'creature', 'vibe', 'avatar'] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

export interface MergedKey extends FrontMatterKey {
  file: string;
  /** How the prompt and conflict reports spell the key: lower case for a field, as written otherwise. */
  display: string;
}

/** What one file contributes to the prompt: its preamble and the sections it won, in its own order. */
export interface FileBlock {
  file: string;
  preamble: string;
  sections: Section[];
}

export interface MergeResult {
  /** Winning keys: the fields in FIELD_KEYS order, then the rest by normalized name. */
  keys: MergedKey[];
  /** One block per file, in precedence order. */
  blocks: FileBlock[];
  /** Key conflicts in key order, then section conflicts in prompt order. */
  conflicts: IdentityConflict[];
}

function isFieldKey(norm: string): norm is FieldKey {
  return (FIELD_KEYS as readonly string[]).includes(norm);
}

function displayKey(key: FrontMatterKey): string {
  return isFieldKey(key.norm) ? key.norm : key.key;
}

function keyOrder(a: MergedKey, b: MergedKey): number {
  const fa = (FIELD_KEYS as readonly string[]).indexOf(a.norm);
  const fb = (FIELD_KEYS as readonly string[]).indexOf(b.norm);
  if (fa !== fb) return (fa === -1 ? FIELD_KEYS.length : fa) - (fb === -1 ? FIELD_KEYS.length : fb);
  return a.norm < b.norm ? -1 : a.norm > b.norm ? 1 : 0;
}

/** Who holds a name: the winning item and every file that has the name, in precedence order. */
interface Claim<T> {
  winner: T;
  files: string[];
}

/** Groups items by normalized name across files (files already in precedence order); the first holder wins. */
function claims<T extends { norm: string }>(files: ParsedFile[], pick: (f: ParsedFile) => T[]): Map<string, Claim<T>> {
  const byNorm = new Map<string, Claim<T>>();
  for (const file of files) {
    for (const item of pick(file)) {
      const claim = byNorm.get(item.norm);
      if (claim) claim.files.push(file.name);
      else byNorm.set(item.norm, { winner: item, files: [file.name] });
    }
  }
  return byNorm;
}

function conflictOf(subject: string, files: string[]): IdentityConflict[] {
  const [winner, ...losers] = files;
  return winner !== undefined && losers.length > 0 ? [{ subject, winner, losers }] : [];
}

/** Merges parsed files given in any order. */
export function mergeFiles(parsed: readonly ParsedFile[]): MergeResult {
  const files = [...parsed].sort((a, b) => a.rank - b.rank);
  const keyClaims = claims(files, (f) => f.keys.map((k): MergedKey => ({ ...k, file: f.name, display: displayKey(k) })));
  const keys = [...keyClaims.values()].map((c) => c.winner).sort(keyOrder);
  const sectionClaims = claims(files, (f) => f.sections);
  const blocks = files.map((f) => ({
    file: f.name,
    preamble: f.preamble,
    sections: f.sections.filter((s) => sectionClaims.get(s.norm)?.files[0] === f.name),
  }));
  const conflicts = [
    ...keys.flatMap((k) => conflictOf(`key:${k.display}`, keyClaims.get(k.norm)?.files ?? [])),
    ...blocks.flatMap((b) =>
      b.sections.flatMap((s) => conflictOf(`section:${s.heading}`, sectionClaims.get(s.norm)?.files ?? [])),
    ),
  ];
  return { keys, blocks, conflicts };
}
