/** What a freshly built packet puts in the log: one warning per notice, one info line per conflict. */
import path from 'node:path';
import type { IdentityPacket } from './types.js';
import type { IdentityLogger } from './logger.js';

/** Logs a new packet; `dir` (absolute) goes into the log entries only, never into the packet. */
export function logPacket(log: IdentityLogger, packet: IdentityPacket, dir: string, first: boolean): void {
  const { agentId } = packet;
  for (const n of packet.notices) {
    log.warn({ agentId, file: n.file, path: path.join(dir, n.file), kind: n.kind }, `identity: ${n.message}`);
  }
  for (const c of packet.conflicts) {
    const msg = `identity conflict on ${c.subject}: ${c.winner} wins over ${c.losers.join(', ')}`;
    log.info({ agentId, subject: c.subject, winner: c.winner, losers: c.losers }, msg);
  }
  const sources = packet.sources.map((s) => s.file);
  const msg = first ? 'identity loaded' : 'identity reloaded';
  log.info({ agentId, name: packet.fields.name, hash: packet.hash, sources }, msg);
}
