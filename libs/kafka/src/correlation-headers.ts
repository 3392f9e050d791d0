import type { IHeaders } from 'kafkajs';
import { CORRELATION_ID_HEADER } from '@email-core/contracts';
import { acceptCorrelationId } from '@email-core/logging';

/** A message's correlation id (its `x-correlation-id` header), when it carries a well-formed one. */
export function correlationIdOf(headers: IHeaders | undefined): string | undefined {
  const raw = headers?.[CORRELATION_ID_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return acceptCorrelationId(Buffer.isBuffer(value) ? value.toString('utf8') : value);
}

/** The header that carries `correlationId` (none when undefined). */
export function correlationHeaders(correlationId: string | undefined): Record<string, string> {
  return correlationId === undefined ? {} : { [CORRELATION_ID_HEADER]: correlationId };
}
