import { MAX_PAYLOAD_CHARS, redactPayload, toDeadLetterView } from './dead-letter-view';

const targets = new Set(['p.email-core.mail.commands']);
const envelope = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'message.failed',
    v: 1,
    topic: 'p.email-core.mail.commands',
    key: 'acc-1',
    value: '{"type":"mail.command","v":1}',
    attempt: 3,
    error: 'Graph is down',
    failedAt: '2025-01-01T00:00:00.000Z',
    notBefore: '2025-01-01T00:00:00.000Z',
    ...over,
  });
const record = (value: string | null, correlationId: string | null = 'req-7f3a') => ({
  partition: 2,
  offset: '41',
  key: 'acc-1',
  value,
  timestamp: String(Date.parse('2025-01-01T00:00:01.000Z')),
  correlationId,
});

describe('toDeadLetterView', () => {
  it('shows the envelope: original topic, attempts, error, payload; replayable to a work topic', () => {
    expect(toDeadLetterView(record(envelope()), targets, null)).toEqual({
      partition: 2,
      offset: 41,
      key: 'acc-1',
      timestamp: '2025-01-01T00:00:01.000Z',
      originalTopic: 'p.email-core.mail.commands',
      attempts: 3,
      error: 'Graph is down',
      failedAt: '2025-01-01T00:00:00.000Z',
      payload: '{"type":"mail.command","v":1}',
      payloadTruncated: false,
      replayable: true,
      replayedAt: null,
      correlationId: 'req-7f3a',
    });
  });

  it("shows the failed work's correlation id, or null when the dead letter carries none", () => {
    expect(toDeadLetterView(record('garbage', 'abc-123'), targets, null).correlationId).toBe('abc-123');
    expect(toDeadLetterView(record(envelope(), null), targets, null).correlationId).toBeNull();
  });

  it('carries the replay time it is given', () => {
    const at = '2025-01-02T00:00:00.000Z';
    expect(toDeadLetterView(record(envelope()), targets, at).replayedAt).toBe(at);
  });

  it('an envelope naming another topic is listed but not replayable', () => {
    const view = toDeadLetterView(record(envelope({ topic: 'p.email-core.events' })), targets, null);
    expect(view).toMatchObject({ originalTopic: 'p.email-core.events', replayable: false });
  });

  it('a message that is not an envelope is listed with why, never replayable', () => {
    const view = toDeadLetterView(record('garbage'), targets, null);
    expect(view).toMatchObject({
      originalTopic: null,
      attempts: null,
      failedAt: null,
      payload: 'garbage',
      replayable: false,
    });
    expect(view.error).toMatch(/^not a failure envelope \(INVALID_MESSAGE: value is not JSON\)$/);
    expect(toDeadLetterView(record(null), targets, null).error).toMatch(/empty value/);
  });
});

describe('redactPayload', () => {
  it('keeps an ordinary message as it is', () => {
    const raw = '{"type":"sync.requested","v":1,"accountId":"a","reason":"manual"}';
    expect(redactPayload(raw)).toEqual({ payload: raw, truncated: false });
  });

  it('redacts token-like keys at any depth and token-like values anywhere', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const raw = JSON.stringify({
      accessToken: 'a',
      nested: { refresh_token: 'b', clientState: 'c', list: [{ password: 'd' }, `Bearer ${jwt}`] },
      note: `header was ${jwt}`,
      ok: 1,
    });
    const { payload } = redactPayload(raw);
    expect(JSON.parse(payload)).toEqual({
      accessToken: '[redacted]',
      nested: {
        refresh_token: '[redacted]',
        clientState: '[redacted]',
        list: [{ password: '[redacted]' }, '[redacted]'],
      },
      note: 'header was [redacted]',
      ok: 1,
    });
    expect(payload).not.toContain(jwt);
    expect(redactPayload(`{not json Bearer abc.def`).payload).toBe('{not json [redacted]');
  });

  it('cuts a long payload', () => {
    const { payload, truncated } = redactPayload('x'.repeat(MAX_PAYLOAD_CHARS + 10));
    expect(truncated).toBe(true);
    expect(payload).toHaveLength(MAX_PAYLOAD_CHARS);
  });
});
