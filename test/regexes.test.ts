/**
 * No regular expression of the gateway can backtrack super-linearly (ReDoS). Most of them read what clients
 * send, and a pattern that is quadratic on some input lets one message hold the event loop for minutes: the
 * rules planner's list-item pattern once took 10 s on a 100 KB message, and would have taken ~17 min on 1 MB.
 *
 * Every regular expression literal, and every `RegExp` built from a literal, in the gateway's sources is
 * checked with recheck (its pure-JS checker, seeded: the same verdicts every run). A `RegExp` built from
 * anything else cannot be checked and fails the test: write it as a literal.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SOURCE_FOLDERS = ['server', 'protocol', 'memory', 'identity', 'workers'];

interface Pattern {
  where: string;
  source: string;
  flags: string;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(folder, file));
}

/** The patterns of one file; a RegExp built from something other than a literal is returned as `source: undefined`. */
function patternsOf(file: string): (Pattern | { where: string; source: undefined })[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const tree = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: (Pattern | { where: string; source: undefined })[] = [];
  const where = (node: ts.Node): string => `${file}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text;
      const end = literal.lastIndexOf('/');
      found.push({ where: where(node), source: literal.slice(1, end), flags: literal.slice(end + 1) });
    } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
      const [source, flags] = node.arguments ?? [];
      const literal = (arg: ts.Expression | undefined): string | undefined =>
        arg !== undefined && ts.isStringLiteralLike(arg) ? arg.text : undefined;
      const sourceText = literal(source);
      const flagsText = flags === undefined ? '' : literal(flags);
      found.push(sourceText === undefined || flagsText === undefined ? { where: where(node), source: undefined } : { where: where(node), source: sourceText, flags: flagsText });
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

const found = SOURCE_FOLDERS.flatMap(sourceFiles).flatMap(patternsOf);

describe('regular expressions', () => {
  it('are found in the sources', () => {
    // The walk works: the gateway has a few dozen patterns.
    expect(found.length).toBeGreaterThan(20);
  });

  it('are literals, so that they can be checked', () => {
    expect(found.filter((pattern) => pattern.source === undefined).map((pattern) => pattern.where)).toEqual([]);
  });

  it('cannot backtrack super-linearly', () => {
    const unsafe = found.flatMap((pattern) => {
      if (pattern.source === undefined) return [];
      const verdict = checkSync(pattern.source, pattern.flags, { randomSeed: 1 });
      if (verdict.status === 'safe') return [];
      const attack = verdict.status === 'vulnerable' ? ` (${verdict.complexity.type}; attack: ${verdict.attack.pattern})` : ` (${verdict.status})`;
      return [`${pattern.where} /${pattern.source}/${pattern.flags}${attack}`];
    });
    expect(unsafe).toEqual([]);
  }, 120_000);
});
