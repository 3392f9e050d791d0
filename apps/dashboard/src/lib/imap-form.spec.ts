import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../api/api-error';
import { checkImapForm, emptyImapForm, linkBody, withSecurity, type ImapForm } from './imap-form';
import { describeImapLinkError } from './imap-link-errors';

const filled = (): ImapForm => {
  const f = emptyImapForm('alice@example.com');
  return {
    ...f,
    imap: { ...f.imap, host: 'imap.example.com', password: 'secret' },
    smtp: { ...withSecurity('smtp', f.smtp, 'starttls'), host: 'smtp.example.com' },
  };
};

describe('the Connect IMAP form', () => {
  it('defaults to IMAP 993 TLS and SMTP 465 TLS; switching security switches a default port, not a typed one', () => {
    const f = emptyImapForm();
    expect([f.imap.port, f.imap.security, f.smtp.port, f.smtp.security]).toEqual([
      '993',
      'tls',
      '465',
      'tls',
    ]);
    expect(withSecurity('smtp', f.smtp, 'starttls').port).toBe('587');
    expect(withSecurity('smtp', withSecurity('smtp', f.smtp, 'starttls'), 'tls').port).toBe('465');
    expect(withSecurity('imap', f.imap, 'starttls').port).toBe('143');
    expect(withSecurity('imap', { ...f.imap, port: '2993' }, 'starttls').port).toBe('2993');
    expect(withSecurity('imap', { ...f.imap, port: '' }, 'starttls').port).toBe('143');
  });

  it('sends the email as both user names until one is typed, and the IMAP password to SMTP when "same" is on', () => {
    const body = linkBody(filled());
    expect(body).toEqual({
      email: 'alice@example.com',
      imap: {
        host: 'imap.example.com',
        port: 993,
        security: 'tls',
        username: 'alice@example.com',
        password: 'secret',
      },
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        username: 'alice@example.com',
        password: 'secret',
      },
    });
    const own = filled();
    own.smtpSamePassword = false;
    own.smtp.password = 'other';
    own.smtp.username = 'alice';
    expect(linkBody(own).smtp).toMatchObject({ username: 'alice', password: 'other' });
  });

  it('names each field that cannot work before asking the server', () => {
    expect(checkImapForm(filled())).toEqual({});
    const f = emptyImapForm();
    f.imap.host = 'https://imap.example.com/';
    f.smtp.port = '70000';
    f.smtpSamePassword = false;
    expect(Object.keys(checkImapForm(f)).sort()).toEqual(
      [
        'email',
        'imap.host',
        'imap.password',
        'imap.username',
        'smtp.host',
        'smtp.password',
        'smtp.port',
        'smtp.username',
      ].sort(),
    );
    expect(checkImapForm({ ...filled(), email: 'not-an-address' })).toEqual({
      email: 'Enter a valid email address.',
    });
  });
});

describe('describeImapLinkError: every error of POST /accounts/imap in words', () => {
  const e422 = (code: string, server: 'imap' | 'smtp') =>
    new ApiError(422, code, 'x; nothing was linked', undefined, { server });

  it.each([
    ['IMAP_AUTH_FAILED', 'imap', 'The IMAP server refused the password', ['imap.username', 'imap.password']],
    ['SMTP_AUTH_FAILED', 'smtp', 'The SMTP server refused the password', ['smtp.username', 'smtp.password']],
    ['IMAP_UNREACHABLE', 'imap', "Can't reach the IMAP server", ['imap.host', 'imap.port']],
    ['SMTP_UNREACHABLE', 'smtp', "Can't reach the SMTP server", ['smtp.host', 'smtp.port']],
    [
      'IMAP_TLS_FAILED',
      'imap',
      "Can't set up a secure connection to the IMAP server",
      ['imap.security', 'imap.port'],
    ],
    [
      'SMTP_TLS_FAILED',
      'smtp',
      "Can't set up a secure connection to the SMTP server",
      ['smtp.security', 'smtp.port'],
    ],
    ['HOST_NOT_ALLOWED', 'smtp', "That host isn't allowed: the SMTP server", ['smtp.host']],
    ['HOST_NOT_ALLOWED', 'imap', "That host isn't allowed: the IMAP server", ['imap.host']],
    [
      'INSECURE_CONNECTION',
      'imap',
      'The IMAP server must be reached over TLS or STARTTLS',
      ['imap.security'],
    ],
    [
      'INSECURE_CONNECTION',
      'smtp',
      'The SMTP server must be reached over TLS or STARTTLS',
      ['smtp.security'],
    ],
  ] as Array<[string, 'imap' | 'smtp', string, string[]]>)('%s (%s)', (code, server, words, fields) => {
    const p = describeImapLinkError(e422(code, server));
    expect(p.text.startsWith(words)).toBe(true);
    expect(p.server).toBe(server);
    expect(Object.keys(p.fields).sort()).toEqual([...fields].sort());
  });

  it('puts validation errors on their fields', () => {
    const p = describeImapLinkError(
      new ApiError(400, 'VALIDATION_FAILED', 'imap.host: ...', undefined, [
        {
          path: 'imap.host',
          code: 'custom',
          message: 'must be a host name or an IP address (no scheme, port or path)',
        },
        { path: 'smtp.port', code: 'too_big', message: 'must be between 1 and 65535' },
        { path: 'email', code: 'invalid_string', message: 'must be an email address' },
        { path: 'smtp.password', code: 'too_small', message: 'required' },
      ]),
    );
    expect(p.text).toBe('Some settings are not valid: check the marked fields.');
    expect(p.fields).toEqual({
      'imap.host': expect.stringContaining('host name or IP address only'),
      'smtp.port': 'SMTP port: enter a port number from 1 to 65535.',
      email: 'Enter a valid email address.',
      'smtp.password': 'Enter the SMTP password.',
    });
  });

  it('explains rate limits, a lost session, server trouble and no network', () => {
    expect(describeImapLinkError(new ApiError(429, 'RATE_LIMITED', 'x', 90)).text).toBe(
      'Too many attempts to connect a mailbox. Try again in 2 minutes.',
    );
    expect(describeImapLinkError(new ApiError(401, 'UNAUTHENTICATED', 'x')).text).toMatch(/Sign in again/);
    expect(describeImapLinkError(new ApiError(502, 'HTTP_502', 'Bad Gateway')).text).toMatch(/unavailable/);
    expect(describeImapLinkError(new TypeError('Failed to fetch')).text).toMatch(/Check your connection/);
  });
});
