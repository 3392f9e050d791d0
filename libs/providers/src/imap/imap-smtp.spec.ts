import { rootCertificates } from 'node:tls';
import { ReauthRequiredError } from '../port';
import type { MailServerSettings } from './imap-settings';
import { sendRawMail, smtpTransportOptions } from './imap-smtp';

const server = (over: Partial<MailServerSettings> = {}): MailServerSettings => ({
  host: 'smtp.example.test',
  port: 587,
  security: 'starttls',
  username: 'me@example.test',
  password: 'secret',
  ...over,
});

describe('smtpTransportOptions', () => {
  it('connects to the resolved address, checks the certificate against the typed name, requires STARTTLS', () => {
    const o = smtpTransportOptions(server(), { allowPrivateHosts: false, ca: ['PEM'] }, '203.0.113.7');
    expect(o).toMatchObject({
      host: '203.0.113.7',
      port: 587,
      secure: false,
      requireTLS: true,
      ignoreTLS: false,
      auth: { user: 'me@example.test', pass: 'secret' },
    });
    expect(o.tls).toMatchObject({ servername: 'smtp.example.test', minVersion: 'TLSv1.2' });
    // the policy's CA beside the system's, never instead of them
    expect(o.tls?.ca).toEqual([...rootCertificates, 'PEM']);
  });

  it("'tls' is implicit TLS; 'none' never upgrades; an IP typed is no servername; no ca option without a policy CA", () => {
    const tls = smtpTransportOptions(
      server({ security: 'tls', port: 465 }),
      { allowPrivateHosts: false },
      '1.2.3.4',
    );
    expect(tls).toMatchObject({ secure: true, requireTLS: false, ignoreTLS: false });
    expect(tls.tls?.ca).toBeUndefined();
    const none = smtpTransportOptions(
      server({ security: 'none', host: '127.0.0.1' }),
      { allowPrivateHosts: true },
      '127.0.0.1',
    );
    expect(none).toMatchObject({ secure: false, requireTLS: false, ignoreTLS: true });
    expect(none.tls?.servername).toBeUndefined();
  });
});

describe('sendRawMail', () => {
  it('refuses cleartext SMTP unless the policy allows private hosts, before connecting anywhere', async () => {
    const resolveHost = jest.fn(() => Promise.resolve('203.0.113.7'));
    await expect(
      sendRawMail(
        server({ security: 'none' }),
        { allowPrivateHosts: false },
        { from: 'a@b', to: ['c@d'] },
        Buffer.from('x'),
        {
          resolveHost,
        },
      ),
    ).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(resolveHost).not.toHaveBeenCalled();
  });

  it('a host the guard refuses is a reauth, and nothing is sent', async () => {
    await expect(
      sendRawMail(
        server({ host: '10.1.2.3' }),
        { allowPrivateHosts: false },
        { from: 'a@b', to: ['c@d'] },
        Buffer.from('x'),
      ),
    ).rejects.toMatchObject({ name: 'ReauthRequiredError', providerCode: 'HOST_NOT_ALLOWED' });
  });
});
