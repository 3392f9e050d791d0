import type { FailedMessage } from '@email-core/contracts';
import { retryAction } from './retry-consumer';

const allowed = new Set(['p.email-core.sync.requests']);
const envelope = (overrides: Partial<FailedMessage> = {}): string =>
  JSON.stringify({
    type: 'message.failed',
    v: 1,
    topic: 'p.email-core.sync.requests',
    key: 'acct-1',
    value: '{"type":"sync.requested"}',
    attempt: 2,
    error: 'boom',
    failedAt: '2026-01-01T00:00:00.000Z',
    notBefore: '2026-01-01T00:00:10.000Z',
    ...overrides,
  } satisfies FailedMessage);
const at = (iso: string) => Date.parse(iso);

describe('retryAction', () => {
  it('waits until notBefore, then sends the envelope back', () => {
    expect(retryAction(envelope(), allowed, at('2026-01-01T00:00:04.000Z'))).toMatchObject({
      kind: 'wait',
      ms: 6000,
    });
    const due = retryAction(envelope(), allowed, at('2026-01-01T00:00:10.000Z'));
    expect(due).toMatchObject({ kind: 'republish', envelope: { key: 'acct-1', attempt: 2 } });
  });

  it('dead-letters what it cannot read, and targets outside the project topics', () => {
    expect(retryAction('nope', allowed, 0)).toEqual({
      kind: 'dead-letter',
      error: 'INVALID_MESSAGE: value is not JSON',
    });
    expect(retryAction(envelope({ attempt: 0 }), allowed, 0).kind).toBe('dead-letter');
    expect(retryAction(envelope({ topic: '__consumer_offsets' }), allowed, 0)).toEqual({
      kind: 'dead-letter',
      error: 'INVALID_MESSAGE: retry target __consumer_offsets is not a project topic',
    });
  });
});
