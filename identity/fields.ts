/** The structured fields (name, emoji, avatar, creature, vibe) from the winning keys, with built-in defaults. */
import type { IdentityFields, IdentityNotice } from './types.js';
import { BUILTIN_EMOJI, BUILTIN_SOURCE, builtinName } from './builtin.js';
import { FIELD_KEYS, type MergedKey } from './merge.js';

export interface FieldsResult {
  fields: IdentityFields;
  fieldSources: Partial<Record<keyof IdentityFields, string>>;
  notices: IdentityNotice[];
}

function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** Fields from keys; `name` and `emoji` fall back to the built-in identity, the others stay unset. */
export function fieldsFromKeys(agentId: string, keys: readonly MergedKey[]): FieldsResult {
  const fields: IdentityFields = {};
  const fieldSources: FieldsResult['fieldSources'] = {};
  const notices: IdentityNotice[] = [];
  for (const field of FIELD_KEYS) {
    const key = keys.find((k) => k.norm === field);
    if (!key) continue;
    const text = fieldText(key.value);
    if (text === undefined) {
      const message = `${key.file}: \`${key.key}\` must be text; ignored`;
      notices.push({ file: key.file, kind: 'bad-front-matter', message });
      continue;
    }
    fields[field] = text;
    fieldSources[field] = key.file;
  }
  for (const [field, value] of [['name', builtinName(agentId)], ['emoji', BUILTIN_EMOJI]] as const) {
    if (fields[field] !== undefined) continue;
    fields[field] = value;
    fieldSources[field] = BUILTIN_SOURCE;
  }
  return { fields, fieldSources, notices };
}
