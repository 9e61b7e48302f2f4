/**
 * Who writes the memory manager's summaries: the configured model provider, or the deterministic
 * extractive summarizer (memory/extractive-summary.ts). A provider summary that fails, times out, comes back
 * empty or comes from the offline local model (the echo a failover chain may end with) falls back to the
 * extractive one, so summarizing never fails and never stores an echo of the transcript as a summary.
 */
import type { Logger } from 'pino';
import { extractiveSummary } from '../memory/extractive-summary.js';
import type { ContextItem, SummaryDraft } from '../memory/memory-types.js';
import { countTokens } from '../memory/tokens.js';
import type { ModelProvider, ModelStreamEvent } from './providers/types.js';

export interface Summarizer {
  readonly kind: 'provider' | 'extractive';
  /** A summary of `items` of at most `maxTokens` tokens; never throws (aborting yields the extractive one). */
  summarize(items: readonly ContextItem[], maxTokens: number, signal: AbortSignal): Promise<SummaryDraft>;
}

function sources(items: readonly ContextItem[]): { role?: string; text: string }[] {
  return items.map((item) => ({ ...(item.role === undefined ? {} : { role: item.role }), text: item.text }));
}

export function extractiveSummarizer(): Summarizer {
  return {
    kind: 'extractive',
    summarize: async (items, maxTokens) => ({ text: extractiveSummary(sources(items), { maxTokens }), method: 'extractive' }),
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
}

export function providerSummarizer(options: ProviderSummarizerOptions): Summarizer {
  const fallback = extractiveSummarizer();
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
