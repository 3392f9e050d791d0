export { isRetryableGraphStatus, retryAfterMs, RETRYABLE_GRAPH_STATUSES } from './retry-after';
