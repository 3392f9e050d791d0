import { ProviderRefusedError, ProviderUnavailableError, ReauthRequiredError } from '../port';
import { HostLookupError, HostNotAllowedError } from './host-guard';
import { imapError, smtpError } from './imap-errors';

const imapFailure = (props: Record<string, unknown>): Error =>
  Object.assign(new Error('Command failed'), props);

describe('imapError', () => {
  it('a refused login needs the user', () => {
    const e = imapError(
      imapFailure({ authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED' }),
    );
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect((e as ReauthRequiredError).providerCode).toBe('AUTHENTICATIONFAILED');
  });

  it('NO/BAD answers are refusals, a missing mailbox a 404, transient codes unavailable', () => {
    const missing = imapError(
      imapFailure({ responseStatus: 'NO', mailboxMissing: true, responseText: 'gone' }),
    );
    expect(missing).toEqual(new ProviderRefusedError(404, 'ErrorItemNotFound', 'gone'));
    expect(imapError(imapFailure({ responseStatus: 'NO', serverResponseCode: 'TRYCREATE' }))).toMatchObject({
      status: 404,
    });
    expect(imapError(imapFailure({ responseStatus: 'NO', serverResponseCode: 'NOPERM' }))).toMatchObject({
      status: 403,
      code: 'NOPERM',
    });
    expect(imapError(imapFailure({ responseStatus: 'BAD', responseText: 'syntax' }))).toEqual(
      new ProviderRefusedError(400, 'IMAP_BAD', 'syntax'),
    );
    const busy = imapError(imapFailure({ responseStatus: 'NO', serverResponseCode: 'UNAVAILABLE' }));
    expect(busy).toBeInstanceOf(ProviderUnavailableError);
    expect(busy).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  });

  it('connections, timeouts and throttling are unavailable', () => {
    expect(imapError(imapFailure({ code: 'ETIMEOUT' }))).toEqual(
      new ProviderUnavailableError(0, 'ETIMEOUT', 'Command failed'),
    );
    expect(imapError(imapFailure({ code: 'NoConnection' }))).toBeInstanceOf(ProviderUnavailableError);
    expect(imapError(imapFailure({ code: 'ECONNREFUSED' }))).toMatchObject({
      status: 0,
      code: 'ECONNREFUSED',
    });
    expect(imapError(imapFailure({ code: 'ETHROTTLE', throttleReset: 1500 }))).toMatchObject({
      status: 429,
      retryAfterMs: 1500,
    });
  });

  it('port errors pass through; the host guard is reauth (bad host) or unavailable (DNS)', () => {
    const refused = new ProviderRefusedError(404, 'ErrorItemNotFound', 'x');
    expect(imapError(refused)).toBe(refused);
    expect(imapError(new HostNotAllowedError('10.0.0.1', 'private'))).toBeInstanceOf(ReauthRequiredError);
    expect(imapError(new HostLookupError('nowhere.invalid', 'ENOTFOUND'))).toMatchObject({
      status: 503,
      code: 'HOST_LOOKUP_FAILED',
    });
  });
});

describe('smtpError', () => {
  const smtpFailure = (props: Record<string, unknown>): Error =>
    Object.assign(new Error('smtp failed'), props);

  it('a refused login needs the user', () => {
    expect(
      smtpError(smtpFailure({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' })),
    ).toBeInstanceOf(ReauthRequiredError);
  });

  it('5xx is refused; 4xx and failures before DATA certainly sent nothing (503)', () => {
    expect(smtpError(smtpFailure({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }))).toEqual(
      new ProviderRefusedError(400, 'SMTP_550', 'smtp failed'),
    );
    expect(
      smtpError(smtpFailure({ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' })),
    ).toMatchObject({
      status: 503,
      code: 'SMTP_451',
    });
    expect(smtpError(smtpFailure({ code: 'ECONNECTION', command: 'CONN' }))).toMatchObject({
      status: 503,
      code: 'ECONNECTION',
    });
    expect(smtpError(smtpFailure({ code: 'ETIMEDOUT', command: 'CONN' }))).toMatchObject({ status: 503 });
  });

  it('a failure while the data went out may have sent: outcome unknown (504)', () => {
    expect(smtpError(smtpFailure({ code: 'ETIMEDOUT', command: 'DATA' }))).toEqual(
      new ProviderUnavailableError(504, 'SMTP_OUTCOME_UNKNOWN', 'smtp failed'),
    );
    expect(smtpError(smtpFailure({ code: 'ESOCKET' }))).toMatchObject({ status: 504 });
  });
});
