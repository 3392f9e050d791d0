import type { ProducerConfig } from '@email-core/config';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter';
import { CodeThrottle } from './code-throttle';
import { codeSubjectKey } from './one-time-code';

function setup(counts: Record<string, number> = {}) {
  const calls: Array<{ scope: string; subject: string; rule: RateLimitRule }> = [];
  const limiter = {
    consume: jest.fn((scope: string, subject: string, rule: RateLimitRule) => {
      calls.push({ scope, subject, rule });
      return Promise.resolve({ count: counts[scope] ?? 1, retryAfterSeconds: 321 });
    }),
  };
  const config = { codes: { requestsPerEmail: 3, requestsPerIp: 30 } } as ProducerConfig;
  return { calls, throttle: new CodeThrottle(limiter as unknown as RateLimiter, config) };
}

describe('CodeThrottle', () => {
  it('counts a request against the client address, then the hashed address, per 15 minutes', async () => {
    const s = setup();
    await s.throttle.admitRequest('10.0.0.1', 'ada@example.com');
    expect(s.calls).toEqual([
      { scope: 'code-request-ip', subject: '10.0.0.1', rule: { limit: 30, windowMs: 900_000 } },
      {
        scope: 'code-request-email',
        subject: codeSubjectKey('ada@example.com'),
        rule: { limit: 3, windowMs: 900_000 },
      },
    ]);
    expect(JSON.stringify(s.calls)).not.toContain('ada@example.com');
  });

  it('the 4th request for an address is 429 RATE_LIMITED with the window left as Retry-After', async () => {
    const s = setup({ 'code-request-email': 4 });
    await expect(s.throttle.admitRequest('10.0.0.1', 'ada@example.com')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      kind: 'rate_limited',
      retryAfterSeconds: 321,
    });
  });

  it('an address over its IP limit is refused before its address is counted', async () => {
    const s = setup({ 'code-request-ip': 31 });
    await expect(s.throttle.admitRequest('10.0.0.1', 'ada@example.com')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(s.calls.map((c) => c.scope)).toEqual(['code-request-ip']);
  });
});
