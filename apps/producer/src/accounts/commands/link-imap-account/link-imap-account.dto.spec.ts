import { linkImapAccountSchema } from './link-imap-account.dto';

const PASSWORD = 'Sup3r secret pässword ';

const valid = () => ({
  email: ' Alice@Example.COM ',
  imap: { host: 'imap.example.com', port: 993, security: 'tls', username: 'alice', password: PASSWORD },
  smtp: {
    host: 'smtp.example.com',
    port: 587,
    security: 'starttls',
    username: 'alice@example.com',
    password: PASSWORD,
  },
});

type Body = ReturnType<typeof valid>;

/** the schema's issues (ZodValidationPipe answers them as 400 VALIDATION_FAILED, one detail per issue) */
function refusal(body: unknown): { paths: string[]; text: string } {
  const parsed = linkImapAccountSchema.safeParse(body);
  if (parsed.success) throw new Error('the body was accepted');
  return {
    paths: parsed.error.issues.map((i) => i.path.join('.')),
    text: JSON.stringify(
      parsed.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message })),
    ),
  };
}

describe('linkImapAccountSchema', () => {
  it('accepts the settings: the address trimmed and lower-cased, hosts lower-cased, passwords as typed', () => {
    const body = valid();
    body.imap.host = ' IMAP.Example.com ';
    expect(linkImapAccountSchema.parse(body)).toEqual({
      email: 'alice@example.com',
      imap: { host: 'imap.example.com', port: 993, security: 'tls', username: 'alice', password: PASSWORD },
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        username: 'alice@example.com',
        password: PASSWORD,
      },
    });
  });

  it.each(['127.0.0.1', '2001:db8::1', 'localhost', 'mail', 'x.y.z.example.'])(
    'takes the host %s as well-formed (the SSRF guard judges addresses later)',
    (host) => {
      const body = valid();
      body.imap.host = host;
      expect(linkImapAccountSchema.safeParse(body).success).toBe(true);
    },
  );

  const cases: Array<[string, (b: Body) => unknown, string]> = [
    ['a host with a scheme', (b) => (b.imap.host = 'imaps://imap.example.com'), 'imap.host'],
    ['a host with a port', (b) => (b.imap.host = 'imap.example.com:993'), 'imap.host'],
    ['a host with a path', (b) => (b.smtp.host = 'smtp.example.com/submit'), 'smtp.host'],
    ['a bracketed IPv6 host', (b) => (b.imap.host = '[::1]'), 'imap.host'],
    ['a host with a user', (b) => (b.imap.host = 'alice@imap.example.com'), 'imap.host'],
    ['a host with spaces inside', (b) => (b.imap.host = 'imap example.com'), 'imap.host'],
    ['an empty host', (b) => (b.imap.host = ''), 'imap.host'],
    ['a host of 254 characters', (b) => (b.imap.host = `${'a.'.repeat(126)}ab`), 'imap.host'],
    ['port 0', (b) => (b.imap.port = 0), 'imap.port'],
    ['port 65536', (b) => (b.smtp.port = 65536), 'smtp.port'],
    ['a fractional port', (b) => (b.imap.port = 993.5), 'imap.port'],
    ['a port as a string', (b) => ((b.imap as Record<string, unknown>).port = '993'), 'imap.port'],
    ['an unknown security mode', (b) => (b.imap.security = 'ssl'), 'imap.security'],
    ['a missing security mode', (b) => delete (b.smtp as Partial<Body['smtp']>).security, 'smtp.security'],
    ['an empty username', (b) => (b.imap.username = ''), 'imap.username'],
    ['a username with CRLF', (b) => (b.imap.username = 'alice\r\nA1 LOGOUT'), 'imap.username'],
    ['an empty password', (b) => (b.smtp.password = ''), 'smtp.password'],
    ['a password with a NUL', (b) => (b.imap.password = 'pass\u0000word'), 'imap.password'],
    ['a password of 1025 characters', (b) => (b.imap.password = 'p'.repeat(1025)), 'imap.password'],
    [
      'a password that is not a string',
      (b) => ((b.imap as Record<string, unknown>).password = 12345),
      'imap.password',
    ],
    ['a malformed address', (b) => (b.email = 'alice'), 'email'],
    ['a missing smtp block', (b) => delete (b as Partial<Body>).smtp, 'smtp'],
    ['an unknown top-level field', (b) => ((b as Record<string, unknown>).oauth = true), ''],
    ['an unknown server field', (b) => ((b.imap as Record<string, unknown>).url = 'imap://x'), 'imap'],
  ];

  it.each(cases)('refuses %s, naming the field', (_name, change, path) => {
    const body = valid();
    change(body);
    expect(refusal(body).paths).toContain(path);
  });

  it('never echoes a password in a refusal', () => {
    const body = valid();
    body.imap.port = 0;
    body.smtp.password = `${PASSWORD}\n`;
    expect(refusal(body).text).not.toContain('secret');
  });
});
