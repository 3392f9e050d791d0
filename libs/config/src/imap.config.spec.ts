import { z } from 'zod';
import { imapEnvShape, toImapHostConfig } from './imap.config';

const parse = (env: Record<string, string>) => toImapHostConfig(z.object(imapEnvShape).parse(env));

describe('imap host config', () => {
  it('refuses private hosts unless IMAP_ALLOW_PRIVATE_HOSTS is true, with no extra CA by default', () => {
    expect(parse({})).toEqual({ allowPrivateHosts: false });
    expect(parse({ IMAP_ALLOW_PRIVATE_HOSTS: 'true' })).toEqual({ allowPrivateHosts: true });
    expect(parse({ IMAP_ALLOW_PRIVATE_HOSTS: '0' })).toEqual({ allowPrivateHosts: false });
  });

  it('refuses a flag that is not a boolean and a CA file that cannot be read', () => {
    expect(z.object(imapEnvShape).safeParse({ IMAP_ALLOW_PRIVATE_HOSTS: 'yes' }).success).toBe(false);
    const missing = z.object(imapEnvShape).safeParse({ IMAP_CA_FILE: '/nonexistent/ca.pem' });
    expect(missing.success).toBe(false);
    expect(JSON.stringify(missing.error?.issues)).toContain('cannot read /nonexistent/ca.pem');
  });
});
