/**
 * The timers that judge a client: liveness (every `pingIntervalMs` the gateway closes the sockets that did not
 * answer the previous ping, 1001 "ping timeout", and pings the others) and the handshake timeout. Neither may
 * judge a client by what it sent while the event loop was held. The clients run in a child process, so that
 * they answer while this process, which hosts the gateway, is held busy.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { CLOSES } from '../../protocol/errors.js';
import { Connection } from '../../server/connection.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { REPO_ROOT } from '../helpers/spawn-gateway.js';

const PING_INTERVAL_MS = 200;
const HANDSHAKE_TIMEOUT_MS = 200;

/** A client in a child process: connects, prints `open`, `ping` on every ping, `closed <code>` at the end. */
const CLIENT = `const WebSocket = require('ws');
const [url, token, autoPong] = process.argv.slice(1);
const ws = new WebSocket(url, { autoPong: autoPong === 'true' });
ws.on('message', (data) => {
  const frame = JSON.parse(data);
  if (frame.event === 'connect.challenge') ws.send(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params: { minProtocol: 3, maxProtocol: 4,
    client: { id: 'liveness', version: '1', platform: 'test', mode: 'test' }, scopes: ['operator.read'], auth: { token } } }));
  if (frame.id === 'c') console.log(frame.ok ? 'open' : 'refused');
});
ws.on('ping', () => console.log('ping'));
ws.on('close', (code) => { console.log('closed ' + code); process.exit(0); });`;

function spawnClient(url: string, autoPong: boolean): { lines: string[] } {
  const child = spawn(process.execPath, ['-e', CLIENT, url, TEST_TOKEN, String(autoPong)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    child.kill();
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  return { lines };
}

/** Holds this process's event loop, as a long synchronous task would. */
function holdEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Busy: no timer, no socket is served.
  }
}

describe('liveness pings', () => {
  it('closes a client that does not answer pings with 1001 "ping timeout"', async () => {
    const gw = await startTestGateway({ config: { pingIntervalMs: PING_INTERVAL_MS } });
    const client = spawnClient(gw.url, false);
    await vi.waitFor(() => expect(client.lines).toContain(`closed ${CLOSES.PONG_TIMEOUT.code}`), { timeout: 10 * PING_INTERVAL_MS });
    // Pinged (the first ping may come before hello-ok: the handshake's sockets are pinged too), never answered.
    expect(client.lines).toEqual(expect.arrayContaining(['open', 'ping']));
  });

  it('keeps a client that answered while the event loop was held past the interval', async () => {
    const gw = await startTestGateway({ config: { pingIntervalMs: PING_INTERVAL_MS } });
    const client = spawnClient(gw.url, true);
    await vi.waitFor(() => expect(client.lines).toContain('open'), { timeout: 5_000 });
    const [conn] = [...gw.gateway.services.broadcaster.connections()];
    if (conn === undefined) throw new Error('no connection');
    // Right after the next ping, the loop is held (from setImmediate, as by a long I/O callback: the gateway's
    // work) for two intervals. The client answers at once; its pong waits unread, and the next iteration runs
    // the overdue interval timer before it reads the sockets.
    const ping = conn.ws.ping.bind(conn.ws);
    let held = false;
    conn.ws.ping = (...args: Parameters<typeof ping>) => {
      ping(...args);
      if (held) return;
      held = true;
      setImmediate(() => holdEventLoop(2 * PING_INTERVAL_MS));
    };
    await vi.waitFor(() => expect(held).toBe(true), { timeout: 10 * PING_INTERVAL_MS });
    await new Promise((resolve) => setTimeout(resolve, 3 * PING_INTERVAL_MS));
    expect(client.lines.filter((line) => line.startsWith('closed'))).toEqual([]);
    expect(client.lines.filter((line) => line === 'ping').length).toBeGreaterThanOrEqual(2);
  });

  it('lets a client whose connect came while the event loop was held past the handshake timeout in', async () => {
    const gw = await startTestGateway({ config: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } });
    // Right after the challenge, the loop is held for twice the timeout; the client's connect waits unread.
    const challenge = Connection.prototype.sendChallenge;
    vi.spyOn(Connection.prototype, 'sendChallenge').mockImplementationOnce(function (this: Connection, payload: object) {
      challenge.call(this, payload);
      setImmediate(() => holdEventLoop(2 * HANDSHAKE_TIMEOUT_MS));
    });
    const client = spawnClient(gw.url, true);
    await vi.waitFor(() => expect(client.lines.length).toBeGreaterThan(0), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, HANDSHAKE_TIMEOUT_MS));
    expect(client.lines).toEqual(['open']);
  });
});
