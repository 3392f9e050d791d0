import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The correlation id of the work running now: one id from where a change enters (a webhook, an API request, an IDLE
 * poke) through Kafka (the `x-correlation-id` header) to the consumer's round, the domain event and the socket emit.
 * Log lines carry it (the pino mixin reads it here), so one grep of the logs shows a change's whole path.
 */
export interface CorrelationContext {
  correlationId: string;
}

const store = new AsyncLocalStorage<CorrelationContext>();

/** A correlation id accepted from outside (a header): 1-128 of [A-Za-z0-9._:-], else undefined. */
export function acceptCorrelationId(value: unknown): string | undefined {
  const v = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : undefined;
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** Runs `fn` with `correlationId` as the current id (a fresh one when none is given). */
export function runWithCorrelation<T>(correlationId: string | undefined, fn: () => T): T {
  return store.run({ correlationId: correlationId ?? newCorrelationId() }, fn);
}

/** The current correlation id, or undefined outside any correlated work. */
export function currentCorrelationId(): string | undefined {
  return store.getStore()?.correlationId;
}
