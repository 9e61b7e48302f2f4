/** The wire error for a lane that has no room: UNAVAILABLE, details.code QUEUE_FULL, retryable, retryAfterMs. */
import { GatewayError } from '../../protocol/errors.js';
import type { QueueRefusal } from '../jobs/job-runner.js';

export function queueFullError(refusal: QueueRefusal): GatewayError {
  return new GatewayError('QUEUE_FULL', {
    params: { queue: refusal.lane },
    details: { queue: refusal.lane, limit: refusal.limit },
    retryAfterMs: refusal.retryAfterMs,
  });
}
