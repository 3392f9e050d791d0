import { createServer, type AddressInfo, type Server } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ProviderRefusedError, ReauthRequiredError } from '../port';
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

  describe("the server's SIZE (RFC 1870)", () => {
    let peer: Server;
    let commands: string[];
    /** a scripted SMTP peer that advertises SIZE 1000 and takes anything under it */
    beforeEach(async () => {
      commands = [];
      peer = createServer((sock) => {
        sock.write('220 peer ESMTP\r\n');
        let buffered = '';
        let inData = false;
        sock.on('data', (d: Buffer) => {
          buffered += d.toString('latin1');
          let i: number;
          while ((i = buffered.indexOf('\r\n')) >= 0) {
            const line = buffered.slice(0, i);
            buffered = buffered.slice(i + 2);
            if (inData) {
              if (line === '.') {
                inData = false;
                sock.write('250 2.0.0 queued\r\n');
              }
              continue;
            }
            commands.push(line.split(' ')[0].toUpperCase());
            if (/^EHLO/i.test(line)) sock.write('250-peer\r\n250-SIZE 1000\r\n250 8BITMIME\r\n');
            else if (/^DATA/i.test(line)) {
              inData = true;
              sock.write('354 go ahead\r\n');
            } else if (/^QUIT/i.test(line)) sock.end('221 bye\r\n');
            else sock.write('250 OK\r\n');
          }
        });
      });
      await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    });
    afterEach(() => new Promise<void>((resolve) => peer.close(() => resolve())));

    const send = (size: number) =>
      sendRawMail(
        server({ host: '127.0.0.1', port: (peer.address() as AddressInfo).port, security: 'none' }),
        { allowPrivateHosts: true },
        { from: 'a@example.test', to: ['b@example.test'] },
        Buffer.alloc(size, 'a'),
        { resolveHost: () => Promise.resolve('127.0.0.1') },
      );

    it('a mail over it is refused with the reason before MAIL FROM: nothing is sent', async () => {
      const err = (await send(1001).catch((e: unknown) => e)) as ProviderRefusedError;
      expect(err).toBeInstanceOf(ProviderRefusedError);
      expect(err).toMatchObject({ status: 413, code: 'MESSAGE_TOO_LARGE' });
      expect(err.message).toBe(
        'the mail is 1001 bytes once encoded, and the SMTP server takes at most 1000 (the SIZE it advertises); nothing was sent',
      );
      expect(commands).not.toContain('MAIL');
      expect(commands).not.toContain('DATA');
    });

    it('a mail within it goes, its size announced in MAIL FROM', async () => {
      await send(900);
      expect(commands).toEqual(expect.arrayContaining(['EHLO', 'MAIL', 'RCPT', 'DATA']));
    });
  });
});
