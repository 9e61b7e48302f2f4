import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasListItem, listItemOf, planByRules, workerFor } from '../../../workers/brain/rules-planner.js';

/** The list-item pattern before listItemOf: the same answers, but quadratic over a long run of spaces in a line. */
const QUADRATIC_LIST_ITEM = /^\s*(?:\d{1,3}[.)]|[-*+•])\s+(\S.*?)\s*$/;

/** Lines made of what the pattern looks at: markers, digits, spaces of both kinds, words. */
const listishLine = fc
  .array(fc.constantFrom(' ', '  ', '\t', '\u00a0', '-', '*', '+', '•', '1', '12', '123', '1234', '.', ')', 'a', 'then', '#', '\u3000'), { maxLength: 12 })
  .map((parts) => parts.join(''));

describe('planByRules (the local provider planner)', () => {
  it('makes a numbered list into tasks, with the first other line as the goal', () => {
    expect(planByRules('Get ready for launch:\n1. Research the pricing\n2) Update the changelog\n3. Report progress', 8)).toEqual({
      goal: 'Get ready for launch',
      tasks: [
        { title: 'Research the pricing', worker: 'research', dependsOn: [] },
        { title: 'Update the changelog', worker: 'execution', dependsOn: [] },
        { title: 'Report progress', worker: 'status', dependsOn: [0, 1] },
      ],
    });
  });

  it('reads bulleted lists too, and "then" makes an item wait for the one before', () => {
    const plan = planByRules('- find the old invoices\n* then compare them with the ledger\n+ archive the folder\n• finally, confirm with finance', 8);
    expect(plan?.tasks).toEqual([
      { title: 'find the old invoices', worker: 'research', dependsOn: [] },
      { title: 'compare them with the ledger', worker: 'research', dependsOn: [0] },
      { title: 'archive the folder', worker: 'execution', dependsOn: [] },
      { title: 'confirm with finance', worker: 'execution', dependsOn: [2] },
    ]);
    expect(plan?.goal).toBe('find the old invoices');
  });

  it('makes no plan for a message without a list', () => {
    expect(planByRules('hello there, how are you?', 8)).toBeUndefined();
    expect(planByRules('I paid 3.50 - cheap', 8)).toBeUndefined();
  });

  it('keeps at most maxTasks tasks', () => {
    const message = Array.from({ length: 12 }, (_, i) => `${i + 1}. step ${i + 1}`).join('\n');
    expect(planByRules(message, 8)?.tasks).toHaveLength(8);
  });

  it('picks the worker from the words of the task', () => {
    expect(workerFor('Look into the outage')).toBe('research');
    expect(workerFor('Summarize where we are')).toBe('status');
    expect(workerFor('Rename the repository')).toBe('execution');
  });

  it('reads a line as the pattern before it did', () => {
    // `.` in that pattern stops at U+2028, U+2029 and a lone \r, which listItemOf takes as the item's text: lines
    // here have none (a message is split at \n and \r\n).
    fc.assert(
      fc.property(listishLine, (line) => {
        expect(listItemOf(line)).toBe(QUADRATIC_LIST_ITEM.exec(line)?.[1]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads a line with a long run of spaces in linear time', () => {
    // The quadratic pattern takes 10–25 s on the item's line, holding the event loop (it cannot be interrupted: a test
    // timeout would not fire until it returned); listItemOf takes well under 100 ms.
    const item = `- x${' '.repeat(100_000)}y`;
    const started = performance.now();
    expect(listItemOf(item)).toBe(`x${' '.repeat(100_000)}y`);
    expect(planByRules(`plan:\n${item}\n`, 8)?.tasks).toHaveLength(1);
    expect(hasListItem(`${' '.repeat(100_000)}x\n- ${'\t'.repeat(100_000)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

