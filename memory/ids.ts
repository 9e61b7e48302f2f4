/**
 * MemoryIDs: ULIDs from a monotonic factory, so ids are unique, stable forever and sort by creation time
 * even when many are made in the same millisecond.
 */
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

export type MemoryId = string;

export function newMemoryId(now: number = Date.now()): MemoryId {
  return next(now);
}
