import { AppError } from '../../http/app-error';
import { accountSubject, AuthThrottle } from './auth-throttle';
import { AuthPolicy } from '../auth.policy';
import {
  retryAfterSeconds,
  type BackoffDecision,
  type BackoffRule,
  type RateLimiter,
  type RateLimitRule,
} from './rate-limiter';

/** an in-memory RateLimiter: counts per scope+subject, every window 30 s from now; back-off answers are scripted */
function fakeLimiter(backoffAnswer: BackoffDecision = { admitted: true, attempt: 1 }) {
  const counts = new Map<string, number>();
  const k = (scope: string, subject: string) => `${scope}|${subject}`;
  const limiter = {
    consume: jest.fn((scope: string, subject: string, _rule: RateLimitRule) => {
      counts.set(k(scope, subject), (counts.get(k(scope, subject)) ?? 0) + 1);
      return Promise.resolve({ count: counts.get(k(scope, subject)) ?? 0, retryAfterSeconds: 30 });
    }),
    backoff: jest.fn((_scope: string, _subject: string, _source: string, _rule: BackoffRule) =>
      Promise.resolve(backoffAnswer),
    ),
    clearBackoff: jest.fn((_scope: string, _subject: string, _source: string) => Promise.resolve()),
  };
  return { limiter, throttle: new AuthThrottle(limiter as unknown as RateLimiter) };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'NOT_AN_APP_ERROR';
  }
}

describe('AuthThrottle', () => {
  it('admits 20 sign-in attempts per address per window, and refuses the 21st with RATE_LIMITED', async () => {
    const { throttle } = fakeLimiter();
    for (let i = 0; i < 20; i++)
      expect(await codeOf(throttle.admitSignIn('10.0.0.1', `u${i}@x.io`))).toBeUndefined();
    expect(await codeOf(throttle.admitSignIn('10.0.0.1', 'u@x.io'))).toBe('RATE_LIMITED');
    expect(await codeOf(throttle.admitSignIn('10.0.0.2', 'u@x.io'))).toBeUndefined();
  });

  it('asks the back-off for this email from this address, and refuses with its Retry-After before any password work', async () => {
    const { throttle, limiter } = fakeLimiter({ admitted: false, retryAfterSeconds: 8 });
    const err = await throttle.admitSignIn('10.0.2.1', 'victim@x.io').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('RATE_LIMITED');
    expect((err as AppError).retryAfterSeconds).toBe(8);
    expect(limiter.backoff).toHaveBeenCalledWith(
      'signin',
      accountSubject('victim@x.io'),
      '10.0.2.1',
      AuthPolicy.signInBackoff,
    );
  });

  it("a success clears only that address's failures on that email", async () => {
    const { throttle, limiter } = fakeLimiter();
    expect(await codeOf(throttle.admitSignIn('10.0.2.1', 'victim@x.io'))).toBeUndefined();
    await throttle.clearSignInFailures('10.0.2.1', 'Victim@x.io');
    expect(limiter.clearBackoff).toHaveBeenCalledWith('signin', accountSubject('victim@x.io'), '10.0.2.1');
  });

  it('keys accounts by a hash of the address, case-insensitively: Redis holds no address', async () => {
    const { throttle, limiter } = fakeLimiter();
    await throttle.admitSignIn('10.0.0.1', 'Victim@X.io');
    const subject = limiter.backoff.mock.calls[0]?.[1];
    expect(subject).toBe(accountSubject('victim@x.io'));
    expect(subject).toMatch(/^[0-9a-f]{32}$/);
  });

  it('admits 20 sign-ups per address per window', async () => {
    const { throttle } = fakeLimiter();
    for (let i = 0; i < 20; i++) expect(await codeOf(throttle.admitSignUp('10.0.0.9'))).toBeUndefined();
    expect(await codeOf(throttle.admitSignUp('10.0.0.9'))).toBe('RATE_LIMITED');
  });
});

describe('retryAfterSeconds', () => {
  it('rounds the time left up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(59001, 60000)).toBe(60);
    expect(retryAfterSeconds(1, 60000)).toBe(1);
  });

  it('waits a whole window when the key has no expiry or is gone', () => {
    expect(retryAfterSeconds(-1, 60000)).toBe(60);
    expect(retryAfterSeconds(-2, 900000)).toBe(900);
    expect(retryAfterSeconds(Number.NaN, 60000)).toBe(60);
  });
});
