/** Drains a provider stream for tests: what was yielded, the text so far, and the error that ended it. */
import type {
  ModelMessage,
  ModelProvider,
  ModelRequest,
  ModelStreamEvent,
  ModelUsage,
} from '../../workers/providers/types.js';
import { ProviderError } from '../../workers/providers/types.js';

export interface StreamOutcome {
  events: ModelStreamEvent[];
  /** All `text` events joined. */
  text: string;
  usage: ModelUsage | undefined;
  stopReason: string | undefined;
  /** The ProviderError that ended the stream, if any (anything else is rethrown). */
  error: ProviderError | undefined;
}

/** A request with sensible test defaults; `signal` defaults to one that never aborts. */
export function modelRequest(overrides: Partial<ModelRequest> = {}): ModelRequest {
  const messages: ModelMessage[] = [
    { role: 'system', content: 'You are a test.' },
    { role: 'user', content: 'hello' },
  ];
  return { model: 'mock-model', messages, signal: new AbortController().signal, runId: 'run-1', ...overrides };
}

/** Reads the whole stream; `onEvent` may act mid-stream (e.g. abort after the first text). */
export async function drain(
  stream: AsyncIterable<ModelStreamEvent>,
  onEvent: (event: ModelStreamEvent, outcome: StreamOutcome) => void = () => {},
): Promise<StreamOutcome> {
  const outcome: StreamOutcome = { events: [], text: '', usage: undefined, stopReason: undefined, error: undefined };
  try {
    for await (const event of stream) {
      outcome.events.push(event);
      if (event.type === 'text') outcome.text += event.text;
      if (event.type === 'usage') outcome.usage = event.usage;
      if (event.type === 'done') outcome.stopReason = event.stopReason;
      onEvent(event, outcome);
    }
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    outcome.error = error;
  }
  return outcome;
}

/** Streams one request through `provider` and drains it. */
export function run(
  provider: ModelProvider,
  overrides: Partial<ModelRequest> = {},
  onEvent?: Parameters<typeof drain>[1],
): Promise<StreamOutcome> {
  return drain(provider.stream(modelRequest(overrides)), onEvent);
}
