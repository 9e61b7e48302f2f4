/**
 * The README's generated tables: every option (from server/config-options.ts) and every error and close
 * (from protocol/errors.ts). `npx tsx scripts/readme-tables.ts --write` rewrites them in README.md;
 * test/readme.test.ts fails when README and code disagree, either way.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CLOSES, ERRORS, type ErrorSpec } from '../protocol/errors.js';
import { OPTIONS, envName, flagName, type OptionDef } from '../server/config-options.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function shownDefault(def: OptionDef<unknown>): string {
  if (def.default === undefined) return '(unset)';
  if (def.secret) return '(secret)';
  return `\`${JSON.stringify(def.default)}\``;
}

export function optionsTable(): string {
  const rows = ['| option (config file key) | flag | environment | default | meaning |', '|---|---|---|---|---|'];
  const groups = new Map<string, string[]>();
  for (const [name, def] of Object.entries(OPTIONS) as [string, OptionDef<unknown>][]) {
    const values = def.values === undefined ? '' : ` One of ${def.values.map((v) => `\`${v}\``).join(', ')}.`;
    const env = [envName(name), ...(def.envAliases ?? [])].map((e) => `\`${e}\``).join(', ');
    const row = `| \`${name}\` | \`${flagName(name)}\` | ${env} | ${shownDefault(def)} | ${cell(def.doc)}${values} |`;
    groups.set(def.group, [...(groups.get(def.group) ?? []), row]);
  }
  for (const [group, groupRows] of groups) rows.push(`| **${group}** | | | | |`, ...groupRows);
  return rows.join('\n');
}

export function errorsTable(): string {
  const rows = ['| name | code | `details.code` | retryable | close | HTTP | message |', '|---|---|---|---|---|---|---|'];
  for (const [name, spec] of Object.entries(ERRORS) as [string, ErrorSpec][]) {
    rows.push(`| \`${name}\` | \`${spec.code}\` | ${spec.detailCode === undefined ? '' : `\`${spec.detailCode}\``} | ${spec.retryable ? 'yes' : 'no'} | ${spec.closeCode ?? ''} | ${spec.httpStatus ?? ''} | ${cell(spec.message)} |`);
  }
  return rows.join('\n');
}

export function closesTable(): string {
  const rows = ['| name | close code | reason |', '|---|---|---|'];
  for (const [name, close] of Object.entries(CLOSES)) rows.push(`| \`${name}\` | ${close.code} | ${cell(close.reason)} |`);
  return rows.join('\n');
}

export const GENERATED = { options: optionsTable, errors: errorsTable, closes: closesTable } as const;

/** The text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`, or undefined. */
export function section(readme: string, name: string): string | undefined {
  const match = new RegExp(`<!-- generated:${name} -->\\n([\\s\\S]*?)\\n<!-- /generated:${name} -->`).exec(readme);
  return match?.[1];
}

export function rewrite(readme: string): string {
  let out = readme;
  for (const [name, make] of Object.entries(GENERATED)) {
    out = out.replace(new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`), `$1\n${make()}\n$2`);
  }
  return out;
}

if (process.argv.includes('--write')) {
  const path = new URL('../README.md', import.meta.url);
  writeFileSync(path, rewrite(readFileSync(path, 'utf8')));
}
