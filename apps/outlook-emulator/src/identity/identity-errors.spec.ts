import { aadErrorBody, aadTimestamp, IDENTITY_ERRORS, IdentityError } from './identity-errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('identity errors: one table, AAD body shape', () => {
  const now = new Date(Date.UTC(2026, 2, 4, 5, 6, 7, 890));

  it('formats timestamps as AAD does', () => {
    expect(aadTimestamp(now)).toBe('2026-03-04 05:06:07Z');
  });

  it('builds the exact body: description lines, ids, timestamp, error uri', () => {
    const body = new IdentityError('missingParameter', { name: 'grant_type' }).body(now);
    expect(Object.keys(body).sort()).toEqual([
      'correlation_id',
      'error',
      'error_codes',
      'error_description',
      'error_uri',
      'timestamp',
      'trace_id',
    ]);
    expect(body.error).toBe('invalid_request');
    expect(body.error_codes).toEqual([900144]);
    expect(body.timestamp).toBe('2026-03-04 05:06:07Z');
    expect(body.trace_id).toMatch(GUID);
    expect(body.correlation_id).toMatch(GUID);
    expect(body.trace_id).not.toBe(body.correlation_id);
    expect(body.error_uri).toBe('https://login.microsoftonline.com/error?code=900144');
    expect(body.error_description).toBe(
      "AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\n" +
        `Trace ID: ${body.trace_id}\r\nCorrelation ID: ${body.correlation_id}\r\nTimestamp: 2026-03-04 05:06:07Z`,
    );
  });

  it('uses the given correlation id', () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(aadErrorBody(IDENTITY_ERRORS.codeRedeemed, {}, now, id).correlation_id).toBe(id);
  });

  it('adds suberror only where AAD sends one', () => {
    expect(
      new IdentityError('refreshTokenInactive', { issuedAt: 'x', inactiveFor: 'y' }).body(now).suberror,
    ).toBe('bad_token');
    expect(new IdentityError('refreshTokenRevoked').body(now)).not.toHaveProperty('suberror');
  });

  it('fills every placeholder it is given and leaves none silently empty', () => {
    const err = new IdentityError('unknownClient', { clientId: 'abc', tenant: 'common' });
    expect(err.message).toMatch(
      /^AADSTS700016: Application with identifier 'abc' was not found in the directory 'common'\./,
    );
    expect(err.status).toBe(400);
    expect(new IdentityError('unknownClient').message).toContain("'{clientId}'");
  });

  it('keeps the table consistent: status, OAuth error and code per row', () => {
    const expected: Record<string, [number, string, number]> = {
      unknownClient: [400, 'unauthorized_client', 700016],
      invalidClientSecret: [401, 'invalid_client', 7000215],
      redirectUriMismatch: [400, 'invalid_client', 50011],
      codeRedeemed: [400, 'invalid_grant', 54005],
      codeExpired: [400, 'invalid_grant', 70008],
      pkceMismatch: [400, 'invalid_grant', 501481],
      refreshTokenRevoked: [400, 'invalid_grant', 50173],
      refreshTokenInactive: [400, 'invalid_grant', 700082],
      malformedGrant: [400, 'invalid_grant', 9002313],
      invalidGrant: [400, 'invalid_grant', 70000],
      missingParameter: [400, 'invalid_request', 900144],
      unsupportedGrantType: [400, 'unsupported_grant_type', 70003],
      invalidScope: [400, 'invalid_scope', 70011],
      authorizationPending: [400, 'authorization_pending', 70016],
      deviceCodeExpired: [400, 'expired_token', 70019],
      userDeclined: [302, 'access_denied', 65004],
    };
    for (const [key, [status, error, code]] of Object.entries(expected)) {
      const entry = IDENTITY_ERRORS[key as keyof typeof IDENTITY_ERRORS];
      expect({ key, status: entry.status, error: entry.error, code: entry.code }).toEqual({
        key,
        status,
        error,
        code,
      });
    }
    for (const entry of Object.values(IDENTITY_ERRORS)) {
      expect(entry.description).toMatch(/\.$/);
      expect(entry.description).not.toMatch(/^AADSTS/);
    }
  });
});
