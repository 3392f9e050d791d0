import { ApiError } from '@/api/client';
import { waitText } from './retry-after';

/** Which field a message is about, for aria-invalid. */
export type CodeErrorField = 'email' | 'code';

/** Every error of the code endpoints as a sentence (and the field it concerns). */
export function describeCodeError(error: unknown): { text: string; field?: CodeErrorField; code?: string } {
  if (error instanceof ApiError) {
    const code = error.code;
    switch (code) {
      case 'CODE_INVALID':
        return { code, field: 'code', text: 'That code is not right. Check the latest email and try again.' };
      case 'CODE_EXPIRED':
        return { code, field: 'code', text: 'That code has expired. Send a new one.' };
      case 'CODE_ATTEMPTS_EXCEEDED':
        return {
          code,
          field: 'code',
          text: 'Too many wrong tries: that code no longer works. Send a new one.',
        };
      case 'RATE_LIMITED':
        return { code, text: `Too many requests. Try again ${waitText(error.retryAfterSeconds)}.` };
      case 'EMAIL_ALREADY_VERIFIED':
        return { code, text: 'Your address is already verified.' };
      case 'VALIDATION_FAILED':
        return /email/i.test(error.message)
          ? { code, field: 'email', text: 'Enter a valid email address.' }
          : { code, field: 'code', text: 'Enter the 6-digit code from the email.' };
      case 'UNAUTHENTICATED':
        return { code, text: 'Your session has ended. Sign in again.' };
      default:
        if (error.status === 429) {
          return { code, text: `Too many requests. Try again ${waitText(error.retryAfterSeconds)}.` };
        }
        if (error.status >= 500) return { code, text: 'The server is unavailable. Try again in a moment.' };
        return { code, text: error.message };
    }
  }
  if (error instanceof TypeError) return { text: 'Cannot reach the server. Check your connection.' };
  return { text: error instanceof Error ? error.message : 'Something went wrong' };
}
