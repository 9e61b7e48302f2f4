/**
 * YAML front matter: a first line `---`, YAML, and a closing `---` (or `...`) line. The YAML must be a mapping;
 * its keys are compared by `normalizeName`. A key whose value is empty (`name:` or `name: ""`) is not set.
 */
import { parseDocument } from 'yaml';
import { normalizeName } from './text.js';

export interface FrontMatterKey {
  /** Normalized name: what conflicts are found on. */
  norm: string;
  /** The name as written. */
  key: string;
  /** A plain YAML value: string, number, boolean, array or object. */
  value: unknown;
}

export interface FrontMatterResult {
  keys: FrontMatterKey[];
  /** The text after the front matter (all of it when there is none). */
  body: string;
  /** What was wrong with the front matter; its keys are then dropped, the body still loads. */
  problems: string[];
}

/** Anchors and aliases allowed when building values: stops "billion laughs" documents. */
const MAX_YAML_ALIASES = 100;

const OPEN_FENCE = /^---[ \t]*(?:\n|$)/;
const CLOSE_FENCE = /^(?:---|\.\.\.)[ \t]*$/m;

/** Separates the front matter from the body; never throws (problems are returned). */
export function splitFrontMatter(text: string): FrontMatterResult {
  const open = OPEN_FENCE.exec(text);
  if (!open) return { keys: [], body: text, problems: [] };
  const rest = text.slice(open[0].length);
  const close = CLOSE_FENCE.exec(rest);
  if (!close) {
    return { keys: [], body: text, problems: ['front matter starts with `---` but has no closing `---` line'] };
  }
  const yamlText = rest.slice(0, close.index);
  const body = rest.slice(close.index + close[0].length).replace(/^\n/, '');
  const parsed = parseYamlMapping(yamlText);
  return 'problem' in parsed
    ? { keys: [], body, problems: [parsed.problem] }
    : { ...collectKeys(parsed.mapping), body };
}

function parseYamlMapping(yamlText: string): { mapping: Record<string, unknown> } | { problem: string } {
  try {
    const doc = parseDocument(yamlText, { schema: 'core', uniqueKeys: true, prettyErrors: true });
    const first = doc.errors[0];
    if (first) return { problem: `front matter is not valid YAML: ${first.message.split('\n')[0]}` };
    const value: unknown = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    if (value === null || value === undefined) return { mapping: {} };
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { problem: 'front matter must be a mapping of keys (like `name: Clawd`)' };
    }
    return { mapping: value as Record<string, unknown> };
  } catch (err) {
    return { problem: `front matter cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

function collectKeys(mapping: Record<string, unknown>): { keys: FrontMatterKey[]; problems: string[] } {
  const keys: FrontMatterKey[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(mapping)) {
    const norm = normalizeName(key);
    if (norm === '' || isEmptyValue(value)) continue;
    const earlier = keys.find((k) => k.norm === norm);
    if (earlier) {
      problems.push(`front matter key \`${norm}\` appears twice (\`${earlier.key}\`, \`${key}\`); the first is used`);
      continue;
    }
    keys.push({ norm, key: key.trim(), value: typeof value === 'string' ? value.trim() : value });
  }
  return { keys, problems };
}
