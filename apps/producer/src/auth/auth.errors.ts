import { AppError } from '../http/app-error';

/** The errors of local sign-in, each with its stable code. */
export const AuthErrors = {
  emailTaken: () => new AppError('EMAIL_TAKEN', 'conflict', 'an account with this email already exists'),
  invalidCredentials: () =>
    new AppError('INVALID_CREDENTIALS', 'unauthenticated', 'the email or password is incorrect'),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('RATE_LIMITED', 'rate_limited', 'too many attempts; try again later', { retryAfterSeconds }),
  refreshInvalid: (message: string) => new AppError('REFRESH_INVALID', 'unauthenticated', message),
  refreshReused: () =>
    new AppError(
      'REFRESH_REUSED',
      'unauthenticated',
      'this refresh token was already used; every session of this sign-in has been revoked',
    ),
  /** a wrong code, a used one, a replaced one, or none sent to this address */
  codeInvalid: () =>
    new AppError('CODE_INVALID', 'invalid', 'this code is not valid; check it or ask for a new one'),
  codeExpired: () => new AppError('CODE_EXPIRED', 'invalid', 'this code has expired; ask for a new one'),
  codeAttemptsExceeded: () =>
    new AppError(
      'CODE_ATTEMPTS_EXCEEDED',
      'invalid',
      'too many wrong codes: this code no longer works; ask for a new one',
    ),
  alreadyVerified: () =>
    new AppError('EMAIL_ALREADY_VERIFIED', 'conflict', 'this address is already verified'),
  userGone: () => new AppError('UNAUTHENTICATED', 'unauthenticated', 'the user no longer exists'),
} as const;
