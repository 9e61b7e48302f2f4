/** A stored transcript message as OpenClaw clients see it: `__openclaw` carries the MemoryID and seq. */
import type { ChatMessage } from '../protocol/schema.js';
import type { StoredMessage } from '../memory/types.js';

export function wireMessage(stored: StoredMessage): ChatMessage {
  return {
    ...stored.message,
    __openclaw: { id: stored.id, seq: stored.seq, ...(stored.runId === undefined ? {} : { runId: stored.runId }) },
  };
}
