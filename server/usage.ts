/** `brainstem --help`: every option with its flag, environment variable and default. */
import { OPTIONS, envName, flagName, type OptionDef } from './config-options.js';

export function usage(): string {
  const lines = ['Usage: brainstem [options]', '', 'Every option can also be set by environment variable or in a JSON file given with --config.', ''];
  for (const [name, def] of Object.entries(OPTIONS) as [string, OptionDef<unknown>][]) {
    const shown = def.secret ? '(secret)' : def.default === undefined ? '(unset)' : JSON.stringify(def.default);
    const values = def.values === undefined ? '' : ` [${def.values.join('|')}]`;
    lines.push(`  ${flagName(name)}${values}  (${envName(name)}, default ${shown})`, `      ${def.doc}`);
  }
  return lines.join('\n');
}
