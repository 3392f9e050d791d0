import type { AppError } from '../../http/app-error';
import { AuthErrors } from '../auth.errors';
import type { CodeCheck } from './code-store';

/** The error of a failed code check, or null when the code was right (and is now spent). */
export function codeCheckError(check: CodeCheck): AppError | null {
  switch (check) {
    case 'ok':
      return null;
    case 'expired':
      return AuthErrors.codeExpired();
    case 'exhausted':
      return AuthErrors.codeAttemptsExceeded();
    case 'invalid':
      return AuthErrors.codeInvalid();
  }
}
