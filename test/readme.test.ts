import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOSES, ERRORS } from '../protocol/errors.js';
import { OPTIONS, flagName } from '../server/config-options.js';
import { GENERATED, section } from '../scripts/readme-tables.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.keys(GENERATED))('has the %s table exactly as the code generates it (npm run docs)', (name) => {
    expect(section(readme, name)).toBe(GENERATED[name as keyof typeof GENERATED]());
  });

  it('names every error of the catalog, and every error it names is in the catalog', () => {
    const table = section(readme, 'errors') ?? '';
    const named = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('names every close of the catalog, and every close it names is in the catalog', () => {
    const table = section(readme, 'closes') ?? '';
    const named = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.keys(CLOSES).sort());
  });

  it('documents every option with its flag, and only real options', () => {
    const table = section(readme, 'options') ?? '';
    const named = [...table.matchAll(/^\| `(\w+)` \| `(--[a-z0-9-]+)` \|/gm)].map((m) => [m[1], m[2]]);
    expect(named.map(([name]) => name).sort()).toEqual(Object.keys(OPTIONS).sort());
    for (const [name, flag] of named) expect(flag).toBe(flagName(name as string));
  });
});
