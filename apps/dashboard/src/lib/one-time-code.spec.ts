import { describe, expect, it } from '@jest/globals';
import { clockText, codeDigits, isCompleteCode } from './one-time-code';

describe('the one-time code field (sign-in by code, verify your address)', () => {
  it('keeps the digits of a typed or pasted code, at most six', () => {
    expect(codeDigits('123 456')).toBe('123456');
    expect(codeDigits('123-456')).toBe('123456');
    expect(codeDigits(' 042917\n')).toBe('042917');
    expect(codeDigits('Your code: 042917')).toBe('042917');
    expect(codeDigits('12345678')).toBe('123456');
    expect(codeDigits('abc')).toBe('');
  });

  it('sends only six digits', () => {
    expect(isCompleteCode('042917')).toBe(true);
    expect(isCompleteCode('04291')).toBe(false);
    expect(isCompleteCode('04291a')).toBe(false);
  });

  it('shows the remaining wait as minutes and seconds', () => {
    expect(clockText(27)).toBe('0:27');
    expect(clockText(60)).toBe('1:00');
    expect(clockText(892)).toBe('14:52');
    expect(clockText(0.2)).toBe('0:01');
    expect(clockText(-3)).toBe('0:00');
  });
});
