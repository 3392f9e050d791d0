import type { IHeaders } from 'kafkajs';
import type { z } from 'zod';
import { failedMessageSchema, type FailedMessage } from '@email-core/contracts';

/**
 * What happens to a message whose handler failed: pure decisions, kept apart from kafkajs so they can be
 * tested without a broker.
 */

export interface RetryPolicy {
  /** deliveries in total, the first one included; the one after the last retry goes to the dead-letter topic */
  maxAttempts: number;
  /** wait before retry n (1-based) is `backoffMs[n - 1]`; the last value repeats */
  backoffMs: readonly number[];
}

/** The header that carries how many times a message already failed, set by the retry consumer on re-publish. */
export const FAILURES_HEADER = 'x-email-core-failures';

/** A handler error that retrying will not fix: the message goes to the dead-letter topic at once. */
export class PermanentFailure extends Error {
  constructor(
    message: string,
    readonly code = 'PERMANENT_FAILURE',
  ) {
    super(message);
    this.name = 'PermanentFailure';
  }
}

const MAX_ERROR_LENGTH = 2000;

/** An error as the envelope records it: name and message only (never a stack, never a payload), bounded. */
export function describeError(err: unknown): string {
  const text =
    err instanceof Error
      ? `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`
      : typeof err === 'string'
        ? err
        : 'non-error thrown';
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/** The 1-based number of this delivery: failures recorded in the headers, plus one. */
export function deliveryAttempt(headers: IHeaders | undefined): number {
  const raw = headers?.[FAILURES_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const failures = value === undefined ? 0 : Number(value.toString());
  return Number.isSafeInteger(failures) && failures > 0 ? failures + 1 : 1;
}

export function backoffFor(policy: RetryPolicy, failures: number): number {
  if (policy.backoffMs.length === 0) return 0;
  const idx = Math.min(Math.max(failures, 1), policy.backoffMs.length) - 1;
  return Math.max(0, policy.backoffMs[idx]);
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** JSON-decodes and validates a message value; a missing value, bad JSON or a schema miss is an error. */
export function parseMessage<T>(
  raw: string | null,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
): ParseResult<T> {
  if (raw === null) return { ok: false, error: 'INVALID_MESSAGE: empty value' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'INVALID_MESSAGE: value is not JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, error: describeError(`INVALID_MESSAGE: ${issues}`) };
}

export interface FailedDelivery {
  topic: string;
  key: string;
  value: string;
  /** the 1-based attempt that just failed */
  attempt: number;
  error: unknown;
  now: Date;
}

export interface FailureDecision {
  route: 'retry' | 'dead-letter';
  envelope: FailedMessage;
}

/** Retry with backoff while attempts remain; dead-letter when they are spent or the error is permanent. */
export function decideFailure(failed: FailedDelivery, policy: RetryPolicy): FailureDecision {
  const permanent = failed.error instanceof PermanentFailure;
  const route = permanent || failed.attempt >= policy.maxAttempts ? 'dead-letter' : 'retry';
  const delay = route === 'retry' ? backoffFor(policy, failed.attempt) : 0;
  return {
    route,
    envelope: failedMessageSchema.parse({
      type: 'message.failed',
      v: 1,
      topic: failed.topic,
      key: failed.key,
      value: failed.value,
      attempt: failed.attempt,
      error: describeError(failed.error),
      failedAt: failed.now.toISOString(),
      notBefore: new Date(failed.now.getTime() + delay).toISOString(),
    }),
  };
}

/** The dead-letter envelope of a message that could not even be read. */
export function invalidMessageEnvelope(
  topic: string,
  key: string,
  value: string | null,
  error: string,
  now: Date,
): FailedMessage {
  return failedMessageSchema.parse({
    type: 'message.failed',
    v: 1,
    topic,
    key,
    value: value ?? '',
    attempt: 1,
    error: describeError(error),
    failedAt: now.toISOString(),
    notBefore: now.toISOString(),
  });
}
