import { z } from 'zod';
import { failedMessageSchema } from '@email-core/contracts';
import {
  backoffFor,
  decideFailure,
  deliveryAttempt,
  describeError,
  FAILURES_HEADER,
  invalidMessageEnvelope,
  parseMessage,
  PermanentFailure,
  type RetryPolicy,
} from './failure-policy';

const policy: RetryPolicy = { maxAttempts: 4, backoffMs: [1000, 5000] };
const now = new Date('2026-01-01T00:00:00.000Z');
const failed = (attempt: number, error: unknown = new Error('boom')) =>
  decideFailure({ topic: 't.sync', key: 'acct-1', value: '{"a":1}', attempt, error, now }, policy);

describe('failure policy', () => {
  it('counts deliveries from the failures header (absent or junk = first delivery)', () => {
    expect(deliveryAttempt(undefined)).toBe(1);
    expect(deliveryAttempt({})).toBe(1);
    expect(deliveryAttempt({ [FAILURES_HEADER]: Buffer.from('2') })).toBe(3);
    expect(deliveryAttempt({ [FAILURES_HEADER]: '1' })).toBe(2);
    expect(deliveryAttempt({ [FAILURES_HEADER]: [Buffer.from('4')] })).toBe(5);
    expect(deliveryAttempt({ [FAILURES_HEADER]: 'x' })).toBe(1);
    expect(deliveryAttempt({ [FAILURES_HEADER]: '-3' })).toBe(1);
  });

  it('picks the backoff of the retry, repeating the last one', () => {
    expect([1, 2, 3, 9].map((n) => backoffFor(policy, n))).toEqual([1000, 5000, 5000, 5000]);
    expect(backoffFor({ maxAttempts: 3, backoffMs: [] }, 1)).toBe(0);
  });

  it('retries with backoff while attempts remain, one attempt further each time', () => {
    const first = failed(1);
    expect(first.route).toBe('retry');
    expect(first.envelope).toEqual({
      type: 'message.failed',
      v: 1,
      topic: 't.sync',
      key: 'acct-1',
      value: '{"a":1}',
      attempt: 1,
      error: 'boom',
      failedAt: '2026-01-01T00:00:00.000Z',
      notBefore: '2026-01-01T00:00:01.000Z',
    });
    expect(failed(3).envelope.notBefore).toBe('2026-01-01T00:00:05.000Z');
    expect(failedMessageSchema.safeParse(first.envelope).success).toBe(true);
  });

  it('dead-letters after the last attempt, and at once for a permanent failure', () => {
    expect(failed(4).route).toBe('dead-letter');
    expect(failed(4).envelope.notBefore).toBe(failed(4).envelope.failedAt);
    const permanent = failed(1, new PermanentFailure('no graph', 'GRAPH_NOT_CONFIGURED'));
    expect(permanent.route).toBe('dead-letter');
    expect(permanent.envelope.error).toBe('PermanentFailure: no graph');
  });

  it('records errors by name and message only, bounded, whatever was thrown', () => {
    class SyncStateNotFoundError extends Error {
      override name = 'SyncStateNotFoundError';
    }
    expect(describeError(new SyncStateNotFoundError('gone'))).toBe('SyncStateNotFoundError: gone');
    expect(describeError('text')).toBe('text');
    expect(describeError({ token: 'secret' })).toBe('non-error thrown');
    expect(describeError(new Error('x'.repeat(5000)))).toHaveLength(2000);
  });

  it('parses JSON against the schema, naming what is wrong', () => {
    const schema = z.object({ v: z.literal(1), id: z.string() }).strict();
    expect(parseMessage('{"v":1,"id":"a"}', schema)).toEqual({ ok: true, value: { v: 1, id: 'a' } });
    expect(parseMessage(null, schema)).toEqual({ ok: false, error: 'INVALID_MESSAGE: empty value' });
    expect(parseMessage('{nope', schema)).toEqual({ ok: false, error: 'INVALID_MESSAGE: value is not JSON' });
    const bad = parseMessage('{"v":2}', schema);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^INVALID_MESSAGE: v: .*; id: Required$/);
  });

  it('wraps an unreadable message in a dead-letter envelope that keeps the raw value', () => {
    const env = invalidMessageEnvelope('t.sync', 'k', null, 'INVALID_MESSAGE: empty value', now);
    expect(env).toMatchObject({ topic: 't.sync', key: 'k', value: '', attempt: 1 });
    expect(failedMessageSchema.safeParse(env).success).toBe(true);
  });
});
