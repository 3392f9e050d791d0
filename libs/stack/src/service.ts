import type { StackSource } from './types';

/** How `up` obtained one service, for the summary line. */
export interface ServiceUp<E> {
  endpoint: E;
  source: StackSource;
  /** e.g. "pid 1234  (.stack/kafka/kafka.log)" or "reused" */
  detail: string;
}

/** Result of one short health check. */
export interface ServiceHealth {
  healthy: boolean;
  detail: string;
}

/** Thrown when no source can provide a service; the message says what to install. */
export class StackUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackUnavailableError';
  }
}
