/**
 * Who writes the memory manager's summaries: the configured model provider, or the deterministic
 * extractive summarizer (memory/extractive-summary.ts). A provider summary that fails, times out, comes back
 * empty or comes from the offline local model (the echo a failover chain may end with) falls back to the
 * extractive one, so summarizing never fails and never stores an echo of the transcript as a summary.
 *
 * The extractive draft is pure CPU, 2–11 ms for a full context and more for long messages, in one piece:
 * given a thread pool it is drafted there, off the event loop, and a small one (SUMMARY_ON_LOOP_MAX_CHARS)
 * here. When the thread fails or the call is aborted, it is drafted here: summarizing never fails.
 */
import type { Logger } from 'pino';
import { extractiveSummary, EXTRACTIVE_SUMMARY_THREAD, extractiveSummaryTask, type ExtractiveTask } from '../memory/extractive-summary.js';
import type { ContextItem, SummaryDraft } from '../memory/memory-types.js';
import { countTokens } from '../memory/tokens.js';
import { ThreadPool } from './pool/thread-pool.js';
import type { ModelProvider, ModelStreamEvent } from './providers/types.js';

export interface Summarizer {
  readonly kind: 'provider' | 'extractive';
  /** A summary of `items` of at most `maxTokens` tokens; never throws (aborting yields the extractive one). */
  summarize(items: readonly ContextItem[], maxTokens: number, signal: AbortSignal): Promise<SummaryDraft>;
}

function sources(items: readonly ContextItem[]): { role?: string; text: string }[] {
  return items.map((item) => ({ ...(item.role === undefined ? {} : { role: item.role }), text: item.text }));
}

/** Sources of at most this many characters in all are summarized on the event loop: well under a ms of work. */
export const SUMMARY_ON_LOOP_MAX_CHARS = 4_096;

/** The one thread extractive summaries are drafted in (the memory manager drafts one at a time). */
export function summaryThreads(): ThreadPool<ExtractiveTask, string> {
  return new ThreadPool(extractiveSummaryTask, 1, {
    module: EXTRACTIVE_SUMMARY_THREAD,
    small: (task) => task.sources.reduce((chars, source) => chars + source.text.length, 0) <= SUMMARY_ON_LOOP_MAX_CHARS,
  });
}

/** The extractive summarizer; with `threads`, drafts in them (see the top of the file). */
export function extractiveSummarizer(threads?: ThreadPool<ExtractiveTask, string>, logger?: Logger): Summarizer {
  return {
    kind: 'extractive',
    summarize: async (items, maxTokens, signal) => {
      const task = { sources: sources(items), budget: { maxTokens } };
      if (threads !== undefined && !signal.aborted) {
        try {
          return { text: await threads.run(task, signal), method: 'extractive' };
        } catch (err) {
          if (!signal.aborted) logger?.warn({ err, items: items.length }, 'summary thread failed; drafting on the event loop');
        }
      }
      return { text: extractiveSummary(task.sources, task.budget), method: 'extractive' };
    },
  };
}

/** The instruction the provider gets; the conversation follows as one user message. */
export const SUMMARY_INSTRUCTION =
  'Summarize the conversation excerpt below for your own later reference. Keep names, numbers, decisions, ' +
  'open questions and anything the user asked you to remember. Write plain sentences, no preamble. At most {maxTokens} tokens.';

export interface ProviderSummarizerOptions {
  provider: ModelProvider;
  model: string;
  /** Longest a summary may take, in ms; then the extractive one is used. */
  timeoutMs: number;
  logger: Logger;
  /** Where the extractive fallback is drafted (default: on the event loop). */
  threads?: ThreadPool<ExtractiveTask, string>;
}

export function providerSummarizer(options: ProviderSummarizerOptions): Summarizer {
  const fallback = extractiveSummarizer(options.threads, options.logger);
  return {
    kind: 'provider',
    summarize: async (items, maxTokens, signal) => {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      const transcript = sources(items).map((s) => `${s.role ?? 'note'}: ${s.text}`).join('\n');
      let text = '';
      /** The model that answered (a failover chain names each model it tries). */
      let answered: Extract<ModelStreamEvent, { type: 'model' }> | undefined;
      try {
        const stream = options.provider.stream({
          model: options.model,
          messages: [
            { role: 'system', content: SUMMARY_INSTRUCTION.replace('{maxTokens}', String(maxTokens)) },
            { role: 'user', content: transcript },
          ],
          maxOutputTokens: maxTokens,
          signal: both,
          runId: `memory-summary-${items[0]?.id ?? 'empty'}`,
        });
        for await (const event of stream) {
          if (event.type === 'text') text += event.text;
          else if (event.type === 'model') answered = event;
        }
      } catch (err) {
        options.logger.warn({ err, items: items.length }, 'provider summary failed; using the extractive summarizer');
        return fallback.summarize(items, maxTokens, signal);
      }
      const trimmed = text.trim();
      // The offline local model (a failover chain's last resort) echoes the transcript: that is no summary.
      if (trimmed === '' || answered?.provider === 'local' || countTokens(trimmed) > maxTokens * 2) return fallback.summarize(items, maxTokens, signal);
      return { text: trimmed, method: 'provider', model: answered?.model ?? options.model };
    },
  };
}
