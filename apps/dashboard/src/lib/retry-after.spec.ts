import { describe, expect, it } from '@jest/globals';
import { parseRetryAfter, waitText } from './retry-after';

describe('Retry-After on the sign-in form (sign-in backs off 1 s, 2 s, 4 s … up to 15 minutes)', () => {
  it('reads the seconds the API sends, and nothing else', () => {
    expect(parseRetryAfter('8')).toBe(8);
    expect(parseRetryAfter(' 900 ')).toBe(900);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });

  it('says how long to wait in words', () => {
    expect(waitText(1)).toBe('in 1 second');
    expect(waitText(8)).toBe('in 8 seconds');
    expect(waitText(61)).toBe('in 2 minutes');
    expect(waitText(900)).toBe('in 15 minutes');
    expect(waitText(undefined)).toBe('in a few minutes');
  });
});
