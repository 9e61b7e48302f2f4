import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../../workers/brain/parse-plan.js';

const options = { goal: 'the user goal', maxTasks: 8 };
const json = JSON.stringify({
  goal: 'Ship it',
  tasks: [
    { id: 't1', title: 'Find the notes', worker: 'research' },
    { id: 't2', title: 'Write the summary', worker: 'execution', dependsOn: ['t1'] },
    { title: 'Report progress', worker: 'status', dependsOn: [1, 2] },
  ],
});
const expected = {
  goal: 'Ship it',
  tasks: [
    { title: 'Find the notes', worker: 'research', dependsOn: [] },
    { title: 'Write the summary', worker: 'execution', dependsOn: [0] },
    { title: 'Report progress', worker: 'status', dependsOn: [0, 1] },
  ],
};

describe('parsePlan', () => {
  it('reads a bare JSON plan, resolving dependencies by id and by 1-based position', () => {
    expect(parsePlan(json, options)).toEqual(expected);
  });

  it('recovers the plan from a fenced block', () => {
    expect(parsePlan(`Here is the plan:\n\`\`\`json\n${json}\n\`\`\`\nGood luck.`, options)).toEqual(expected);
  });

  it('recovers the plan from JSON wrapped in prose', () => {
    expect(parsePlan(`Sure! I think {this} is best: ${json} — let me know.`, options)).toEqual(expected);
  });

  it('accepts a bare list of tasks, with the request goal and the execution worker by default', () => {
    expect(parsePlan('[{"title": "Do the thing"}]', options)).toEqual({ goal: 'the user goal', tasks: [{ title: 'Do the thing', worker: 'execution', dependsOn: [] }] });
  });

  it('reads an empty task list as a valid answer with no tasks', () => {
    expect(parsePlan('{"tasks": []}', options)).toEqual({ goal: 'the user goal', tasks: [] });
  });

  it.each([
    ['not JSON at all', 'I would rather not plan this.'],
    ['broken JSON', '{"tasks": [{"title": "a"'],
    ['a task without a title', '{"tasks": [{"worker": "research"}]}'],
    ['an unknown worker', '{"tasks": [{"title": "a", "worker": "wizard"}]}'],
    ['a dependency on an unknown id', '{"tasks": [{"title": "a", "dependsOn": ["nope"]}]}'],
    ['a dependency out of range', '{"tasks": [{"title": "a", "dependsOn": [5]}]}'],
    ['a task depending on itself', '{"tasks": [{"id": "x", "title": "a", "dependsOn": ["x"]}]}'],
    ['a cycle', '{"tasks": [{"id": "a", "title": "a", "dependsOn": ["b"]}, {"id": "b", "title": "b", "dependsOn": ["a"]}]}'],
    ['tasks that are not a list', '{"tasks": "do everything"}'],
  ])('falls back to no plan for %s', (_, answer) => {
    expect(parsePlan(answer, options)).toBeUndefined();
  });

  it('cuts a plan to maxTasks and drops references to the cut tasks', () => {
    const tasks = Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, title: `task ${i}`, dependsOn: i === 1 ? ['t4'] : [] }));
    const plan = parsePlan(JSON.stringify({ tasks }), { ...options, maxTasks: 2 });
    expect(plan?.tasks).toEqual([
      { title: 'task 0', worker: 'execution', dependsOn: [] },
      { title: 'task 1', worker: 'execution', dependsOn: [] },
    ]);
  });

  it('never throws, whatever the answer', () => {
    const pieces = ['{', '}', '[', ']', '"', '\\', 'tasks', ':', ',', '```', 'json\n', 'title', '1', 'null'];
    let seed = 7;
    for (let n = 0; n < 300; n++) {
      let text = '';
      for (let i = 0; i < 40; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        text += pieces[seed % pieces.length];
      }
      expect(() => parsePlan(text, options)).not.toThrow();
    }
  });

  it('stays fast on a long answer full of unclosed brackets', () => {
    const started = performance.now();
    expect(parsePlan('{'.repeat(100_000), options)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
  });
});
