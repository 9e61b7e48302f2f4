/**
 * The raw-`ws` handshake the bench clients share: open a socket, answer `connect.challenge` with a minimal
 * token connect, and resolve on hello-ok (reject on a refusal or a socket error). Frames are matched as text,
 * not parsed, so that the generators cost little next to what they measure.
 */
import { WebSocket } from 'ws';

export interface HandshakeOptions {
  token: string;
  scopes: readonly string[];
  caps?: readonly string[];
  /** Largest frame the client takes (ws's default is 100 MiB). */
  maxPayload?: number;
}

export function connectBenchClient(url: string, options: HandshakeOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }) });
  const params = {
    minProtocol: 3,
    maxProtocol: 4,
    client: { id: 'test', version: '1', platform: 'bench', mode: 'test' },
    scopes: options.scopes,
    ...(options.caps === undefined ? {} : { caps: options.caps }),
    auth: { token: options.token },
  };
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', function onHandshake(data: Buffer) {
      const text = data.toString();
      if (text.includes('"connect.challenge"')) {
        ws.send(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params }));
      } else if (text.includes('"hello-ok"')) {
        ws.off('message', onHandshake);
        resolve(ws);
      } else if (text.startsWith('{"type":"res"')) {
        reject(new Error(`connect refused: ${text}`));
      }
    });
  });
}
