/** Small wire-test helpers around chat turns, shared by the server tests. */
import { expect } from 'vitest';
import { resultOf, type Frame, type RawClient } from './raw-client.js';

/** The payload's runId, for events that carry one. */
export function runIdOf(frame: Frame): string | undefined {
  return (frame.payload as { runId?: string } | undefined)?.runId;
}

/** Matches the `chat` event of a run, optionally in one state (`delta`, `final`, `aborted`, ...). */
export const isChat =
  (runId: string, state?: string) =>
  (frame: Frame): boolean =>
    frame.event === 'chat' && runIdOf(frame) === runId && (state === undefined || (frame.payload as { state?: string }).state === state);

/** Sends a chat turn and waits until the sender saw its final `chat` event. */
export async function runTurn(sender: RawClient, sessionKey: string, runId: string, message = 'hello there'): Promise<void> {
  resultOf(await sender.request('chat.send', { sessionKey, message, idempotencyKey: runId }), 'chat.send');
  await sender.event('chat', isChat(runId, 'final'));
}

/**
 * One request/response round trip: every event the gateway wrote to this socket before answering is in
 * `client.frames` afterwards, so "nothing arrived" can be asserted without sleeping.
 */
export async function roundTrip(client: RawClient): Promise<void> {
  expect((await client.request('health', {})).ok).toBe(true);
}
