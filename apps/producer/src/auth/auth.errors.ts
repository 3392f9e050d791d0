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
  userGone: () => new AppError('UNAUTHENTICATED', 'unauthenticated', 'the user no longer exists'),
} as const;
