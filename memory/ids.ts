/**
 * MemoryIDs: ULIDs from a monotonic factory, so ids are unique, stable forever and sort by creation time
 * even when many are made in the same millisecond. Their random part comes from crypto randomness drawn in
 * pooled blocks (the ulid package's default PRNG makes one native call per character).
 */
import { randomFillSync } from 'node:crypto';
import { encodeTime, MAX_ULID, monotonicFactory, TIME_LEN, TIME_MAX } from 'ulid';

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

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters of a MemoryID (ulid exports the time part's length and the largest id, not the id's length). */
const ID_CHARS = MAX_ULID.length;

/** Crockford base32 digit of each ASCII code (either case, as ulid reads ids), -1 for any other character. */
const DIGITS = new Int8Array(128).fill(-1);
for (let i = 0; i < CROCKFORD.length; i++) {
  DIGITS[CROCKFORD.charCodeAt(i)] = i;
  DIGITS[CROCKFORD.toLowerCase().charCodeAt(i)] = i;
}

/**
 * The time (ms) a MemoryID holds; NaN for a string that is not one (26 Crockford base32 characters, a time up to
 * TIME_MAX). Decoded here with a table: ulid's `isValid` and `decodeTime` split the id into an array of characters
 * and search the alphabet for each (1.5–1.8 µs an id against 0.15 here; two ids a turn).
 */
export function memoryIdTime(id: string): number {
  if (id.length !== ID_CHARS) return Number.NaN;
  let time = 0;
  for (let i = 0; i < ID_CHARS; i++) {
    const code = id.charCodeAt(i);
    const digit = code < DIGITS.length ? (DIGITS[code] as number) : -1;
    if (digit < 0) return Number.NaN;
    if (i < TIME_LEN) time = time * CROCKFORD.length + digit;
  }
  return time > TIME_MAX ? Number.NaN : time;
}

/** SQL for the time (ms) a MemoryID column holds: its first ten characters, Crockford base32. */
export function memoryIdTimeSql(column: string): string {
  return Array.from({ length: 10 }, (_, i) => `(instr('${CROCKFORD}', substr(${column}, ${i + 1}, 1)) - 1) * ${32 ** (9 - i)}`).join(' + ');
}
