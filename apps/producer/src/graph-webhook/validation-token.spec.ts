import { AppError } from '../http/app-error';
import { MAX_VALIDATION_TOKEN_LENGTH, validationTokenOf } from './validation-token';

describe('validationTokenOf', () => {
  it('is undefined for a notification, the token for a validation request', () => {
    expect(validationTokenOf({})).toBeUndefined();
    expect(validationTokenOf({ other: 'x' })).toBeUndefined();
    expect(validationTokenOf({ validationToken: 'Validation: <b>x</b>' })).toBe('Validation: <b>x</b>');
    expect(validationTokenOf({ validationToken: '' })).toBe('');
  });

  it('400 for a token given twice or absurdly long', () => {
    const bad = [
      { validationToken: ['a', 'b'] },
      { validationToken: 'x'.repeat(MAX_VALIDATION_TOKEN_LENGTH + 1) },
    ];
    for (const query of bad) {
      expect(() => validationTokenOf(query)).toThrow(AppError);
      expect(() => validationTokenOf(query)).toThrow(/at most 1024 characters/);
    }
    expect(validationTokenOf({ validationToken: 'x'.repeat(MAX_VALIDATION_TOKEN_LENGTH) })).toHaveLength(
      1024,
    );
  });
});
