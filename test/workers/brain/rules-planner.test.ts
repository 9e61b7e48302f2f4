import { describe, expect, it } from 'vitest';
import { planByRules, workerFor } from '../../../workers/brain/rules-planner.js';

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
});
