/**
 * The planner of the offline `local` provider, by documented rules (README "Planning rules"):
 * - every line of the message that is a numbered (`1.`, `2)`) or bulleted (`-`, `*`, `+`, `•`) list item
 *   becomes a task, in order, at most planMaxTasks; a message without such a line gets no plan;
 * - the goal is the message's first line that is not a list item (else the first item);
 * - the worker comes from the words of the item: status words (status, progress, report, summary,
 *   summarize, recap) → `status`; research words (research, find, search, look up/into/for, investigate,
 *   explore, gather, read, review, compare, analyze, study, learn, collect, survey) → `research`;
 *   anything else → `execution`;
 * - an item that starts with "then", "after that", "afterwards", "next" or "finally" depends on the item
 *   before it; a `status` task depends on every task before it; other tasks are independent (they may run
 *   in parallel, up to their lane's limit).
 */
import { clip, GOAL_MAX_CHARS, TASK_TITLE_MAX_CHARS, type Plan, type PlannedTask, type WorkerName } from './plan.js';

/**
 * The marker of a list item and the whitespace after it, up to the item's first character. Only the marker is
 * matched by a regular expression: the item is the rest of the line, trimmed in code. Matching the item's text
 * too (`\s+(\S.*?)\s*$`) made V8 backtrack quadratically over a long run of spaces inside a line: a 100 KB
 * message held the event loop for 10 s (and a 1 MB one would, by extrapolation, for some 17 minutes).
 */
const LIST_MARKER = /^\s*(?:\d{1,3}[.)]|[-*+•])\s+(?=\S)/;
const STATUS_WORDS = /\b(status|progress|report|summary|summari[sz]e|recap)\b/i;
const RESEARCH_WORDS = /\b(research|find|search|look (?:up|into|for)|investigate|explore|gather|read|review|compare|analy[sz]e|study|learn|collect|survey)\b/i;
const SEQUENTIAL = /^(?:then|after that|afterwards|next|finally)\b[\s,:-]*/i;

export function workerFor(title: string): WorkerName {
  if (STATUS_WORDS.test(title)) return 'status';
  if (RESEARCH_WORDS.test(title)) return 'research';
  return 'execution';
}

/** The text of a list item line (marker and surrounding whitespace removed), or undefined for any other line. */
export function listItemOf(line: string): string | undefined {
  const marker = LIST_MARKER.exec(line);
  return marker === null ? undefined : line.slice(marker[0].length).trimEnd();
}

/** Some line of the message is a list item. */
export function hasListItem(message: string): boolean {
  return message.split(/\r?\n/).some((line) => listItemOf(line) !== undefined);
}

export function planByRules(message: string, maxTasks: number): Plan | undefined {
  const items: string[] = [];
  let goal: string | undefined;
  for (const line of message.split(/\r?\n/)) {
    const item = listItemOf(line);
    if (item !== undefined) items.push(item);
    else if (goal === undefined && line.trim() !== '') goal = line.trim().replace(/:$/, '');
  }
  if (items.length === 0) return undefined;
  const tasks: PlannedTask[] = items.slice(0, maxTasks).map((item, i) => {
    const sequential = SEQUENTIAL.test(item);
    const title = clip(sequential ? item.replace(SEQUENTIAL, '') || item : item, TASK_TITLE_MAX_CHARS);
    const worker = workerFor(title);
    const dependsOn = worker === 'status' ? [...Array(i).keys()] : sequential && i > 0 ? [i - 1] : [];
    return { title, worker, dependsOn };
  });
  return { goal: clip(goal ?? tasks[0]?.title ?? message, GOAL_MAX_CHARS), tasks };
}
