/**
 * What the runtime tells the rest of the gateway, with no knowledge of sockets: the server turns these into
 * `chat`, `agent`, `session.message` and `sessions.changed` events for the connections that may see them.
 */
import type { ErrorKind } from '../protocol/events.js';
import type { SessionRecord, StoredMessage } from '../memory/types.js';
import { Fanout } from './fanout.js';
import type { ModelUsage } from './providers/types.js';

export interface RunRef {
  runId: string;
  sessionKey: string;
  agentId: string;
  kind: 'chat' | 'agent';
}

export type RunOutcomeStatus = 'ok' | 'error' | 'aborted' | 'timeout' | 'interrupted';

export interface RunEnded {
  status: RunOutcomeStatus;
  /** All assistant text produced (partial when the run did not finish). */
  text: string;
  stopReason: string;
  startedAt: number | undefined;
  endedAt: number;
  error?: string;
  errorKind?: ErrorKind;
  usage?: ModelUsage;
  /** The stored assistant message, when one was stored. */
  message?: StoredMessage;
}

export type RuntimeEvent =
  | { type: 'run.started'; run: RunRef; startedAt: number }
  | { type: 'run.text'; run: RunRef; delta: string; text: string }
  | { type: 'run.status'; run: RunRef; phase: string; detail?: Record<string, unknown> }
  | { type: 'run.ended'; run: RunRef; ended: RunEnded }
  | { type: 'message.stored'; message: StoredMessage }
  /** `session` reads the row when called: only when someone listens for session changes. */
  | { type: 'session.changed'; sessionKey: string; agentId: string; reason: string; session: () => SessionRecord | undefined }
  /** A session was deleted with its transcript: what other parts keep of it goes too (the agent runtime's plans). */
  | { type: 'session.deleted'; sessionKey: string };

/** The runtime's events, fanned out (workers/fanout.ts). */
export class RuntimeEvents extends Fanout<RuntimeEvent> {}
