/**
 * One run as a client saw it over the wire (its `chat` events) and as the gateway stored it (runs table,
 * agent.wait, chat.history, the idempotency replay), and the check that the two tell the same story.
 */
import { expect } from 'vitest';
import type { ChatEventPayload } from '../../protocol/events.js';
import type { MethodResult } from '../../protocol/registry.js';
import type { ChatMessage } from '../../protocol/schema.js';
import type { RunRecord } from '../../memory/types.js';
import type { TestGateway } from './gateway.js';
import { payloadOf, resultOf, type Frame, type RawClient } from './raw-client.js';

type Terminal = Extract<ChatEventPayload, { state: 'final' | 'aborted' | 'error' }>;
type Status = Extract<ChatEventPayload, { state: 'status' }>;

export interface WireRun {
  /** The run's chat events in arrival order. */
  chat: ChatEventPayload[];
  statuses: Status[];
  /** The deltas' `deltaText` joined. */
  deltaText: string;
  terminal: Terminal;
  /** The terminal event's message text ('' when it has none). */
  text: string;
}

export interface StoredRun {
  run: RunRecord | undefined;
  wait: MethodResult<'agent.wait'>;
  /** The assistant message of this run in chat.history, if one was stored. */
  message: ChatMessage | undefined;
  /** What a repeat of the same chat.send gets now. */
  replay: MethodResult<'chat.send'>;
}

export interface ChatSend {
  sessionKey: string;
  message: string;
  idempotencyKey: string;
  timeoutMs?: number;
  queueMode?: string;
}

const isRunChat = (runId: string) => (f: Frame) => f.event === 'chat' && (f.payload as { runId?: string }).runId === runId;
const TERMINAL = new Set(['final', 'aborted', 'error']);

export function textOf(message: ChatMessage | undefined): string {
  if (message === undefined) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Sends a chat turn and returns its ack (fails the test when it is refused). */
export async function send(client: RawClient, params: ChatSend): Promise<MethodResult<'chat.send'>> {
  return resultOf(await client.request('chat.send', params), 'chat.send');
}

/** Waits for the run's terminal chat event and collects what the client received for it. */
export async function wireRun(client: RawClient, runId: string, timeoutMs = 10_000): Promise<WireRun> {
  await client.next((f) => isRunChat(runId)(f) && TERMINAL.has((f.payload as { state: string }).state), { timeoutMs });
  const chat = client.frames.filter(isRunChat(runId)).map((f) => payloadOf(f, 'chat'));
  const terminal = chat.find((p): p is Terminal => TERMINAL.has(p.state)) as Terminal;
  return {
    chat,
    statuses: chat.filter((p): p is Status => p.state === 'status'),
    deltaText: chat.map((p) => (p.state === 'delta' ? p.deltaText : '')).join(''),
    terminal,
    text: textOf(terminal.message),
  };
}

/** Reads back everything the gateway stored about the run. */
export async function storedRun(client: RawClient, gw: TestGateway, params: ChatSend): Promise<StoredRun> {
  const runId = params.idempotencyKey;
  const wait = resultOf(await client.request('agent.wait', { runId, timeoutMs: 5_000 }), 'agent.wait');
  const history = resultOf(await client.request('chat.history', { sessionKey: params.sessionKey }), 'chat.history');
  const messages = 'messages' in history ? history.messages : [];
  const message = messages.find((m) => m.role === 'assistant' && m.__openclaw?.runId === runId);
  return { run: gw.store.runs.get(runId), wait, message, replay: await send(client, params) };
}

/** Sends a turn, waits for its end, and reads back what was stored. */
export async function chatTurn(client: RawClient, gw: TestGateway, params: ChatSend): Promise<{ wire: WireRun; stored: StoredRun }> {
  await send(client, params);
  const wire = await wireRun(client, params.idempotencyKey);
  return { wire, stored: await storedRun(client, gw, params) };
}

/** What the client saw and what was stored agree: state, error kind and message, text, usage, replay. */
export function expectConsistent(wire: WireRun, stored: StoredRun): void {
  const { terminal } = wire;
  const { run } = stored;
  expect(run, 'runs row').toBeDefined();
  if (run === undefined) return;
  // Deltas add up to the text the terminal event carries, and that is the stored text.
  if (wire.text !== '') expect(wire.deltaText).toBe(wire.text);
  expect(textOf(stored.message)).toBe(wire.text);
  expect(run.stopReason).toBe(terminal.stopReason);
  expect(stored.wait.stopReason).toBe(terminal.stopReason);
  if (terminal.state === 'final') {
    expect(run.status).toBe('ok');
    expect(stored.wait.status).toBe('ok');
    expect(stored.replay).toEqual({ runId: run.runId, status: 'ok' });
    expect(run.usage).toEqual(terminal.usage);
    expect(stored.message?.usage).toEqual(terminal.usage);
  } else if (terminal.state === 'error') {
    expect(['error', 'timeout']).toContain(run.status);
    expect(stored.wait.status).toBe(run.status);
    expect(run.errorKind).toBe(terminal.errorKind);
    expect(run.error).toBe(terminal.errorMessage);
    expect(stored.wait.error).toBe(terminal.errorMessage);
    expect(stored.message?.errorMessage).toBe(terminal.errorMessage);
    const summary = run.status === 'error' ? terminal.errorMessage : run.status;
    expect(stored.replay).toEqual({ runId: run.runId, status: 'error', summary });
  } else {
    expect(run.status).toBe('aborted');
    expect(stored.wait).toMatchObject({ status: 'error', stopReason: 'aborted' });
    expect(stored.replay).toEqual({ runId: run.runId, status: 'error', summary: 'aborted' });
  }
}
