import fc from 'fast-check';
import { decodeTime, encodeTime, isValid, TIME_MAX } from 'ulid';
import { describe, expect, it } from 'vitest';
import { memoryIdFloor, memoryIdTime, newMemoryId } from '../../memory/ids.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** What the ulid package reads from a string: its time, or NaN where it refuses it (or throws). */
function ulidTime(id: string): number {
  if (!isValid(id)) return Number.NaN;
  try {
    return decodeTime(id);
  } catch {
    return Number.NaN;
  }
}

/** Ids as clients and the gateway write them: any time, any random part, either case, one character off now and then. */
const idLike = fc
  .tuple(
    fc.integer({ min: 0, max: TIME_MAX + 1_000 }),
    fc.array(fc.constantFrom(...CROCKFORD), { minLength: 16, maxLength: 16 }),
    fc.boolean(),
    fc.option(fc.tuple(fc.nat(30), fc.constantFrom('I', 'L', 'O', 'U', 'i', '-', ' ', 'é', '\u{1F600}', 'Z', 'z')), { nil: undefined }),
  )
  .map(([time, random, lower, swap]) => {
    const head = time > TIME_MAX ? `Z${encodeTime(time % TIME_MAX, 10).slice(1)}` : encodeTime(time, 10);
    let id = `${head}${random.join('')}`;
    if (lower) id = id.toLowerCase();
    if (swap !== undefined) id = `${id.slice(0, swap[0])}${swap[1]}${id.slice(swap[0] + 1)}`;
    return id;
  });

describe('memoryIdTime', () => {
  it('reads the time of an id as the ulid package does, and NaN where it refuses one', () => {
    fc.assert(
      fc.property(fc.oneof(idLike, fc.string({ maxLength: 30 })), (id) => {
        expect(memoryIdTime(id)).toBe(ulidTime(id));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gives back the time an id was made from, and the floor of a time', () => {
    const now = Date.now();
    expect(memoryIdTime(newMemoryId(now))).toBeGreaterThanOrEqual(now);
    expect(memoryIdTime(memoryIdFloor(now))).toBe(now);
    expect(memoryIdTime(memoryIdFloor(TIME_MAX))).toBe(TIME_MAX);
    expect(memoryIdTime(`8${'0'.repeat(25)}`)).toBeNaN();
  });
});
