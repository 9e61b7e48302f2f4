/**
 * The baseline: a bare `ws` server doing the same exchange as brainstem with the local provider — challenge,
 * connect → hello-ok, chat.send → ack, then the same events with the same shapes and fan-out — and nothing
 * else: no validation, no storage, no scheduling. Each event is serialized once and sent with a plain
 * `ws.send` per recipient. Usage: `tsx bench/baseline-server.ts <mode: broadcast|scoped>`; prints its port.
 */
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { splitIntoChunks } from '../workers/providers/chunks.js';

const mode = process.argv[2] === 'scoped' ? 'scoped' : 'broadcast';
const PREFIX = 'Echo (offline local model): ';
/**
 * Most characters echoed: brainstem's local model echoes the last user message as the session's context holds
 * it, and a message over `memoryMaxMessageBytes` (32 KB by default) is held as a summary of that size.
 */
const ECHO_MAX_CHARS = 32_768;

interface Client {
  ws: WebSocket;
  seq: number;
  subscribed: Set<string>;
}

const clients = new Set<Client>();
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

function sendEvent(client: Client, event: string, payloadJson: string): void {
  client.seq += 1;
  client.ws.send(`{"type":"event","event":"${event}","payload":${payloadJson},"seq":${client.seq}}`);
}

/** broadcast: chat/agent to every client; scoped, and session.message always: only the session's subscribers. */
function fanOut(sessionKey: string, event: string, payload: unknown, subscribersOnly = false): void {
  const json = JSON.stringify(payload);
  for (const client of clients) {
    const receives = subscribersOnly || mode === 'scoped' ? client.subscribed.has(sessionKey) : true;
    if (receives) sendEvent(client, event, json);
  }
}

function runTurn(runId: string, sessionKey: string, message: string, messageSeq: number): void {
  const ts = Date.now();
  const base = { runId, sessionKey, agentId: 'main' };
  let seq = 0;
  fanOut(sessionKey, 'session.message', { sessionKey, message: { role: 'user', content: message, timestamp: ts, __openclaw: { id: randomUUID(), seq: messageSeq, runId } }, messageId: randomUUID(), messageSeq, runId }, true);
  fanOut(sessionKey, 'agent', { ...base, seq: ++seq, stream: 'lifecycle', ts, data: { phase: 'start', startedAt: ts } });
  const reply = `${PREFIX}${message.slice(0, ECHO_MAX_CHARS)}`;
  let text = '';
  let sentText = '';
  for (const [i, piece] of splitIntoChunks(reply, 4).entries()) {
    text += piece;
    fanOut(sessionKey, 'agent', { ...base, seq: ++seq, stream: 'assistant', ts, data: { text, delta: piece } });
    if (i === 0) {
      fanOut(sessionKey, 'chat', { ...base, seq, state: 'delta', deltaText: text, message: { role: 'assistant', content: [{ type: 'text', text }], timestamp: ts } });
      sentText = text;
    }
  }
  fanOut(sessionKey, 'chat', { ...base, seq, state: 'delta', deltaText: text.slice(sentText.length), message: { role: 'assistant', content: [{ type: 'text', text }], timestamp: ts } });
  const final = { role: 'assistant', content: [{ type: 'text', text }], timestamp: ts, model: 'local-echo', provider: 'local', usage: { input: 4, output: 8, totalTokens: 12 }, stopReason: 'stop', __openclaw: { id: randomUUID(), seq: messageSeq + 1, runId } };
  fanOut(sessionKey, 'session.message', { sessionKey, message: final, messageId: randomUUID(), messageSeq: messageSeq + 1, runId }, true);
  fanOut(sessionKey, 'chat', { ...base, seq, state: 'final', message: final, stopReason: 'stop', usage: final.usage });
  fanOut(sessionKey, 'agent', { ...base, seq: ++seq, stream: 'lifecycle', ts, data: { phase: 'end', startedAt: ts, endedAt: ts, stopReason: 'stop' } });
}

const sessionSeq = new Map<string, number>();

server.on('connection', (ws) => {
  const client: Client = { ws, seq: 0, subscribed: new Set() };
  ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: randomUUID(), ts: Date.now(), capabilities: [] } }));
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { id: string; method: string; params: Record<string, string> };
    if (frame.method === 'connect') {
      clients.add(client);
      ws.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { type: 'hello-ok', protocol: 4, server: { version: 'baseline', connId: randomUUID() }, features: { methods: [], events: [] }, snapshot: { presence: [], health: {}, stateVersion: { presence: 0, health: 0 }, uptimeMs: 0 }, auth: { role: 'operator', scopes: [] }, policy: { maxPayload: 26214400, maxBufferedBytes: 52428800, tickIntervalMs: 30000 } } }));
    } else if (frame.method === 'sessions.messages.subscribe') {
      const key = `agent:main:${frame.params.key}`;
      client.subscribed.add(key);
      ws.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { subscribed: true, key } }));
    } else if (frame.method === 'chat.send') {
      const sessionKey = `agent:main:${frame.params.sessionKey}`;
      const messageSeq = (sessionSeq.get(sessionKey) ?? 0) + 1;
      sessionSeq.set(sessionKey, messageSeq + 1);
      const runId = frame.params.idempotencyKey ?? randomUUID();
      ws.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { runId, status: 'started', messageSeq } }));
      setImmediate(() => runTurn(runId, sessionKey, frame.params.message ?? '', messageSeq));
    } else {
      ws.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: {} }));
    }
  });
  ws.on('close', () => clients.delete(client));
});

server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`baseline listening on ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
