/**
 * Turns runtime events into OpenClaw's `chat` and `agent` streams (protocol-openclaw.md §4), plus
 * `session.message` and `sessions.changed`. Per run: one `seq` shared by the run's agent and chat events;
 * chat deltas are paced (`chatDeltaIntervalMs`) and carry both `deltaText` and the cumulative `message`;
 * a pending delta is flushed before the terminal chat event, so deltas always add up to the final text.
 */
import type { ChatMessage } from '../protocol/schema.js';
import type { StoredMessage } from '../memory/types.js';
import type { RunEnded, RunRef, RuntimeEvent } from '../workers/run-events.js';
import type { Broadcaster } from './broadcaster.js';
import { sessionRow } from './session-view.js';
import { wireMessage } from './message-view.js';

interface RunStream {
  seq: number;
  startedAt: number;
  /** Text the last chat delta carried. */
  sentText: string;
  lastDeltaAt: number;
  /** Latest text not yet sent as a delta. */
  pendingText: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface ProjectorOptions {
  chatDeltaIntervalMs: number;
  now: () => number;
  openRunIds: (sessionKey: string) => string[];
}

export class ChatProjector {
  readonly #runs = new Map<string, RunStream>();

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly options: ProjectorOptions,
  ) {}

  readonly handle = (event: RuntimeEvent): void => {
    switch (event.type) {
      case 'run.started':
        return this.#started(event.run, event.startedAt);
      case 'run.text':
        return this.#text(event.run, event.delta, event.text);
      case 'run.status':
        return this.#status(event.run, event.phase, event.detail);
      case 'run.ended':
        return this.#ended(event.run, event.ended);
      case 'message.stored':
        return this.#messageStored(event.message);
      case 'session.changed': {
        // Read the session row only when somebody listens (every turn ends with one of these).
        if (this.broadcaster.sessionsSubscriberCount === 0) return;
        const record = event.session();
        const session = record === undefined ? undefined : sessionRow(record, this.options.openRunIds(event.sessionKey));
        this.broadcaster.broadcast('sessions.changed', {
          sessionKey: event.sessionKey,
          agentId: event.agentId,
          reason: event.reason,
          ts: this.options.now(),
          ...(session === undefined ? {} : { session }),
        });
        return;
      }
    }
  };

  /** Cancels pacing timers; safe to call twice. */
  close(): void {
    for (const stream of this.#runs.values()) clearTimeout(stream.timer);
    this.#runs.clear();
  }

  #stream(run: RunRef): RunStream {
    let stream = this.#runs.get(run.runId);
    if (stream === undefined) {
      stream = { seq: 0, startedAt: this.options.now(), sentText: '', lastDeltaAt: 0, pendingText: undefined, timer: undefined };
      this.#runs.set(run.runId, stream);
    }
    return stream;
  }

  #agent(run: RunRef, stream: RunStream, kind: string, data: Record<string, unknown>): void {
    stream.seq += 1;
    this.broadcaster.broadcast(
      'agent',
      { runId: run.runId, seq: stream.seq, stream: kind, ts: this.options.now(), data, sessionKey: run.sessionKey, agentId: run.agentId },
      { sessionKey: run.sessionKey },
    );
  }

  #started(run: RunRef, startedAt: number): void {
    const stream = this.#stream(run);
    stream.startedAt = startedAt;
    this.#agent(run, stream, 'lifecycle', { phase: 'start', startedAt });
  }

  #text(run: RunRef, delta: string, text: string): void {
    const stream = this.#stream(run);
    this.#agent(run, stream, 'assistant', { text, delta });
    stream.pendingText = text;
    const wait = stream.lastDeltaAt + this.options.chatDeltaIntervalMs - this.options.now();
    if (wait <= 0) this.#flushDelta(run, stream);
    else stream.timer ??= setTimeout(() => this.#flushDelta(run, stream), wait);
  }

  #flushDelta(run: RunRef, stream: RunStream): void {
    clearTimeout(stream.timer);
    stream.timer = undefined;
    const text = stream.pendingText;
    if (text === undefined || text === stream.sentText) return;
    stream.pendingText = undefined;
    const appends = text.startsWith(stream.sentText);
    const now = this.options.now();
    this.broadcaster.broadcast(
      'chat',
      {
        runId: run.runId,
        sessionKey: run.sessionKey,
        agentId: run.agentId,
        seq: stream.seq,
        state: 'delta',
        deltaText: appends ? text.slice(stream.sentText.length) : text,
        ...(appends ? {} : { replace: true }),
        message: { role: 'assistant', content: [{ type: 'text', text }], timestamp: now },
      },
      { sessionKey: run.sessionKey, droppable: true },
    );
    stream.sentText = text;
    stream.lastDeltaAt = now;
  }

  #status(run: RunRef, phase: string, detail: Record<string, unknown> | undefined): void {
    const stream = this.#stream(run);
    this.broadcaster.broadcast(
      'chat',
      { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId, seq: stream.seq, state: 'status', phase, ...(detail ? { retry: detail } : {}) },
      { sessionKey: run.sessionKey },
    );
  }

  /**
   * The run's end in OpenClaw's order: the agent lifecycle event first, then the terminal chat event with that
   * event's seq, so a run's chat seqs rise to its end (the final is never numbered like the last delta).
   */
  #ended(run: RunRef, ended: RunEnded): void {
    const stream = this.#stream(run);
    this.#flushDelta(run, stream);
    this.#runs.delete(run.runId);
    const base = () => ({ runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId, seq: stream.seq });
    const message = finalMessage(ended);
    const startedAt = ended.startedAt ?? stream.startedAt;
    const lifecycle = { startedAt, endedAt: ended.endedAt, stopReason: ended.stopReason };
    if (ended.status === 'ok') {
      this.#agent(run, stream, 'lifecycle', { phase: 'end', ...lifecycle });
      this.broadcaster.broadcast('chat', { ...base(), state: 'final', ...(message ? { message } : {}), stopReason: ended.stopReason, ...(ended.usage ? { usage: ended.usage } : {}) }, { sessionKey: run.sessionKey });
    } else if (ended.status === 'aborted' || ended.status === 'interrupted') {
      this.#agent(run, stream, 'lifecycle', { phase: 'end', ...lifecycle, aborted: true });
      this.broadcaster.broadcast('chat', { ...base(), state: 'aborted', ...(message ? { message } : {}), stopReason: ended.stopReason, ...(ended.error ? { errorMessage: ended.error } : {}) }, { sessionKey: run.sessionKey });
    } else {
      const error = ended.error ?? 'run failed';
      this.#agent(run, stream, 'lifecycle', { phase: 'error', ...lifecycle, error });
      this.broadcaster.broadcast('chat', { ...base(), state: 'error', ...(message ? { message } : {}), errorMessage: error, errorKind: ended.errorKind ?? 'unknown', stopReason: ended.stopReason }, { sessionKey: run.sessionKey });
    }
  }

  #messageStored(stored: StoredMessage): void {
    this.broadcaster.broadcast(
      'session.message',
      { sessionKey: stored.sessionKey, message: wireMessage(stored), messageId: stored.id, messageSeq: stored.seq, ...(stored.runId ? { runId: stored.runId } : {}) },
      { sessionKey: stored.sessionKey },
    );
  }
}

/** The message a terminal chat event carries: the stored one, or none for a silent or empty run. */
function finalMessage(ended: RunEnded): ChatMessage | undefined {
  if (ended.message !== undefined && ended.text !== '') return wireMessage(ended.message);
  return undefined;
}
