/**
 * MemoryIDs: ULIDs from a monotonic factory, so ids are unique, stable forever and sort by creation time
 * even when many are made in the same millisecond. Their random part comes from crypto randomness drawn in
 * pooled blocks (the ulid package's default PRNG makes one native call per character).
 */
import { randomFillSync } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

export type MemoryId = string;

/** Random bytes fetched from the OS at once. */
const POOL_BYTES = 4_096;
const pool = new Uint8Array(POOL_BYTES);
let next = POOL_BYTES;

/** A crypto-random number in [0, 1) with 8 bits of randomness, as the ulid package expects from a PRNG. */
function pooledRandom(): number {
  if (next === POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] as number) / 256;
}

const factory = monotonicFactory(pooledRandom);

export function newMemoryId(now: number = Date.now()): MemoryId {
  return factory(now);
}

/** Latest time a MemoryID can hold (48 bits of milliseconds, the year 10889). */
const MEMORY_ID_TIME_MAX = 2 ** 48 - 1;

/**
 * The smallest MemoryID of a time (clamped to what an id can hold). Every item's id is made from its `createdAt`
 * or later (the factory is monotonic: after an id of a later time it goes on from that one), so items created at
 * or after `time` have ids from this one up: a bound the MemoryID indexes can use.
 */
export function memoryIdFloor(time: number): MemoryId {
  return `${encodeTime(Math.min(MEMORY_ID_TIME_MAX, Math.max(0, Math.floor(time))), 10)}${'0'.repeat(16)}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The time (ms) a MemoryID holds: its first ten characters, Crockford base32; NaN for a string that is not one. */
export function memoryIdTime(id: string): number {
  let time = 0;
  for (let i = 0; i < 10; i++) {
    const digit = CROCKFORD.indexOf(id.charAt(i));
    if (digit < 0) return Number.NaN;
    time = time * 32 + digit;
  }
  return time;
}

/** SQL for the time (ms) a MemoryID column holds: its first ten characters, Crockford base32. */
export function memoryIdTimeSql(column: string): string {
  return Array.from({ length: 10 }, (_, i) => `(instr('${CROCKFORD}', substr(${column}, ${i + 1}, 1)) - 1) * ${32 ** (9 - i)}`).join(' + ');
}
