/**
 * The outbound side of one socket. Backpressure policy (STYLE §6): before each send look at the socket's
 * buffered bytes; past `maxBufferedBytes` a droppable event (a chat delta) is skipped and counted, anything
 * else closes the client with 1008 "slow consumer". Frames sent in one event-loop turn are coalesced into
 * one write by corking the TCP socket until the next tick.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export interface OutboundStats {
  framesOut: number;
  bytesOut: number;
  dropped: number;
}

export class Outbound {
  readonly stats: OutboundStats = { framesOut: 0, bytesOut: 0, dropped: 0 };
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.tcp?.uncork();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket | undefined,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: () => void,
  ) {}

  /** Bytes queued in ws and the kernel-bound socket buffer. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Sends one frame; returns false when it was not sent (closed, dropped as slow, or slow-consumer close). */
  send(text: string, droppable: boolean): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      if (droppable) {
        this.stats.dropped += 1;
        return false;
      }
      this.onSlowConsumer();
      return false;
    }
    if (!this.#corked && this.tcp !== undefined) {
      this.#corked = true;
      this.tcp.cork();
      process.nextTick(this.#uncork);
    }
    this.ws.send(text);
    this.stats.framesOut += 1;
    this.stats.bytesOut += Buffer.byteLength(text);
    return true;
  }
}
