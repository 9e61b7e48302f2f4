/** Records the memory layer stores and returns. Wire shapes come from protocol/; these add storage facts. */
import type { ChatMessage } from '../protocol/schema.js';
import type { MemoryId } from './ids.js';

/** Per-session settings changed by `sessions.patch`; absent means default. */
export interface SessionSettings {
  label?: string;
  thinkingLevel?: string;
  fastMode?: boolean;
  verboseLevel?: string;
  reasoningLevel?: string;
  model?: string;
  pinned?: boolean;
  archived?: boolean;
}

export interface SessionRecord {
  key: string;
  agentId: string;
  /** Changes on every reset; the transcript of the current id is the live history. */
  sessionId: string;
  createdAt: number;
  updatedAt: number;
  settings: SessionSettings;
  inputTokens: number;
  outputTokens: number;
  messageCount: number;
  lastPreview: string | undefined;
}

/** A transcript message as stored: the wire message without `__openclaw`, plus where it lives. */
export type TranscriptMessage = Omit<ChatMessage, '__openclaw'>;

export interface StoredMessage {
  id: MemoryId;
  sessionKey: string;
  sessionId: string;
  /** Per-session-key sequence, starting at 1, never reused. */
  seq: number;
  message: TranscriptMessage;
  runId: string | undefined;
  createdAt: number;
  /** Token count of the message text, when memory indexed it as a MemoryItem (memory on). */
  tokens?: number;
}

export type RunKind = 'chat' | 'agent';
export type RunStatus = 'queued' | 'running' | 'ok' | 'error' | 'aborted' | 'timeout' | 'interrupted';
export const OPEN_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface RunRecord {
  runId: string;
  sessionKey: string;
  sessionId: string;
  agentId: string;
  kind: RunKind;
  status: RunStatus;
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  error: string | undefined;
  errorKind: string | undefined;
  stopReason: string | undefined;
  usage: { input?: number; output?: number; totalTokens?: number } | undefined;
}

export type IdempotencyStatus = 'in_flight' | 'ok' | 'error';

export interface IdempotencyRecord {
  key: string;
  method: string;
  requestHash: string;
  runId: string;
  status: IdempotencyStatus;
  /** The payload replayed to a repeat of a finished request. */
  response: unknown;
  createdAt: number;
  expiresAt: number | undefined;
}
