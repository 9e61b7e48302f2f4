/**
 * The system prompt's layout: the key block (one `key: value` line per winning key), then per file in
 * precedence order its preamble and the sections it won, in that file's order. Parts are separated by one
 * blank line; there is no trailing newline.
 */
import { canonicalJson } from './canonical-json.js';
import type { FileBlock, MergedKey } from './merge.js';

function isScalar(value: unknown): value is string | number | boolean | bigint {
  return ['string', 'number', 'boolean', 'bigint'].includes(typeof value);
}

/** A key's value on one line where it can be: lists of scalars joined by `, `, other structures as JSON. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\n/g, '\n  ');
  if (isScalar(value)) return String(value);
  if (Array.isArray(value) && value.every(isScalar)) return value.map((v) => renderValue(v)).join(', ');
  return canonicalJson(value);
}

export function renderKeyBlock(keys: readonly MergedKey[]): string {
  return keys.map((k) => `${k.display}: ${renderValue(k.value)}`).join('\n');
}

/** The prompt text the files contribute, without the key block; empty when they contribute none. */
export function renderBlocks(blocks: readonly FileBlock[]): string {
  const parts: string[] = [];
  for (const block of blocks) {
    if (block.preamble !== '') parts.push(block.preamble);
    for (const s of block.sections) parts.push(`## ${s.heading}\n\n${s.body}`);
  }
  return parts.join('\n\n');
}

/** Key block, then the files' text, or `fallbackText` when the files have no text. */
export function renderSystemPrompt(keys: readonly MergedKey[], blocks: readonly FileBlock[], fallbackText: string): string {
  const text = renderBlocks(blocks);
  return [renderKeyBlock(keys), text === '' ? fallbackText : text].filter((p) => p !== '').join('\n\n');
}
