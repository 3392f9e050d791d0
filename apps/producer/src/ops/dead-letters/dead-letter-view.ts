import { failedMessageSchema, type FailedMessage } from '@email-core/contracts';
import { parseMessage } from '@email-core/kafka';
import type { DeadLetterRecord } from './dead-letter-reader';

/** Payloads are shown up to this many characters; the rest is cut (a replay still sends the whole message). */
export const MAX_PAYLOAD_CHARS = 8192;

/** Object keys whose values are never shown, at any depth. */
const SECRET_KEY =
  /token|secret|password|passwd|clientstate|authorization|cookie|credential|api[-_]?key|private[-_]?key/i;
/** Values that look like a credential wherever they appear: a JWT, or a bearer authorization. */
const SECRET_VALUE = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*|\bBearer\s+[\w\-.~+/]+=*/g;
const REDACTED = '[redacted]';

/**
 * The project's messages carry ids, never tokens (libs/contracts says so and no schema has a secret field: a
 * `subscription.delete` names a `subscription_removals` row instead of carrying the sealed token, and a
 * `mail.command` names a stored command instead of carrying the request). A dead letter may still hold
 * something that is not one of our messages (it failed validation), so what the API shows is redacted anyway:
 * token-like keys and token-like values never leave the producer.
 */
export function redactPayload(raw: string): { payload: string; truncated: boolean } {
  let text: string;
  try {
    text = JSON.stringify(redactValue(JSON.parse(raw) as unknown));
  } catch {
    text = raw.replace(SECRET_VALUE, REDACTED);
  }
  return text.length > MAX_PAYLOAD_CHARS
    ? { payload: text.slice(0, MAX_PAYLOAD_CHARS), truncated: true }
    : { payload: text, truncated: false };
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, REDACTED);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) ? REDACTED : redactValue(v),
      ]),
    );
  }
  return value;
}

/** A dead letter decoded: its failure envelope, or why it has none. */
export type DecodedDeadLetter = { ok: true; envelope: FailedMessage } | { ok: false; error: string };

export function decodeDeadLetter(record: Pick<DeadLetterRecord, 'value'>): DecodedDeadLetter {
  const parsed = parseMessage(record.value, failedMessageSchema);
  return parsed.ok ? { ok: true, envelope: parsed.value } : { ok: false, error: parsed.error };
}

/** A dead letter as the Ops API shows it (the DTO's shape). */
export interface DeadLetterView {
  partition: number;
  offset: number;
  key: string;
  timestamp: string;
  originalTopic: string | null;
  attempts: number | null;
  error: string;
  failedAt: string | null;
  payload: string;
  payloadTruncated: boolean;
  replayable: boolean;
  replayedAt: string | null;
  correlationId: string | null;
}

/**
 * `replayTargets`: the topics a replay may publish to (the project's work topics); an envelope naming another
 * topic is listed but not replayable.
 */
export function toDeadLetterView(
  record: DeadLetterRecord,
  replayTargets: ReadonlySet<string>,
  replayedAt: string | null,
): DeadLetterView {
  const decoded = decodeDeadLetter(record);
  const base = {
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: new Date(Number(record.timestamp)).toISOString(),
    replayedAt,
    correlationId: record.correlationId,
  };
  if (!decoded.ok) {
    const { payload, truncated } = redactPayload(record.value ?? '');
    return {
      ...base,
      key: record.key,
      originalTopic: null,
      attempts: null,
      error: `not a failure envelope (${decoded.error})`,
      failedAt: null,
      payload,
      payloadTruncated: truncated,
      replayable: false,
    };
  }
  const e = decoded.envelope;
  const { payload, truncated } = redactPayload(e.value);
  return {
    ...base,
    key: e.key,
    originalTopic: e.topic,
    attempts: e.attempt,
    error: e.error,
    failedAt: e.failedAt,
    payload,
    payloadTruncated: truncated,
    replayable: replayTargets.has(e.topic),
  };
}
