/**
 * The outbound side of one socket. Backpressure policy (STYLE §6, README "Slow consumers"): before each send
 * look at the socket's backlog — bytes buffered (ws's queue plus the TCP socket's writable buffer) that were
 * queued in earlier event-loop turns and are still not drained. What this turn queued is not backlog: frames are
 * corked until the next tick, so a burst (a batch of runs ending together) would otherwise look like a slow
 * client. One socket thus holds at most `maxBufferedBytes` of backlog plus one turn's frames.
 * - above `droppableBufferedBytes` a droppable event (a chat delta) is skipped and counted — the client has
 *   fallen behind, and the next delta and the final event carry the whole text anyway;
 * - above `maxBufferedBytes` anything else closes the client with 1008 "slow consumer", and nothing more is
 *   queued for it, so one socket never holds much more than `maxBufferedBytes`.
 * Frames sent in one event-loop turn are coalesced into one write by corking the TCP socket until the next tick.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export interface OutboundStats {
  framesOut: number;
  bytesOut: number;
  /** Droppable events skipped. */
  droppedEvents: number;
  slowConsumerCloses: number;
}

export interface OutboundPolicy {
  /** Buffered bytes past which a non-droppable send closes the client (slow consumer). */
  maxBufferedBytes: number;
  /** Buffered bytes past which droppable events are skipped (the lower of this and maxBufferedBytes applies). */
  droppableBufferedBytes: number;
  /** Gateway-wide totals, bumped alongside this socket's own `stats` (metrics). */
  totals?: OutboundStats;
}

export class Outbound {
  readonly stats: OutboundStats = { framesOut: 0, bytesOut: 0, droppedEvents: 0, slowConsumerCloses: 0 };
  readonly #dropAbove: number;
  #corked = false;
  /** Bytes handed to ws since the socket was corked (this event-loop turn's frames). */
  #thisTurn = 0;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#thisTurn = 0;
    this.tcp?.uncork();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket | undefined,
    private readonly policy: OutboundPolicy,
    private readonly onSlowConsumer: () => void,
  ) {
    this.#dropAbove = Math.min(policy.droppableBufferedBytes, policy.maxBufferedBytes);
  }

  /** Bytes queued in ws and the kernel-bound socket buffer. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Sends one frame; returns false when it was not sent (closed, dropped as slow, or slow-consumer close). */
  send(text: string, droppable: boolean): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    const buffered = this.ws.bufferedAmount - this.#thisTurn;
    if (droppable && buffered > this.#dropAbove) {
      this.#count('droppedEvents', 1);
      return false;
    }
    if (buffered > this.policy.maxBufferedBytes) {
      this.#count('slowConsumerCloses', 1);
      this.onSlowConsumer();
      return false;
    }
    if (!this.#corked && this.tcp !== undefined) {
      this.#corked = true;
      this.tcp.cork();
      process.nextTick(this.#uncork);
    }
    this.ws.send(text);
    const bytes = Buffer.byteLength(text);
    if (this.#corked) this.#thisTurn += bytes;
    this.#count('framesOut', 1);
    this.#count('bytesOut', bytes);
    return true;
  }

  #count(field: keyof OutboundStats, by: number): void {
    this.stats[field] += by;
    if (this.policy.totals !== undefined) this.policy.totals[field] += by;
  }
}
