/**
 * The gateway's rate limits, one owner for all of them (policy in README "Rate limits"):
 * - per connection: requests after hello-ok (`requestsPerSec`, `requestBurst`), and how many of them may wait
 *   for their answer at once (`maxPendingRequestsPerConnection`: agent.wait and `agent` hold theirs until a run ends);
 * - per client IP: connection attempts, failed authentication, HTTP requests;
 * - gateway-wide: `maxConnections` sockets open at once (handshaking ones included).
 * Per-IP limits skip loopback addresses unless `rateLimitLoopback` is on: on loopback every local process, and
 * every client behind a reverse proxy on the same host, shares one address, so a per-IP bucket there would
 * let one misbehaving client lock out all of them. Per-connection limits and the connection cap always apply.
 */
import type { Config } from './config-options.js';
import { KeyedBuckets, TokenBucket, type BucketRate } from './token-bucket.js';

/** Which limit refused something (the `limit` label of `brainstem_rate_limited_total`). */
export type LimitName = 'requests' | 'pending' | 'connects' | 'auth' | 'http' | 'connections';

export interface RateLimitOptions {
  /** Per connection; undefined: unlimited. */
  requests: BucketRate | undefined;
  /** Requests of one connection waiting for their answer at once. */
  maxPendingRequests: number;
  /** Per IP; undefined: unlimited. */
  connects: BucketRate | undefined;
  /** Failed authentications per IP; undefined: unlimited. */
  authFailures: BucketRate | undefined;
  /** HTTP requests per IP; undefined: unlimited. */
  http: BucketRate | undefined;
  /** Sockets open at once. */
  maxConnections: number;
  /** Apply the per-IP limits to loopback addresses too. */
  limitLoopback: boolean;
}

function rate(perSecond: number, burst: number): BucketRate | undefined {
  return perSecond > 0 && burst > 0 ? { perSecond, burst } : undefined;
}

/** The limits the config asks for (a rate of 0 turns that limit off). */
export function rateLimitOptions(config: Config): RateLimitOptions {
  return {
    requests: rate(config.requestsPerSec, config.requestBurst),
    maxPendingRequests: config.maxPendingRequestsPerConnection,
    connects: rate(config.connectsPerIpPerMin / 60, config.connectBurstPerIp),
    authFailures: rate(config.authFailuresPerIpPerMin / 60, config.authFailureBurstPerIp),
    http: rate(config.httpRequestsPerIpPerSec, config.httpBurstPerIp),
    maxConnections: config.maxConnections,
    limitLoopback: config.rateLimitLoopback,
  };
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. */
export function isLoopbackAddress(ip: string | undefined): boolean {
  if (ip === undefined) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}

export class RateLimits {
  readonly #connects: KeyedBuckets | undefined;
  readonly #authFailures: KeyedBuckets | undefined;
  readonly #http: KeyedBuckets | undefined;

  constructor(
    readonly options: RateLimitOptions,
    private readonly now: () => number,
    private readonly onLimited: (limit: LimitName) => void = () => undefined,
  ) {
    this.#connects = options.connects && new KeyedBuckets(options.connects);
    this.#authFailures = options.authFailures && new KeyedBuckets(options.authFailures);
    this.#http = options.http && new KeyedBuckets(options.http);
  }

  /** A new socket from `ip` while `open` sockets exist: what refuses it, or undefined when it may stay. */
  admitSocket(ip: string | undefined, open: number): { limit: 'connections' | 'connects'; retryAfterMs: number } | undefined {
    if (open >= this.options.maxConnections) return this.#limited('connections', 0);
    const wait = this.#perIp(this.#connects, ip, (buckets, key) => buckets.take(key, this.now()));
    return wait > 0 ? this.#limited('connects', wait) : undefined;
  }

  /** Ms until `ip` may try to authenticate again (0: now). Checked before the secret is compared. */
  authRetryAfter(ip: string | undefined): number {
    const wait = this.#perIp(this.#authFailures, ip, (buckets, key) => buckets.peek(key, this.now()));
    if (wait > 0) this.onLimited('auth');
    return wait;
  }

  /** Counts one failed authentication from `ip`. */
  authFailed(ip: string | undefined): void {
    this.#perIp(this.#authFailures, ip, (buckets, key) => buckets.take(key, this.now()));
  }

  /** An HTTP request from `ip`: ms to wait before retrying, 0 when it may go ahead. */
  httpRetryAfter(ip: string | undefined): number {
    const wait = this.#perIp(this.#http, ip, (buckets, key) => buckets.take(key, this.now()));
    if (wait > 0) this.onLimited('http');
    return wait;
  }

  /** The limits of a new connection's requests. */
  requestLimiter(): RequestLimiter {
    const options = this.options.requests;
    const bucket = options === undefined ? undefined : new TokenBucket(options, this.now());
    let pending = 0;
    return {
      take: () => {
        const wait = bucket?.take(this.now()) ?? 0;
        if (wait > 0) this.onLimited('requests');
        return wait;
      },
      begin: () => {
        if (pending >= this.options.maxPendingRequests) {
          this.onLimited('pending');
          return false;
        }
        pending += 1;
        return true;
      },
      end: () => {
        pending -= 1;
      },
    };
  }

  /** Forgets every tracked address; safe to call twice. */
  close(): void {
    this.#connects?.clear();
    this.#authFailures?.clear();
    this.#http?.clear();
  }

  #perIp(buckets: KeyedBuckets | undefined, ip: string | undefined, use: (buckets: KeyedBuckets, key: string) => number): number {
    if (buckets === undefined) return 0;
    if (!this.options.limitLoopback && isLoopbackAddress(ip)) return 0;
    return use(buckets, ip ?? 'unknown');
  }

  #limited<L extends 'connections' | 'connects'>(limit: L, retryAfterMs: number): { limit: L; retryAfterMs: number } {
    this.onLimited(limit);
    return { limit, retryAfterMs };
  }
}

/** One connection's request limits. */
export interface RequestLimiter {
  /** The rate: 0 when a request may go ahead, else ms to wait. */
  take(): number;
  /** A request's handler starts: false when the connection already has its most requests waiting for an answer. */
  begin(): boolean;
  /** A request that began was answered. */
  end(): void;
}
