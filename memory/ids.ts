/**
 * MemoryIDs: ULIDs from a monotonic factory, so ids are unique, stable forever and sort by creation time
 * even when many are made in the same millisecond. Their random part comes from crypto randomness drawn in
 * pooled blocks (the ulid package's default PRNG makes one native call per character).
 */
import { randomFillSync } from 'node:crypto';
import { decodeTime, encodeTime, isValid, monotonicFactory, TIME_MAX } from 'ulid';

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

/**
 * The smallest MemoryID of a time (clamped to what an id can hold: 48 bits of ms, the year 10889). Every item's
 * id is made from its `createdAt` or later (the factory is monotonic: after an id of a later time it goes on from
 * that one), so items created at or after `time` have ids from this one up: a bound the MemoryID indexes can use.
 */
export function memoryIdFloor(time: number): MemoryId {
  return `${encodeTime(Math.min(TIME_MAX, Math.max(0, Math.floor(time))), 10)}${'0'.repeat(16)}`;
}

/** The time (ms) a MemoryID holds; NaN for a string that is not one. */
export function memoryIdTime(id: string): number {
  return isValid(id) ? decodeTime(id) : Number.NaN;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** SQL for the time (ms) a MemoryID column holds: its first ten characters, Crockford base32. */
export function memoryIdTimeSql(column: string): string {
  return Array.from({ length: 10 }, (_, i) => `(instr('${CROCKFORD}', substr(${column}, ${i + 1}, 1)) - 1) * ${32 ** (9 - i)}`).join(' + ');
}
