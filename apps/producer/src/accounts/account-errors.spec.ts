import { ConflictException } from '@nestjs/common';
import { AccountErrors, LINK_ERROR_CODES, linkErrorCodeOf } from './account-errors';

describe('linkErrorCodeOf', () => {
  it('names every failure of the OAuth callback by its code, so the browser can be sent to the page explaining it', () => {
    expect(linkErrorCodeOf(AccountErrors.invalidState())).toBe('INVALID_STATE');
    expect(linkErrorCodeOf(AccountErrors.consentDenied())).toBe('CONSENT_DENIED');
    expect(linkErrorCodeOf(AccountErrors.authorizationFailed('server_error'))).toBe('AUTHORIZATION_FAILED');
    expect(linkErrorCodeOf(AccountErrors.missingCode())).toBe('MISSING_CODE');
    expect(linkErrorCodeOf(AccountErrors.codeRejected())).toBe('CODE_REJECTED');
    expect(linkErrorCodeOf(AccountErrors.providerUnavailable())).toBe('IDENTITY_PROVIDER_ERROR');
    expect(LINK_ERROR_CODES).toHaveLength(6);
  });

  it('leaves anything else to the error handler', () => {
    expect(linkErrorCodeOf(AccountErrors.accountNotFound())).toBeUndefined();
    expect(linkErrorCodeOf(new ConflictException({ error: 'SOMETHING_ELSE', message: 'x' }))).toBeUndefined();
    expect(linkErrorCodeOf(new Error('INVALID_STATE'))).toBeUndefined();
    expect(linkErrorCodeOf(undefined)).toBeUndefined();
  });
});
