/**
 * The embedded `local` provider: deterministic, offline, no key. It does not understand anything — it echoes
 * the last user message back, streamed in a few chunks — and says so in every reply. It exists so brainstem
 * runs and tests on a machine with no network.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { countTokens } from '../../memory/tokens.js';
import { base64Bytes } from '../attachments.js';
import { splitIntoChunks } from './chunks.js';
import type { ModelImage, ModelInfo, ModelProvider, ModelRequest, ModelStreamEvent } from './types.js';

export const LOCAL_MODEL_ID = 'local-echo';
/** Prefix of every local reply, so nobody mistakes it for a model's answer. */
export const LOCAL_REPLY_PREFIX = 'Echo (offline local model): ';
/** Number of chunks a reply is streamed in (fewer for short replies). */
export const LOCAL_CHUNKS = 4;

export interface LocalProviderOptions {
  /** Pause between chunks, in ms; 0 streams as fast as the event loop allows. */
  chunkDelayMs?: number;
}

export function localReply(request: Pick<ModelRequest, 'messages'>): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  const said = lastUser?.content.trim() ?? '';
  const images = lastUser?.images ?? [];
  // It cannot look at images; it says which it was given, so a client can see that they arrived.
  const seen = images.length === 0 ? '' : `(${images.length === 1 ? '1 image' : `${images.length} images`}: ${images.map(describeImage).join('; ')})`;
  if (said === '') return `${LOCAL_REPLY_PREFIX}${seen === '' ? '(empty message)' : seen}`;
  return `${LOCAL_REPLY_PREFIX}${said}${seen === '' ? '' : ` ${seen}`}`;
}

function describeImage(image: ModelImage): string {
  return `${image.mimeType}, ${base64Bytes(image.data)} bytes`;
}

export function createLocalProvider(options: LocalProviderOptions = {}): ModelProvider {
  const delayMs = options.chunkDelayMs ?? 0;
  return {
    id: 'local',
    models: (): ModelInfo[] => [
      { id: LOCAL_MODEL_ID, name: 'Local echo (offline)', provider: 'local', contextWindow: 32_768, available: true },
    ],
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const reply = localReply(request);
      for (const chunk of splitIntoChunks(reply, LOCAL_CHUNKS)) {
        if (delayMs > 0) await sleep(delayMs, undefined, { signal: request.signal });
        request.signal.throwIfAborted();
        yield { type: 'text', text: chunk };
      }
      // Usage in tokens (cl100k_base): the caller's count of the prompt when it has one (memory caches a count
      // per item), else counted here.
      const input = request.promptTokens ?? request.messages.reduce((n, m) => n + countTokens(m.content), 0);
      const output = countTokens(reply);
      yield { type: 'usage', usage: { input, output, totalTokens: input + output } };
      yield { type: 'done', stopReason: 'stop' };
    },
    close: async () => {},
  };
}
