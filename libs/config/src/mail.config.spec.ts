import { z } from 'zod';
import { mailEnvShape, toMailConfig } from './mail.config';

const parse = (env: Record<string, string>) => toMailConfig(z.object(mailEnvShape).parse(env));

describe('mail config', () => {
  it('defaults to the stack submission port and the dev sender, whose domain names the Message-IDs', () => {
    expect(parse({})).toEqual({
      smtpUrl: 'smtp://127.0.0.1:2587',
      from: 'Email Core <no-reply@email-core.localhost>',
      messageIdDomain: 'email-core.localhost',
    });
    expect(parse({ MAIL_FROM: 'no-reply@Mail.Example.com' }).messageIdDomain).toBe('mail.example.com');
  });

  it('refuses what is not an smtp(s) URL or a sender address, without echoing the value', () => {
    const bad = z
      .object(mailEnvShape)
      .safeParse({ SMTP_URL: 'http://user:secret@host', MAIL_FROM: 'nobody' });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toContain('smtp:// or smtps://');
    expect(text).toContain('an address or');
    expect(text).not.toContain('secret');
  });
});
