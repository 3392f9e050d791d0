import { BadGatewayException, BadRequestException, NotFoundException } from '@nestjs/common';

/**
 * The errors of linking and managing accounts, each with a stable code in the API's `{error, message}` body.
 * Messages are shown to the client as-is: they never carry a code, a token or a provider's raw answer.
 */
export const AccountErrors = {
  invalidState: () =>
    new BadRequestException({
      error: 'INVALID_STATE',
      message: 'the sign-in request is unknown, expired or was already used; start linking again',
    }),
  consentDenied: () =>
    new BadRequestException({
      error: 'CONSENT_DENIED',
      message: 'access to the mailbox was not granted at Microsoft; nothing was linked',
    }),
  authorizationFailed: (providerError: string) =>
    new BadRequestException({
      error: 'AUTHORIZATION_FAILED',
      message: `Microsoft did not authorize the request (${providerError}); nothing was linked`,
    }),
  missingCode: () =>
    new BadRequestException({
      error: 'MISSING_CODE',
      message: 'the callback carries no authorization code; nothing was linked',
    }),
  codeRejected: () =>
    new BadRequestException({
      error: 'CODE_REJECTED',
      message: 'Microsoft rejected the authorization code (expired or already used); start linking again',
    }),
  providerUnavailable: () =>
    new BadGatewayException({
      error: 'IDENTITY_PROVIDER_ERROR',
      message: 'the Microsoft identity platform could not complete the sign-in; try again',
    }),
  accountNotFound: () => new NotFoundException({ error: 'ACCOUNT_NOT_FOUND', message: 'no such account' }),
} as const;
